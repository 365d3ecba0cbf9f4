"""What a render would generate, and why: content keys, staleness reasons, the budget check.

A scene's key hashes its compiled task (without ``taskUUID``), its local first-frame image,
its source's key and what would make it (the *maker*: ``emulator``, ``draft`` or ``runware``).
A scene is up to date when the lock's take has that key, continues from the source's chosen
take, and its file is on disk; or when any earlier take made from exactly the same content
exists (reverting a change costs nothing).

Makers rank ``runware`` > ``emulator`` > ``draft``: a render accepts takes of its own maker or a
better one, so a placeholder never passes for a real take, a ``--draft`` take never passes for a
full one, and a real take is never thrown away by a later offline render.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from storyboard.errors import BudgetError, ComposeError, StoryboardError
from storyboard.files import resolve_inside
from storyboard.generate.integrity import sha256_file
from storyboard.generate.state import (
    DRAFT,
    EMULATOR,
    MAKER_REASONS,
    RUNWARE,
    BuildState,
    JournalTask,
    Take,
    lock_name,
    read_lock,
)
from storyboard.money import usd
from storyboard.plan.compile import Plan, Task, node_name

from .inputs import OUTPUT_ANY, made_from
from .picks import chosen, picked_reasons, was_chosen

FIELD_REASONS = {
    "positivePrompt": "prompt changed",
    "duration": "duration changed",
    "width": "size changed",
    "height": "size changed",
    "numberResults": "number of takes changed",
    "model": "model changed",
    "inputs": "continuity or first frame changed",
}


@dataclass
class Assessment:
    """What a render would do with one scene, and why."""

    scene: str
    key: str
    stale: bool
    reasons: list[str] = field(default_factory=list)
    use: Take | None = None  # the take that makes the cut when not stale
    redownload: Take | None = None  # the lock's take, whose file is missing: fetch it again
    cost: float = 0.0
    locked: Take | None = None  # what storyboard.lock has now
    # hostile H18: this very content came back flagged NSFW (paid, kept as this take): a render
    # does not buy it again; pick it, change the prompt, or --retake
    flagged: Take | None = None

    @property
    def action(self) -> str:
        if self.stale and self.flagged is not None:
            return f"flagged: take {self.flagged.n} kept"
        if self.stale:
            return "generate"
        if self.redownload is not None:
            return "re-download"
        if self.use is not None and self.use.scene != self.scene:
            return f"reuse {self.use.scene} take {self.use.n}"  # copied in, free
        if self.use is not None and (
            self.locked is None or self.locked.video_uuid != self.use.video_uuid
        ):
            return f"reuse take {self.use.n}"
        return "up to date"


def first_frame_hash(plan: Plan, task: Task) -> str | None:
    if task.first_frame is None or task.first_frame.startswith("https://"):
        return None
    p = resolve_inside(plan.project.root, task.first_frame)
    return sha256_file(p) if p and p.is_file() else None


MAKER_RANK = {DRAFT: 0, EMULATOR: 1, RUNWARE: 2}


def accepted_makers(maker: str) -> set[str]:
    """The makers whose takes a render by ``maker`` may use: its own and better ones."""
    rank = MAKER_RANK.get(maker, MAKER_RANK[RUNWARE])
    return {m for m, r in MAKER_RANK.items() if r >= rank}


def current_maker(draft: bool = False) -> str:
    """The maker a render would use now: ``runware`` with a key, else the emulator."""
    from .backend import BackendOptions

    opts = BackendOptions.from_env()
    opts.emulator_draft = draft
    return opts.maker


def scene_keys(plan: Plan, maker: str = RUNWARE) -> dict[str, str]:
    """Content key of every scene (sources first: they always come earlier in the film).

    Real takes keep the key they had before makers were recorded (no ``maker`` in the hash).
    """
    keys: dict[str, str] = {}
    for t in plan.nodes:
        keys[t.scene] = node_key(plan, t, keys, maker)
    return keys


def node_key(
    plan: Plan, t: Task, keys: dict[str, str], maker: str, rename: dict[str, str] | None = None
) -> str:
    """The content key of node ``t`` (``keys``: those of the nodes before it). ``rename``:
    the key it had when the nodes it waits for had other names (lines renumbered)."""
    req = {k: v for k, v in t.request.items() if k != "taskUUID"}
    if rename:
        req = json.loads(
            OUTPUT_ANY.sub(lambda m: f"${{{m[1]}:{rename.get(m[2], m[2])}}}", json.dumps(req))
        )
    payload: dict[str, object] = {
        "request": req,
        "first_frame": first_frame_hash(plan, t),
        "source": keys.get(t.continues) if t.continues else None,
    }
    if maker != RUNWARE:
        payload["maker"] = maker
    if t.mode == "last_frame" and t.source is not None:  # trim-aware last frame (issue 15)
        src = next((s for s in plan.project.board.scenes if s.id == t.source), None)
        if src is not None and src.trim is not None and src.trim.out is not None:
            payload["source_out"] = src.trim.out
    if t.end_frame and not t.end_frame.startswith("https://"):
        p = resolve_inside(plan.project.root, t.end_frame)
        payload["end_frame"] = sha256_file(p) if p and p.is_file() else None
    if t.waits:  # the nodes whose takes it sends (a board, the cast's sheets)
        payload["inputs"] = {(rename or {}).get(w, w): keys.get(w) for w in t.waits}
    if t.files:  # project pictures it sends (the cast's own images)
        found = {f: resolve_inside(plan.project.root, f) for f in t.files}
        payload["files"] = {
            f: sha256_file(p) if p and p.is_file() else None for f, p in found.items()
        }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:32]


def _renumbered(
    plan: Plan,
    state: BuildState,
    t: Task,
    keys_by_maker: dict[str, dict[str, str]],
    expected_src: str | None,
) -> Take | None:
    """The newest usable take of lip sync ``t`` that is :func:`renumbered_same` as it is now."""
    for take in reversed(state.takes(t.scene)):
        if (
            not take.nsfw
            and renumbered_same(plan, t, take, keys_by_maker, expected_src)
            and (state.file_ok(take) or state.fetchable(take))
        ):
            return take
    return None


def renumbered_same(
    plan: Plan,
    t: Task,
    take: Take,
    keys_by_maker: dict[str, dict[str, str]],
    expected_src: str | None,
    same_takes: bool = True,
) -> bool:
    """Whether ``take`` of lip sync ``t`` was made from the same clip and the same audio, in
    the same order, when the lines it sends had other numbers (a line it does not send, a
    voice not in the picture, inserted before them or taken out) or are copies of the same
    sound: the same request to the service, so it is kept, not bought again (it records its
    lines by their numbers and their takes' own identities). ``same_takes=False``: whatever
    takes it was made from (``--keep-downstream`` keeps it over a retaken line)."""
    if (
        not t.scene.startswith("lipsync:")
        or expected_src is None
        or "=" not in expected_src
        or not take.source_take
        or take.maker not in keys_by_maker
    ):
        return False
    now = [part.partition("=")[::2] for part in expected_src.split(";")]
    old = [part.partition("=")[::2] for part in take.source_take.split(";")]
    if len(old) != len(now):
        return False
    rename: dict[str, str] = {}
    for (was, was_uid), (name, uid) in zip(old, now, strict=True):
        if was.startswith("line:") != name.startswith("line:") or (
            same_takes and was_uid.partition("@")[0] != uid.partition("@")[0]  # or its copy
        ):
            return False
        if was != name:
            rename[name] = was
    keys = keys_by_maker[take.maker]
    return take.key == node_key(plan, t, keys, take.maker, rename)


def assess(
    plan: Plan,
    state: BuildState,
    retake: list[str] | None = None,
    keep_downstream: bool = False,
    maker: str | None = None,
) -> dict[str, Assessment]:
    """Decide, for each scene, whether a render generates it and why.

    ``maker`` is what the render would generate with (default: :func:`current_maker`).
    """
    retake = list(retake or [])
    plan.require_scenes(retake, "--retake")
    maker = maker or current_maker()
    accepted = accepted_makers(maker)
    keys_by_maker = {m: scene_keys(plan, m) for m in accepted}
    keys = keys_by_maker[maker]
    out: dict[str, Assessment] = {}
    retake = [node_name(r) for r in retake]

    def use_of(name: str) -> str | None:
        found = out.get(name)
        return found.use.video_uuid if found and found.use else None

    moved = _moved_lines(plan, state, keys_by_maker, maker)
    for t in plan.nodes:
        key = keys[t.scene]
        a = Assessment(t.scene, key, False, cost=t.cost)
        deps = t.depends_on
        expected_src = made_from(t, use_of)
        lock = state.lock.get(t.scene)
        a.locked = lock
        lock_key = keys_by_maker[lock.maker][t.scene] if lock and lock.maker in accepted else None
        # --keep-downstream keeps what was made from a source made again: the same content
        # apart from its sources (a lip sync whose lines were renumbered too: hostile helper-61)
        kept_downstream = (
            keep_downstream
            and lock is not None
            and (
                lock.key == lock_key
                or renumbered_same(plan, t, lock, keys_by_maker, expected_src, same_takes=False)
            )
        )
        if t.scene in retake:
            a.reasons.append("retake requested")
        if lock is not None and lock.maker not in accepted:
            # a --draft or placeholder take in the cut (picked back, or an earlier render's):
            # the scene's current take of this content, already made, takes its place for
            # nothing (hostile helper-47: a new one was bought); else it is made again
            if _cached(state, t.scene, keys_by_maker, expected_src) is None:
                a.reasons.append(MAKER_REASONS[lock.maker])
            else:
                lock = None
        for src in deps:
            src_a = out.get(src)
            if src_a is not None and src_a.stale and not kept_downstream:
                what = "source" if src == t.continues else "input"
                a.reasons.append(f"{what} '{src}' will be re-generated")
        if not a.reasons and t.scene in moved and t.scene not in retake:
            # a line renumbered: the take its words had in the cut, under their old number
            a.use = moved[t.scene]
            if not state.file_ok(a.use):
                a.redownload = a.use  # fetched again, then copied in: never bought again
        elif not a.reasons:
            # the take chosen (picked, or put in the cut by a render) for the scene as it is now
            picked = chosen(state, t.scene, _keys_best_first(keys_by_maker, t.scene), expected_src)
            if picked is not None and picked.maker not in accepted:
                picked = None  # a --draft or placeholder take picked: not for this render
            if lock is not None and (
                kept_downstream
                or (lock.key == lock_key and (not deps or lock.source_take == expected_src))
                or (picked is not None and picked.video_uuid == lock.video_uuid)
            ):
                if state.file_ok(lock):
                    a.use = lock
                else:
                    known = lock
                    if not lock.url:  # the journal's URL for it (hostile helper-55: a lock
                        # entry without one had a paid take bought again)
                        kept = state.take_by_video(lock.video_uuid)
                        if kept is not None and kept.scene == t.scene and kept.url:
                            known = dataclasses.replace(lock, url=kept.url)
                    if state.fetchable(known):
                        a.use = a.redownload = known
                    else:  # a placeholder whose emulator is gone: made again, for nothing
                        a.reasons.append("file missing")
            elif picked is not None:
                a.use = picked
                if state.fetchable(picked):
                    a.redownload = picked
            else:
                cached = _cached(state, t.scene, keys_by_maker, expected_src)
                if cached is None and t.scene.startswith("line:") and t.scene not in retake:
                    # a line renumbered by one inserted before it: its words' take, under the
                    # number they had, is copied in for nothing (hostile helper-47: re-voiced)
                    for k in _keys_best_first(keys_by_maker, t.scene):
                        cached = state.take_of_other_node("line:", t.scene, k, expected_src)
                        if cached is not None:
                            break
                if cached is None and t.scene.startswith("lipsync:") and t.scene not in retake:
                    cached = _renumbered(plan, state, t, keys_by_maker, expected_src)
                if cached is not None:
                    a.use = cached
                    if state.fetchable(cached):  # its file is gone: fetched, not bought again
                        a.redownload = cached
                elif lock is None:
                    a.reasons.append("no take yet")
                elif lock.key != lock_key:
                    why = _diff_reasons(state, lock, t, plan)
                    a.reasons.extend(picked_reasons(lock, why) if was_chosen(state, lock) else why)
                else:
                    a.reasons.append(
                        "source take changed" if not t.waits else "an input's chosen take changed"
                    )
        a.stale = bool(a.reasons)
        if a.stale:
            a.use = None
            regenerated = any(r.endswith("will be re-generated") for r in a.reasons)
            if t.scene not in retake and not regenerated:
                a.flagged = state.flagged_take(t.scene, key, expected_src, maker)
        out[t.scene] = a
    return out


def _moved_lines(
    plan: Plan, state: BuildState, keys_by_maker: dict[str, dict[str, str]], maker: str
) -> dict[str, Take]:
    """Each spoken line that the cut had under another number (a line inserted before it,
    or taken out, in its scene): its new node -> the take its words had in the cut. The lock's
    lines and the plan's, scene by scene, are aligned by their words' keys, so two lines with
    the same words keep their own takes in order, and a retake in the cut follows its line
    (hostile helper-58: identical lines swapped their sound and the lip sync was bought again;
    undoing an insertion brought back the take the retake had replaced)."""
    import difflib

    new: dict[str, list[str]] = {}
    for t in plan.nodes:
        if t.scene.startswith("line:"):
            new.setdefault(t.scene.rpartition("/")[0], []).append(t.scene)
    out: dict[str, Take] = {}
    main: dict[str, Take] | None = None

    def lines_of(lock: dict[str, Take], prefix: str) -> list[tuple[str, Take]]:
        return sorted(
            (
                (n, take)
                for n, take in lock.items()
                if n.rpartition("/")[0] == prefix and n.rpartition("/")[2].isdigit()
            ),
            key=lambda e: int(e[0].rpartition("/")[2]),
        )

    # the lines of scenes no longer in the storyboard: a renamed scene's, under its old name
    orphans = sorted(
        {
            n.rpartition("/")[0]
            for n in state.lock
            if n.startswith("line:") and n.rpartition("/")[0] not in new
        }
    )
    for prefix, names in new.items():

        def token(take: Take, names: list[str] = names) -> str:
            """The old take's words as the current maker's key (their maker's key found)."""
            keys = keys_by_maker.get(take.maker)
            for n in names:
                if keys is not None and keys.get(n) == take.key:
                    return keys_by_maker[maker][n]
            return f"old:{take.key}"

        b = [keys_by_maker[maker][n] for n in names]
        olds = lines_of(state.lock, prefix)
        if not olds and state.lock_path.name != lock_name():
            # a variant's film that has no lines of this scene in its cut yet: the main
            # film's are where they come from (hostile helper-59: two lines with the same
            # words got one take, and the lip sync the main film has was bought again)
            if main is None:
                try:
                    main = read_lock(state.root, state.root / lock_name())
                except StoryboardError:
                    main = {}
            olds = lines_of(main, prefix)
        if not olds and orphans:
            # the scene renamed: the old name whose lines say most of these words (hostile
            # helper-61: both lines with the same words got the newest take of them, and a
            # line whose file was gone was bought again, not fetched)
            def shared(old: str, b: list[str] = b) -> int:
                words = [token(take) for _, take in lines_of(state.lock, old)]
                return sum(1 for w in words if w in b)

            best = max(orphans, key=shared)
            if shared(best):
                olds = lines_of(state.lock, best)
        if not olds:
            continue
        a = [token(take) for _, take in olds]
        matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
        for block in matcher.get_matching_blocks():
            for k in range(block.size):
                was, take = olds[block.a + k]
                name = names[block.b + k]
                if (
                    name != was
                    and not take.nsfw
                    and take.maker in keys_by_maker
                    and take.scene != name
                    and (state.file_ok(take) or state.fetchable(take))
                ):
                    # the line's own take of that very sound, where it had one (a line taken
                    # out again): no second copy, and what was made from it still matches
                    own = [
                        t
                        for t in state.takes(name)
                        if t.service_uuid == take.service_uuid and not t.nsfw and state.file_ok(t)
                    ]
                    out[name] = own[-1] if own else take
    return out


def cut_lock(plan: Plan, state: BuildState) -> tuple[dict[str, Take], dict[str, str]]:
    """The lock as the cut reads it now, before a render, and the spoken lines it leaves
    out, each with why: every line plays the take a render would put in the cut for it as it
    is now (``status`` names it), its words' take wherever they were (a line inserted, taken
    out, swapped or moved to another scene, the scene renamed, a take picked since), and a
    line whose words or voice changed plays nothing, said, not the take of other words or of
    another voice; a line no longer in the storyboard is not in the film's key (hostile
    helpers 61 and 64: another speaker's take played under a caption, a line went silent with
    "no take yet", and the film ``status`` described was composed again by the next render).
    Takes of every maker count (a --draft render's, the emulator's)."""
    lock = dict(state.lock)
    lines = [t.scene for t in plan.nodes if t.scene.startswith("line:")]
    if not lines and not any(n.startswith("line:") for n in lock):
        return lock, {}
    for name in [n for n in lock if n.startswith("line:")]:
        lock.pop(name)
    found = assess(plan, state, maker=DRAFT)
    left_out: dict[str, str] = {}
    for name in lines:
        a = found[name]
        if not a.stale and a.use is not None and state.file_ok(a.use):
            lock[name] = a.use
        elif a.stale and state.lock.get(name) is not None:
            left_out[name] = ", ".join(a.reasons)
        elif a.use is not None:
            left_out[name] = "its take is to be fetched again"
    return lock, left_out


def _keys_best_first(keys_by_maker: dict[str, dict[str, str]], scene: str) -> list[str]:
    return [
        keys_by_maker[m][scene]
        for m in sorted(keys_by_maker, key=MAKER_RANK.__getitem__, reverse=True)
    ]


def _cached(
    state: BuildState, scene: str, keys_by_maker: dict[str, dict[str, str]], src: str | None
) -> Take | None:
    """The best earlier take of exactly this content: the best maker first, then the newest."""
    for m in sorted(keys_by_maker, key=MAKER_RANK.__getitem__, reverse=True):
        take = state.cached_take(scene, keys_by_maker[m][scene], src, maker=m)
        if take is not None:
            return take
    return None


def _diff_reasons(state: BuildState, lock: Take, task: Task, plan: Plan) -> list[str]:
    old = state.task(lock.task_uuid)
    if old is None:
        return ["storyboard changed"]
    reasons: list[str] = []
    for k, v in task.request.items():
        if k in ("taskUUID", "inputs"):
            continue
        if old.request.get(k) != v:
            reasons.append(FIELD_REASONS.get(k, f"{k} changed"))
    old_inputs = {k: v for k, v in (old.request.get("inputs") or {}).items()}
    new_inputs = task.request.get("inputs") or {}
    if set(old_inputs) != set(new_inputs) or (
        "frameImages" in new_inputs
        and new_inputs["frameImages"][0]["image"].startswith("https")
        and old_inputs.get("frameImages") != new_inputs["frameImages"]
    ):
        reasons.append("continuity or first frame changed")
    if not reasons and task.first_frame and not task.first_frame.startswith("https"):
        reasons.append("first frame image changed")
    if not reasons and task.waits:
        reasons.append(f"an input changed ({', '.join(task.waits)})")
    if not reasons:
        reasons.append("source scene changed" if task.continues else "storyboard changed")
    return list(dict.fromkeys(reasons))


def stale_scenes(
    plan: Plan,
    retake: list[str] | None = None,
    keep_downstream: bool = False,
    maker: str | None = None,
) -> set[str]:
    """Scenes a render would generate (for ``plan``); everything when nothing was built yet."""
    return render_sets(plan, retake, keep_downstream, maker)[0]


def render_sets(
    plan: Plan,
    retake: list[str] | None = None,
    keep_downstream: bool = False,
    maker: str | None = None,
) -> tuple[set[str], set[str]]:
    """The scenes a render would generate, and those whose take's file it would fetch again
    (hostile helper-55: `plan` called those up to date where `status` said re-download)."""
    build = plan.project.root / "build" / "journal.sqlite"
    variant = plan.project.variant
    if not build.exists() and not (plan.project.root / lock_name(variant)).exists():
        return {t.scene for t in plan.nodes}, set()
    state = BuildState(plan.project.root, variant=variant)
    try:
        found = assess(plan, state, retake, keep_downstream, maker)
        stale = {s for s, a in found.items() if a.stale and a.flagged is None}  # H18
        return stale, {s for s, a in found.items() if not a.stale and a.redownload is not None}
    finally:
        state.close()


def check_budget_amount(budget: float | None) -> None:
    """Refuse a ``--budget`` that is not a finite amount of 0 or more (nan would allow all)."""
    if budget is not None and not (budget >= 0 and budget < float("inf")):  # nan fails both
        raise BudgetError(f"--budget must be an amount of 0 or more dollars, got {budget:g}")


def already_paid(state: BuildState, assessments: dict[str, Assessment]) -> set[str]:
    """Stale nodes whose task the service already accepted (paid) and a render will collect,
    not buy again: they cost the next render nothing. A ``pending`` task (sending it was never
    confirmed) is not among them: sending it again may still be charged."""
    accepted = {t.key for t in state.uncollected() if t.state in ("submitted", "done")}
    return {
        s
        for s, a in assessments.items()
        if a.stale and (a.key in accepted or a.flagged is not None)  # H18: not bought again
    }


def unsent(
    state: BuildState, assessments: dict[str, Assessment], only: set[str] | None = None
) -> list[JournalTask]:
    """``pending`` tasks (journaled, sending them never confirmed) of the content an up-to-date
    node has now (``only``: among these nodes): an interrupted ``--retake``. No generation of
    the node resumes them, so the render sends each again with its own taskUUID (the service
    refuses a second one: paid at most once) and keeps its clip as a take. Their price is an
    upper bound: nothing when the first send did arrive (it was charged then)."""
    return [
        t
        for t in state.uncollected()
        if t.state == "pending"
        and (a := assessments.get(t.scene)) is not None
        and not a.stale
        and a.key == t.key
        and (only is None or t.scene in only)
    ]


def maybe_sent(
    state: BuildState, assessments: dict[str, Assessment]
) -> dict[str, list[tuple[str, float]]]:
    """Each node's ``pending`` tasks (maybe never sent, so not paid yet) in words, with what
    the next render may pay for them besides the node's own generation (an upper bound)."""
    resend = {t.task_uuid for t in unsent(state, assessments)}
    out: dict[str, list[tuple[str, float]]] = {}
    for t in state.uncollected():
        a = assessments.get(t.scene)
        if t.state != "pending" or a is None:
            continue
        uid, price = t.task_uuid[:8], 0.0
        if t.task_uuid in resend:
            price = t.price
            why = (
                f"retake task {uid} maybe never sent: the next render sends it again "
                f"(same taskUUID: paid at most once), up to {_usd(price)}"
            )
        elif a.key == t.key:
            why = f"task {uid} maybe never sent: the next render sends it again (same taskUUID)"
        else:
            why = (
                f"task {uid} of earlier content maybe never sent: the next render asks the "
                "service about it (paid only if it arrived)"
            )
        out.setdefault(t.scene, []).append((why, price))
    return out


def check_budget(
    plan: Plan,
    assessments: dict[str, Assessment],
    budget: float | None,
    only: set[str] | None = None,
    paid: set[str] | frozenset[str] = frozenset(),
    resend: list[JournalTask] | None = None,
) -> float:
    """What a render of the stale nodes (``only``: among these) costs, leaving out the ``paid``
    ones it collects and adding the ``resend`` tasks it sends again (:func:`unsent`); refuse
    it over budget."""
    check_budget_amount(budget)
    todo = [
        a
        for s, a in assessments.items()
        if a.stale and (only is None or s in only) and s not in paid
    ]
    resend = resend or []
    # to the ten-billionth: float noise off, a short line's $0.00001 kept (hostile helper-64)
    planned = round(sum(a.cost for a in todo) + sum(t.price for t in resend), 10)
    unpriced = [  # one already accepted is collected for nothing (hostile N13 F3)
        s
        for s in plan.unpriced
        if s in assessments
        and assessments[s].stale
        and (only is None or s in only)
        and s not in paid
    ]
    if budget is not None and unpriced:
        raise BudgetError(unpriced_message(plan, unpriced, "--budget cannot hold it"))
    if budget is not None and planned > budget + 1e-9:
        stale = ", ".join(
            [f"{a.scene} {_usd(a.cost)}" for a in todo]
            + [f"{t.scene} {_usd(t.price)} (task {t.task_uuid[:8]}, sent again)" for t in resend]
        )
        raise BudgetError(
            f"this render would cost {_usd(planned, budget)}, over the --budget of "
            f"{_usd(budget, planned)} ({stale}); nothing was spent"
        )
    return planned


def _usd(x: float, other: float | None = None) -> str:
    """Dollars as ``usd`` writes them, or to the hundredth of a cent where cents would hide the
    difference from ``other``."""
    if other is not None and f"{x:.2f}" == f"{other:.2f}" and abs(x - other) > 1e-9:
        return f"${x:.4f}" if x >= 0.0001 else usd(x)
    return usd(x)


def unpriced_message(plan: Plan, nodes: list[str], why: str) -> str:
    """One line naming the nodes no source prices, their models, and where their ``price:``
    goes; ``why``: what it stops (e.g. ``--budget cannot hold it``)."""
    named = ", ".join(f"{n} ({plan.node(n).model})" for n in nodes)
    return (
        f"no source gives the price of {named}, so {why}; set `price:` (USD per second you "
        f"expect) on {where_priced(plan, nodes)}; nothing was spent"
    )


def where_priced(plan: Plan, nodes: list[str]) -> str:
    """Where the storyboard takes the ``price:`` of each unpriced node: the scene, its sound
    entry, ``edit.music``, or the voice that speaks the line (``narrator``, ``cast.NAME.voice``)."""
    from storyboard.board.lines import all_lines

    speakers = {ln.node: ln.speaker for ln in all_lines(plan.project) if ln.speaker}
    where = []
    for n in nodes:
        if n.startswith("sfx:"):
            scene, k = n[4:].rsplit("/", 1)
            where.append(f"scene {scene}'s sounds entry {k} (or defaults.sounds)")
        elif n == "music":
            where.append("edit.music")
        elif n.startswith("line:"):
            who = speakers.get(n)
            where.append("narrator" if who == "narrator" else f"cast.{who}.voice")
        else:
            where.append(f"scene {n.split(':', 1)[-1]}")
    return ", ".join(dict.fromkeys(where))


def film_nodes(plan: Plan) -> list[str]:
    """The nodes whose takes play in the film: the clips, lines, lip syncs, effects and
    music (not the cast's sheets nor the boards, which only feed other tasks)."""
    return [t.scene for t in plan.nodes if not t.scene.startswith(("cast:", "board:"))]


def require_real_takes(state: BuildState, lock: Mapping[str, Take], nodes: list[str]) -> None:
    """With a real key, refuse to compose a cut holding a placeholder (emulator or draft) take:
    ``lock`` is the cut's (:func:`cut_lock`), ``nodes`` the film's (:func:`film_nodes`), so a
    line, an effect or the music made by the emulator is refused as a clip is (hostile
    helper-66: they went into a real film without a word).

    A take's provenance is the lock's and the journal's: a lock entry edited to say
    ``runware`` for a take the journal recorded from the emulator is still a placeholder
    (hostile helper-30)."""
    journal = {t.video_uuid: t.maker for t in state.all_takes()}
    bad = []
    for node in nodes:
        take = lock.get(node)
        if take is None:
            continue
        maker = take.maker if take.maker != RUNWARE else journal.get(take.video_uuid, RUNWARE)
        if maker != RUNWARE:
            bad.append(f"{node} (take {take.n}, {MAKER_REASONS[maker]})")
    if bad:
        raise ComposeError(
            "RUNWARE_API_KEY is set but the cut holds placeholder takes: "
            + ", ".join(bad)
            + "; run `storyboard render` to make them for real, or unset RUNWARE_API_KEY "
            "to compose the placeholder cut"
        )
