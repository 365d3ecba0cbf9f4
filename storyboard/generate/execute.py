"""Execute a plan: run its graph of tasks, generating what ``staleness`` found stale.

The executor schedules nodes (clips, cast sheets, boards) without knowing their kind: each waits
for the nodes it depends on, is journaled before it is submitted, and its results are kept as
takes. What differs by kind is asked of the node's adapter (``kinds.py``). Generation never pays
twice: an interrupted render resumes the journaled tasks instead of submitting new ones.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from storyboard.board.spec import display_path
from storyboard.errors import (
    NSFW_WORDS,
    GenerationError,
    SafetyError,
    StoryboardError,
    TaskNotFound,
)
from storyboard.files import shell_arg
from storyboard.generate.state import BuildState, JournalTask, Take
from storyboard.money import usd
from storyboard.plan.compile import Plan, Task

from .events import Progress
from .fetch import GONE, Fetcher, copy_take
from .inputs import made_from
from .kinds import adapter, adapter_for
from .picks import remember
from .protocol import VideoResult
from .resolve import Resolver
from .staleness import Assessment, renumbered_same, scene_keys

if TYPE_CHECKING:  # the client (and httpx) is imported only when a service is reached
    from .client import RunwareClient


@dataclass
class RenderOptions:
    jobs: int = 4
    retake: list[str] = field(default_factory=list)
    keep_downstream: bool = False
    budget: float | None = None
    dry_run: bool = False
    made_by: str | None = None  # recorded on every take: BackendOptions.made_by
    only: set[str] | None = None  # the nodes this render makes (None: the clips and their inputs)


@dataclass
class SceneOutcome:
    scene: str
    status: str  # cached | generated | re-downloaded | failed | skipped
    takes: list[Take] = field(default_factory=list)
    error: str | None = None
    cost: float = 0.0
    seconds: float = 0.0


@dataclass
class RenderResult:
    outcomes: dict[str, SceneOutcome]
    assessments: dict[str, Assessment]
    spent: float

    @property
    def failed(self) -> list[SceneOutcome]:
        return [o for o in self.outcomes.values() if o.status in ("failed", "skipped")]


class Executor(Fetcher, Resolver):
    """Runs one render of a plan against one client."""

    def __init__(
        self,
        plan: Plan,
        state: BuildState,
        client: RunwareClient | None,
        reporter: Progress,
        opts: RenderOptions,
    ):
        self.plan, self.state, self.client, self.rep, self.opts = (
            plan,
            state,
            client,
            reporter,
            opts,
        )
        self.root = plan.project.root
        self.chosen: dict[str, Take] = {}
        self.outcomes: dict[str, SceneOutcome] = {}
        only = opts.only if opts.only is not None else plan.wanted()
        self.nodes = [t for t in plan.nodes if t.scene in only]
        self.events = {t.scene: asyncio.Event() for t in self.nodes}
        self.sem = asyncio.Semaphore(max(1, opts.jobs))
        self.spent = 0.0
        self._uploads: dict[str, str] = {}
        self._tried: set[str] = set()  # tasks this render resumed or sent
        self._background: list[asyncio.Task[None]] = []
        if client is not None:
            client.on_wait = lambda scene, detail: reporter.update(scene, "retrying", detail)

    @property
    def api(self) -> RunwareClient:
        if self.client is None:
            raise StoryboardError(
                "internal: a scene needs the generation service, but none was started"
            )
        return self.client

    async def run(self, assessments: dict[str, Assessment]) -> RenderResult:
        self.assessments = assessments
        await asyncio.gather(*(self._scene(t) for t in self.nodes))
        if self.client is not None:
            await self._collect_strays()
        await asyncio.gather(*self._background, return_exceptions=True)
        order = [t.scene for t in self.plan.nodes]
        # re-read the lock: a pick made since this render read it must not be reverted
        before = dict(self.state.lock)
        self.state.lock = self.state.reload_lock()
        for scene, take in self.chosen.items():
            old = before.get(scene)
            if old is None or old.video_uuid != take.video_uuid:
                self.state.lock[scene] = take
                remember(self.state, scene, self.assessments[scene].key, take.source_take, take)
        if self.opts.keep_downstream:
            # kept takes now count as made from their sources' new takes
            made = {s for s, o in self.outcomes.items() if o.status == "generated"}
            keys: dict[str, dict[str, str]] = {}  # each maker's keys, computed once
            for t in self.nodes:
                kept = self.state.lock.get(t.scene)
                deps = t.depends_on
                if (
                    kept
                    and set(deps) & made
                    and all(d in self.chosen for d in deps)
                    and t.scene not in made
                ):
                    now = made_from(t, self._chosen_uuid)
                    if t.scene.startswith("lipsync:"):
                        # kept over lines that were renumbered: its key as they are numbered
                        # now, or the same keep next time buys it again (hostile helper-64)
                        if kept.maker not in keys:
                            keys[kept.maker] = scene_keys(self.plan, kept.maker)
                        own = keys[kept.maker]
                        if kept.key != own[t.scene] and renumbered_same(
                            self.plan, t, kept, {kept.maker: own}, now, same_takes=False
                        ):
                            kept.key = own[t.scene]
                    kept.source_take = now
                    # picking the source's new take again later brings this take back
                    key = self.assessments[t.scene].key
                    remember(self.state, t.scene, key, kept.source_take, kept)
        self.state.write_lock(order)
        return RenderResult(self.outcomes, assessments, self.spent)

    def _chosen_uuid(self, name: str) -> str | None:
        take = self.chosen.get(name)
        return take.video_uuid if take else None

    def _chosen_output(self, name: str) -> str | None:
        """The chosen take's output UUID as the service knows it (what a request sends)."""
        take = self.chosen.get(name)
        return take.service_uuid if take else None

    async def _scene(self, task: Task) -> None:
        scene = task.scene
        a = self.assessments[scene]
        start = time.monotonic()
        try:
            for src in task.depends_on:
                if not self.events[src].is_set():
                    self.rep.update(scene, "waiting", f"on {src}")
                await self.events[src].wait()
                if src not in self.chosen:
                    what = "source" if src == task.continues else "input"
                    self.outcomes[scene] = SceneOutcome(
                        scene, "skipped", error=f"{what} '{src}' failed"
                    )
                    self.rep.update(scene, "skipped", f"{what} '{src}' failed")
                    return
            if not a.stale and a.use is not None:
                if a.redownload is not None and not self.state.file_ok(a.redownload):
                    await self._redownload(a.redownload)  # never falls back to buying
                    got = a.redownload
                    if a.use.scene != scene:  # another line's take of these words: fetched
                        # again, then copied in (hostile helper-58: it was voiced again)
                        got = copy_take(self.state, self.root, scene, a.use)
                    self.chosen[scene] = got
                    self.outcomes[scene] = SceneOutcome(scene, "re-downloaded", [got])
                    self.rep.update(scene, "done", "re-downloaded (not paid again)")
                    return
                elif a.use.scene != scene:  # another line's take of these very words
                    own = copy_take(self.state, self.root, scene, a.use)
                    self.chosen[scene] = own
                    self.outcomes[scene] = SceneOutcome(scene, "cached", [own])
                    self.rep.update(
                        scene, "cached", f"take {own.n}: {a.use.scene}'s take {a.use.n}, copied"
                    )
                    return
                else:
                    self.chosen[scene] = a.use
                    self.outcomes[scene] = SceneOutcome(scene, "cached", [a.use])
                    self.rep.update(scene, "cached", f"take {a.use.n}")
                    return
            if a.flagged is not None:  # hostile H18: the same content is not bought again
                where = shell_arg(display_path(self.root))
                raise SafetyError(
                    f"{NSFW_WORDS} in an earlier render; it is kept as take {a.flagged.n}: "
                    f"`storyboard pick {where} {scene} {a.flagged.n}` to use it anyway, change "
                    f"the prompt, or `storyboard render {where} --retake {scene}` to buy a new "
                    "take",
                    scene=scene,
                    code="NSFWContent",
                )
            for why in a.reasons:
                if why.startswith("picked take"):
                    self.rep.note(f"{scene}: {why}; generating a new take")
            async with self.sem:
                takes, cost = await self._generate(task, a)
            self.outcomes[scene] = SceneOutcome(
                scene, "generated", takes, cost=cost, seconds=time.monotonic() - start
            )
            flagged = [t for t in takes if t.nsfw]
            usable = [t for t in takes if not t.nsfw]
            if usable:
                self.chosen[scene] = usable[0]
                self.rep.update(
                    scene,
                    "done",
                    f"take {usable[0].n}"
                    + (f" (+{len(usable) - 1} more)" if len(usable) > 1 else ""),
                )
            if flagged and not usable:
                raise SafetyError(
                    f"{NSFW_WORDS}; it is kept as take "
                    f"{flagged[0].n}: `storyboard pick {shell_arg(display_path(self.root))} "
                    f"{scene} {flagged[0].n}` to use "
                    "it anyway, or change the prompt",
                    scene=scene,
                    code="NSFWContent",
                )
        except Exception as e:  # noqa: BLE001 - one scene's failure never stops the others
            if isinstance(e, GenerationError) and e.scene is None:
                e.scene = scene
            if isinstance(e, StoryboardError):
                msg = str(e)
            else:  # not a failure we know: say what it was, keep going (the journal has the task)
                msg = f"unexpected {type(e).__name__}: {e}"
            prev = self.outcomes.get(scene)
            self.outcomes[scene] = SceneOutcome(
                scene,
                "failed",
                prev.takes if prev else [],
                error=msg,
                cost=prev.cost if prev else 0.0,
            )
            self.rep.update(scene, "failed", msg)
        finally:
            self.events[scene].set()

    async def _generate(self, task: Task, a: Assessment) -> tuple[list[Take], float]:
        scene = task.scene
        src_take = self.chosen.get(task.continues) if task.continues else None
        source_id = made_from(task, self._chosen_uuid)
        resumed = self.state.open_tasks(scene, a.key, source_id)
        jt = resumed[-1] if resumed else None
        while True:
            results: list[VideoResult] | None = None
            sent = jt is None or jt.state == "pending"  # else paid in an earlier render
            if jt is None:
                request = await self._resolve(task, src_take)
                uid = request["taskUUID"]
                self._tried.add(uid)  # this render's own: never "paid in an earlier render"
                self.state.record_task(uid, scene, a.key, source_id, request, estimate=task.cost)
                self.rep.update(scene, "submitted", f"task {uid[:8]}, {usd(task.cost)}")
                results = await self._submit(uid, request, task.number_results, scene)
            else:
                uid = jt.task_uuid
                self._tried.add(uid)
                self.rep.update(scene, "resuming", f"task {uid[:8]} from the journal")
                if jt.state == "done" and jt.results and self._lost_placeholders(jt):
                    jt = None  # a stopped emulator's placeholders: made again, free
                    continue
                if jt.state == "done" and jt.results:
                    results = [VideoResult.from_item(r) for r in jt.results]
                elif jt.state == "pending":  # maybe never sent: the same taskUUID cannot pay twice
                    results = await self._submit(uid, jt.request, task.number_results, scene)
            if results is None:
                try:
                    # accepted by an earlier render (not sent again by this one just now)
                    sent_at = jt.created_at if jt is not None and jt.state != "pending" else None
                    results = await self._await(uid, task.number_results, scene, sent_at)
                except TaskNotFound as e:
                    if jt is None or not e.final:
                        raise
                    jt = None  # the service has no such task (never charged): ask anew
                    continue
            break
        if sent:
            results, cost = self._spend(results, task.cost)
        else:  # its cost was counted by the render that sent it: none here (never "spent" twice)
            results, cost = _with_costs(results, task.cost), 0.0
        kind = adapter(task.kind)
        extend = task.duration if task.mode == "extend" else None
        try:
            takes = await self._download_all(
                scene,
                a.key,
                uid,
                results,
                src_take,
                kind.extension(task.request),
                extend,
                made_from=source_id,
                timed=kind.timed,
            )
        except GenerationError as e:
            if jt is None or e.status not in GONE or "retake requested" not in a.reasons:
                raise
            # retaken, and the paid results' link is still gone: the task is given up and one
            # new take bought, as asked (never without a --retake)
            self.state.mark(uid, "failed", error=f"its results are gone (HTTP {e.status})")
            self.rep.note(
                f"{scene}: the results of task {uid[:8]} are gone (HTTP {e.status} for their "
                "link); buying a new take, as --retake asks"
            )
            return await self._generate(task, a)
        return takes, cost

    def _lost_placeholders(self, jt: JournalTask) -> bool:
        """Whether a done task's results are placeholders of an emulator that has stopped
        (each keyless render starts its own): they can never be fetched, so the task is marked
        failed, and its node is made again at no cost (hostile helper-45: a render stopped
        while downloading left the project unrenderable, its tasks uncollected for ever)."""
        urls = [VideoResult.from_item(r).video_url for r in jt.results or []]
        if not urls or not all(self._stopped_emulator(u) for u in urls):
            return False
        self.state.mark(jt.task_uuid, "failed", error="placeholders of an emulator that stopped")
        self.rep.note(
            f"{jt.scene}: the placeholders of task {jt.task_uuid[:8]} went with the emulator "
            "that made them (it has stopped); made again, at no cost"
        )
        return True

    def _spend(self, results: list[VideoResult], planned: float) -> tuple[list[VideoResult], float]:
        """What this render paid for ``results`` (the service's figures, else the ``planned``
        cost: :func:`_with_costs`), counted in its spend; the results with their costs."""
        results = _with_costs(results, planned)
        cost = sum(r.cost or 0.0 for r in results)
        self.spent += cost
        self.rep.add_cost(cost)
        return results, cost

    async def _submit(
        self, uid: str, request: dict[str, Any], number_results: int, scene: str
    ) -> list[VideoResult] | None:
        """Send a journaled task; the results if the acknowledgment already has them all."""
        try:
            early = await self.api.submit(request, scene=scene)
        except GenerationError as e:
            if e.final:  # refused: never accepted, never charged
                self.state.mark(uid, "failed", error=str(e))
            else:
                e.message += (
                    "; the task stays in the journal: render again to send it again "
                    "(same taskUUID: never paid twice)"
                )
            raise
        self.state.mark(uid, "submitted")
        return early if len(early) >= number_results else None

    async def _await(
        self, uid: str, number_results: int, scene: str, sent_at: float | None = None
    ) -> list[VideoResult]:
        """Wait for an accepted task. Only the service's final answer marks it failed.

        ``sent_at``: when an earlier render journaled it. Asked of an emulator that started
        after that (each keyless render starts its own; a standalone one restarted), "not
        found" is final at once: it never had the task (left alone in round 11: the render
        waited the service's 30 s grace before making the scene again, free)."""
        self.rep.update(scene, "processing")
        started = await self.api.emulator_started() if sent_at is not None else None
        try:
            results = await self.api.wait(
                uid,
                number_results=number_results,
                scene=scene,
                on_status=lambda s: self.rep.update(scene, s),
                unknown_is_final=started is not None and sent_at is not None and sent_at < started,
            )
        except GenerationError as e:
            if e.final:
                self.state.mark(uid, "failed", error=str(e))
            else:
                e.message += (
                    "; the task stays in the journal: render again to collect it (not paid again)"
                )
            raise
        known = [r.cost for r in results if r.cost is not None]
        cost = sum(known) if known else None  # none given: the journal keeps the estimate
        self.state.mark(uid, "done", results=[r.to_json() for r in results], cost=cost)
        return results

    async def _collect_strays(self) -> None:
        """Collect tasks of earlier renders that no scene of this one claimed.

        An interrupted ``--retake``, or a scene changed while its task was in flight: the clips
        were paid for, so they are downloaded and kept as takes (the cut keeps its takes).
        A ``pending`` task (sending it was never confirmed) of the content its scene has now is
        sent again with its own taskUUID (the service refuses a second one: paid at most once);
        one of other content is only asked about, never sent, and one of a scene this render
        leaves out (``render --boards``) is left for a render that makes the scene.
        """
        strays = [t for t in self.state.uncollected() if t.task_uuid not in self._tried]
        jobs = []
        for jt in strays:
            send = jt.state == "pending" and self._current(jt)
            if send is None:
                continue
            self._tried.add(jt.task_uuid)
            jobs.append(self._collect(jt, send=send))
        await asyncio.gather(*jobs)

    def _current(self, jt: JournalTask) -> bool | None:
        """Whether a pending stray is of the content its scene has now (send it again); None:
        it is, but its scene is not made by this render or failed in it (leave it pending)."""
        a = self.assessments.get(jt.scene)
        if a is None or a.key != jt.key:
            return False  # other content, or a node the storyboard no longer has
        task = next((t for t in self.nodes if t.scene == jt.scene), None)
        if task is None or jt.scene not in self.chosen:
            return None
        if made_from(task, self._chosen_uuid) != jt.source_take:
            return False
        return True

    async def _collect(self, jt: JournalTask, send: bool = False) -> None:
        scene, uid = jt.scene, jt.task_uuid
        number_results = int(jt.request.get("numberResults", 1))
        try:
            async with self.sem:
                results: list[VideoResult] | None = None
                if jt.state == "done" and jt.results and self._lost_placeholders(jt):
                    return  # nothing to collect: its placeholders went with their emulator
                if jt.state == "done" and jt.results:
                    results = [VideoResult.from_item(r) for r in jt.results]
                elif send:
                    self.rep.update(scene, "submitted", f"task {uid[:8]} again (same taskUUID)")
                    results = await self._submit(uid, jt.request, number_results, scene)
                if results is None:
                    sent_at = None if send else jt.created_at
                    results = await self._await(uid, number_results, scene, sent_at)
                if send:
                    results, _ = self._spend(results, jt.estimate or 0.0)
                kind = adapter_for(str(jt.request.get("taskType")))
                takes = await self._download_all(
                    scene,
                    jt.key,
                    uid,
                    results,
                    None,
                    kind.extension(jt.request),
                    None,
                    made_from=jt.source_take,
                    timed=kind.timed,
                )
        except TaskNotFound as e:
            if not e.final:
                raise
            self.rep.note(
                f"{scene}: task {uid[:8]} from an earlier render is unknown to the service"
            )
            return
        except StoryboardError as e:
            self.rep.note(f"{scene}: could not collect task {uid[:8]} from an earlier render: {e}")
            return
        when = (
            "journaled in an earlier render and sent now (same taskUUID: paid once)"
            if send
            else "paid in an earlier render"
        )
        for t in takes:
            self.rep.note(
                f"{scene}: collected take {t.n} from task {uid[:8]}, {when}; "
                f"`storyboard pick {shell_arg(display_path(self.root))} {scene} {t.n}` to use it"
            )


def needs_service(
    state: BuildState, assessments: dict[str, Assessment], only: set[str] | None = None
) -> bool:
    """Whether a render must reach the service (``only``: for these nodes)."""
    todo = (a for s, a in assessments.items() if only is None or s in only)
    return any((a.stale and a.flagged is None) or a.redownload is not None for a in todo) or bool(
        state.uncollected()
    )


async def render(
    plan: Plan,
    state: BuildState,
    client: RunwareClient | None,
    reporter: Progress,
    opts: RenderOptions,
    assessments: dict[str, Assessment],
) -> RenderResult:
    """Generate what is stale; returns per-scene outcomes. Never raises for one scene's failure.

    ``client`` may be None when nothing is stale (no service is started for a no-op render).
    """
    ex = Executor(plan, state, client, reporter, opts)
    return await ex.run(assessments)


def _with_costs(results: list[VideoResult], planned: float) -> list[VideoResult]:
    """``results``, each with a cost: where the service gave none at all (the emulator, for a
    model no source prices: M4), each its share of the ``planned`` cost (the catalogue's or
    the storyboard's ``price:``), so a placeholder says what it would cost as the plan did."""
    if not results or any(r.cost is not None for r in results) or planned <= 0:
        return results
    share = round(planned / len(results), 8)
    return [replace(r, cost=share) for r in results]
