"""Picks that stick: which take of a scene was chosen for which version of the scene.

A choice is recorded against the scene's content key (and the source take it continued from)
when ``pick`` puts a take in the cut and when a render puts a new take there. While the scene
keeps that key the chosen take stays in the cut, even when newer takes of the same content
exist; when the scene changes, a new take is made (or the one chosen for the new content is
found again), and changing the scene back brings the earlier choice back: a size round-trip
ends with the take that was picked before it.

Stored in the journal (``build/journal.sqlite``, table ``picks``).
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storyboard.errors import StoryboardError
from storyboard.plan.compile import Plan, node_name

from .inputs import made_from
from .journalrows import PICK_COLUMNS, check_pick, pick_row
from .state import BuildState, Take

SCHEMA = """
CREATE TABLE IF NOT EXISTS picks (
    scene       TEXT NOT NULL,
    key         TEXT NOT NULL,
    source_take TEXT NOT NULL,          -- '' for a scene without a source
    video_uuid  TEXT NOT NULL,
    picked_at   REAL NOT NULL,
    by_pick     INTEGER NOT NULL,          -- 1: `storyboard pick`; 0: a render's new take
    PRIMARY KEY (scene, key, source_take)
);
"""


_CHECKED: weakref.WeakSet[BuildState] = weakref.WeakSet()  # states whose picks were read


def _db(state: BuildState) -> Any:
    """The journal, its ``picks`` rows checked once per state (issue 15: hand-edited rows)."""
    try:
        state.db.executescript(SCHEMA)
        if state not in _CHECKED:
            for r in state.db.execute(f"SELECT {', '.join(PICK_COLUMNS)} FROM picks"):
                check_pick(state.db, r)
            _no_stray_pick(state)
            _CHECKED.add(state)
    except sqlite3.Error as e:
        raise StoryboardError(f"{state.build / 'journal.sqlite'}: cannot read picks: {e}") from None
    return state.db


def _no_stray_pick(state: BuildState) -> None:
    """Every pick names a take of its own scene: takes are never removed from the journal, so
    one that does not is a hand edit (hostile helper-41: it was skipped without a word)."""
    columns = ", ".join(f"p.{c}" for c in PICK_COLUMNS)
    r = state.db.execute(
        f"SELECT {columns} FROM picks p LEFT JOIN takes t "
        "ON t.video_uuid = p.video_uuid AND t.scene = p.scene WHERE t.video_uuid IS NULL LIMIT 1"
    ).fetchone()
    if r is not None:
        raise pick_row(state.db, r).fail("video_uuid", f"the video_uuid of a take of {r[0]!r}")


def remember(
    state: BuildState,
    scene: str,
    key: str,
    source_take: str | None,
    take: Take,
    by_pick: bool = False,
) -> None:
    """Record ``take`` as the choice for ``scene`` while it has ``key`` (and that source)."""
    try:
        _db(state).execute(
            "INSERT OR REPLACE INTO picks VALUES (?,?,?,?,?,?)",
            (scene, key, source_take or "", take.video_uuid, time.time(), int(by_pick)),
        )
    except sqlite3.Error as e:
        raise StoryboardError(
            f"{state.build / 'journal.sqlite'}: cannot record the pick: {e}"
        ) from None


def chosen(state: BuildState, scene: str, keys: list[str], source_take: str | None) -> Take | None:
    """The take chosen for this scene at one of ``keys`` (first match) from this source."""
    db = _db(state)
    for key in keys:
        r = db.execute(
            "SELECT video_uuid FROM picks WHERE scene=? AND key=? AND source_take=?",
            (scene, key, source_take or ""),
        ).fetchone()
        if r is None:
            continue
        take = state.take_by_video(r[0])  # of this scene: checked with the table (_db)
        if (
            take is not None
            and take.scene == scene
            and (state.file_ok(take) or state.fetchable(take))
        ):
            return take
    return None


def was_chosen(state: BuildState, take: Take, by_pick: bool = True) -> bool:
    """Whether ``take`` was picked for its scene (``pick`` records with ``by_pick``)."""
    r = (
        _db(state)
        .execute(
            "SELECT 1 FROM picks WHERE scene=? AND video_uuid=? AND by_pick>=? LIMIT 1",
            (take.scene, take.video_uuid, int(by_pick)),
        )
        .fetchone()
    )
    return r is not None


def picked_reasons(take: Take, reasons: list[str]) -> list[str]:
    """``prompt changed`` -> ``picked take 1 was made from an older prompt``."""
    out = []
    for r in reasons:
        what = r.removesuffix(" changed")
        if what != r and what not in ("storyboard", "source scene"):
            out.append(f"picked take {take.n} was made from an older {what}")
        else:
            out.append(f"picked take {take.n}: {r}")
    return out


@dataclass
class PickResult:
    """What ``pick`` did and what it means for the rest of the film."""

    take: Take
    warnings: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # dependents a render would generate
    kept: list[str] = field(default_factory=list)  # dependents in the cut with takes made from it


def pick_take(
    plan: Plan, state: BuildState, scene: str, n: int, maker: str | None = None
) -> PickResult:
    """Put take ``n`` of ``scene`` in the cut and remember it for the scene as it is now."""
    from .staleness import accepted_makers, assess, current_maker, renumbered_same, scene_keys
    from .state import DRAFT, MAKER_REASONS

    plan.require_scenes([scene])
    scene = node_name(scene)
    takes = {t.n: t for t in state.takes(scene)}
    if n not in takes:
        have = ", ".join(str(k) for k in takes) or "none"
        raise StoryboardError(f"{scene}: no take {n} (takes: {have})")
    take = takes[n]
    maker = maker or current_maker()
    before = assess(plan, state, maker=maker)
    a = before[scene]
    task = plan.node(scene)
    src = task.continues

    def use_of(name: str) -> str | None:
        found = before[name].use
        return found.video_uuid if found else None

    expected_src = made_from(task, use_of)
    res = PickResult(take)
    unusable = take.maker not in accepted_makers(maker)  # a --draft or placeholder take
    # the take's key as its own maker hashed it: a paid take picked in a keyless or --draft
    # session has no maker in its key (hostile helper-55: "made from another version")
    keys_by_maker = {m: scene_keys(plan, m) for m in accepted_makers(maker)}
    own_key = (keys_by_maker.get(take.maker) or scene_keys(plan, take.maker)).get(scene)
    # a lip sync whose lines were only renumbered sends what it sent: the same version
    same = renumbered_same(plan, task, take, keys_by_maker, expected_src)
    if take.key != own_key and not unusable and not same:
        res.warnings.append(
            f"take {n} was made from another version of '{scene}' than the storyboard's now; "
            "it stays in the cut until the scene changes again"
        )
    if task.depends_on and take.source_take != expected_src and not same:
        what = (
            f"continue from the take of '{src}'"
            if src and not task.waits
            else (f"use the takes of {', '.join(task.depends_on)}")
        )
        res.warnings.append(f"take {n} does not {what} in the cut")
    if take.nsfw:
        res.warnings.append(f"take {n} was flagged NSFW by the provider")
    if not state.file_ok(take):
        res.warnings.append(
            f"take {n}'s file {take.file} is missing or does not match its sha256; "
            "render to fetch it again"
        )
    if scene.startswith("line:"):
        _lines_renumbered(plan, state, scene, before)
    remember(state, scene, a.key, expected_src, take, by_pick=True)
    state.lock[scene] = take
    state.write_lock([t.scene for t in plan.nodes])
    after = assess(plan, state, maker=maker)
    if unusable:  # hostile helper-47: it said "stays in the cut", and a render bought anew
        instead = after[scene].use
        how = "a render without --draft" if take.maker == DRAFT else "a render"
        res.warnings.append(
            f"take {n} was {MAKER_REASONS[take.maker]}: "
            + (
                f"{how} puts take {instead.n} back (already made: nothing is bought)"
                if instead is not None and instead.n != n
                else f"{how} makes a new take"
            )
            + (" and a --draft render keeps it" if take.maker == DRAFT else "")
        )
    wanted = plan.wanted()
    moved = False

    def in_cut(name: str) -> bool:
        """The take a render would use for ``name`` is the one in the lock (the chain the
        continuing scenes are judged on is the cut's own)."""
        use, locked = after[name].use, state.lock.get(name)
        return use is not None and locked is not None and use.video_uuid == locked.video_uuid

    for d in plan.downstream(scene):
        if d not in wanted and state.lock.get(d) is None:
            continue  # a board no clip uses and nobody made (issue 17): nothing to redo
        da = after[d]
        if da.stale:
            res.stale.append(d)
        elif da.use is not None:  # a take made from the pick: kept, reused or fetched again
            if not all(in_cut(s) for s in plan.node(d).depends_on):
                # judged on another chain than the cut's (hostile helper-54: a --draft take
                # picked, which a render replaces, so b and c were judged on take 1)
                continue
            res.kept.append(d)
            # in the cut with the pick, as a render would put it: `compose` then builds the
            # film `status` describes (hostile helper-53: the lock kept the take made from
            # the other take of this scene, and the film continued from a take not in it)
            old = state.lock.get(d)
            if old is None or old.video_uuid != da.use.video_uuid:
                state.lock[d] = da.use
                moved = True
    if moved:
        state.write_lock([t.scene for t in plan.nodes])
    return res


def _lines_renumbered(plan: Plan, state: BuildState, scene: str, before: dict[str, Any]) -> None:
    """The lines of ``scene``'s scene put under their numbers as they are now, as a render
    would (another line's take of their words copied in, free), before a pick of one of them:
    the lock then reads with the new numbers, and a render does not take the pick for the old
    line of that number and replace it (hostile helper-59: a pick made after a line was
    inserted, before any render, was silently replaced)."""
    from .fetch import copy_take

    prefix = scene.rpartition("/")[0] + "/"
    lines = {n: a for n, a in before.items() if n.startswith(prefix)}
    if not any(a.use is not None and a.use.scene != n for n, a in lines.items()):
        return  # not renumbered since the last render: the lock reads as it is
    for name, a in lines.items():
        if name == scene:
            continue  # the pick's own line: the caller puts the pick there
        if a.stale or a.use is None:  # new words (the line inserted): no take of them yet,
            state.lock.pop(name, None)  # and the one under this number said other words
        elif a.use.scene != name:
            if state.file_ok(a.use):  # else the next render fetches it again
                state.lock[name] = copy_take(state, plan.project.root, name, a.use)
        elif (locked := state.lock.get(name)) is None or locked.video_uuid != a.use.video_uuid:
            state.lock[name] = a.use


@dataclass
class TakeRow:
    """One take as ``takes`` lists it."""

    take: Take
    in_cut: bool
    model: str
    size: str
    prompt: str  # short digest and the prompt's start
    current: bool  # made from the scene as the storyboard has it now
    flags: list[str]


def _clip_size(state: BuildState, take: Take) -> str:
    """The size of a take's clip, probed (cached by content under ``build/media``); a sound has
    none (it was probed as a video, failed, and was probed again at every look)."""
    from storyboard.files import SOUND_SUFFIXES
    from storyboard.media.probe import probe_cached

    if Path(take.file).suffix.lower() in SOUND_SUFFIXES:
        return "-"
    path = state.root / take.file
    try:
        info = probe_cached([(path, take.media_key)], state.root / "build" / "media")[path]
    except (StoryboardError, OSError):
        return "-"
    return f"{info.width}x{info.height}"


def take_rows(plan: Plan, state: BuildState, scene: str, maker: str | None = None) -> list[TakeRow]:
    """Every take of ``scene`` with what it was made from and whether that is still current."""
    from .staleness import accepted_makers, current_maker, renumbered_same, scene_keys

    plan.require_scenes([scene])
    scene = node_name(scene)
    maker = maker or current_maker()
    keys_by_maker = {m: scene_keys(plan, m) for m in accepted_makers(maker)}
    current_keys = {keys[scene] for keys in keys_by_maker.values()}
    in_cut = state.lock.get(scene)
    task = plan.node(scene)

    def locked(name: str) -> str | None:
        found = state.lock.get(name)
        return found.video_uuid if found else None

    made = made_from(task, locked) if scene.startswith("lipsync:") else None
    rows = []
    for t in state.takes(scene):
        jt = state.task(t.task_uuid)
        req = jt.request if jt else {}
        prompt = str(req.get("positivePrompt", ""))
        digest = hashlib.sha256(prompt.encode()).hexdigest()[:8] if prompt else "-"
        start = prompt[:20] + ("..." if len(prompt) > 20 else "")
        size = f"{req['width']}x{req['height']}" if "width" in req and "height" in req else "-"
        if size == "-" and state.file_ok(t):  # sent with a frame image: the clip says
            size = _clip_size(state, t)
        flags = [f for f, on in (("missing", not state.file_ok(t)), ("NSFW", t.nsfw)) if on]
        if t.maker != "runware":
            flags.append(t.maker)
        rows.append(
            TakeRow(
                t,
                in_cut is not None and in_cut.video_uuid == t.video_uuid,
                str(req.get("model", "-")),
                size,
                f"{digest} {start}".strip(),
                t.key in current_keys or renumbered_same(plan, task, t, keys_by_maker, made),
                flags,
            )
        )
    return rows
