"""The render behind :meth:`storyboard.Project.render`: assess, check the budget, run, report."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from storyboard.board.assets import keep_checked_sounds
from storyboard.errors import StoryboardError
from storyboard.generate.backend import BackendOptions, open_client
from storyboard.generate.execute import RenderOptions, needs_service, render
from storyboard.generate.staleness import (
    already_paid,
    assess,
    check_budget,
    check_budget_amount,
    unsent,
)
from storyboard.generate.state import DRAFT, BuildState
from storyboard.money import usd
from storyboard.plan.compile import node_name

from .events import CallbackProgress
from .results import RenderResult, SceneResult
from .takes import _take_info

if TYPE_CHECKING:
    from storyboard.generate.execute import RenderResult as _Outcomes
    from storyboard.plan.compile import Plan, Task

    from .project import Project


@dataclass
class RenderRequest:
    """The options of one render (see :meth:`storyboard.Project.render`)."""

    retake: list[str] = field(default_factory=list)
    keep_downstream: bool = False
    budget: float | None = None
    jobs: int = 4
    backend: BackendOptions = field(default_factory=BackendOptions)
    wait: bool = True
    boards: bool = False  # only the cast sheets and the boards, no clip (issue 17)
    only_if_up_to_date: bool = False  # send, fetch, collect nothing (the no-op's rehearsal)


def check_budget_value(budget: float | None) -> None:
    """Refuse a ``--budget`` that is not a finite amount of dollars, 0 or more."""
    check_budget_amount(budget)


def check_jobs(jobs: int) -> None:
    """Refuse (:class:`~storyboard.StoryboardError`) a number of parallel scenes below 1."""
    if jobs < 1:
        raise StoryboardError(f"--jobs: scenes generated at once is 1 or more, got {jobs}")


Known = tuple[str, Path, str | None, tuple[int, int] | None]
"""A take the emulator is told of: its UUID, file, ``outputs.videoId`` and the size asked for."""


@contextmanager
def local_emulator(
    opts: BackendOptions, account: Callable[[], Sequence[Known]] = tuple
) -> Iterator[str]:
    """Run the emulator in this process for a keyless render; yields its base URL.

    ``account``: the media earlier renders made (the project's takes), asked for only when the
    emulator starts: it knows them, so a task may send their UUIDs again (an extension, a lip
    sync), as on Runware."""
    from storyboard.emulator import Emulator, EmulatorConfig
    from storyboard.emulator.media import adopt

    with Emulator(EmulatorConfig(latency=opts.emulator_latency, draft=opts.emulator_draft)) as emu:
        for media_uuid, path, video_id, asked in account():
            adopt(emu, media_uuid, path, video_id=video_id, asked=asked)
        yield emu.base_url


def known_media(plan: Plan, state: BuildState) -> list[Known]:
    """Every intact take of the plan's nodes: (its UUID, file, videoId, size asked for); and
    of the spoken lines no longer in it, whose takes a render may copy into a line that says
    the same (a line renumbered, a scene renamed) and send to a lip sync."""
    known: list[Known] = []
    names = {task.scene for task in plan.nodes}
    for take in state.all_takes():
        if take.scene not in names and take.scene.startswith("line:") and state.file_ok(take):
            path = state.path_of(take)
            if path is not None and take.video_uuid:
                known.append((take.service_uuid, path, None, None))
    for task in plan.nodes:
        w, h = task.request.get("width"), task.request.get("height")
        asked = (w, h) if isinstance(w, int) and isinstance(h, int) else None
        for take in state.takes(task.scene):
            path = state.path_of(take)
            if path is not None and take.video_uuid and state.file_ok(take):
                # as the service knows it: a line's copy under a new number is UUID@NODE
                # (hostile helper-56: a renamed lip-synced scene's lip sync refused for ever)
                known.append((take.service_uuid, path, take.video_id, asked))
    return known


async def render_async(
    project: Project, req: RenderRequest, progress: CallbackProgress
) -> RenderResult:
    """Generate what is stale; never raises for one scene's failure (see the result)."""
    check_jobs(req.jobs)
    plan = project._compiled()
    t0 = time.monotonic()
    backend = req.backend
    state = BuildState(
        project.root,
        writer="render",
        wait=req.wait,
        on_wait=progress.log,
        variant=project._spec.variant,
    )
    keep_checked_sounds(project.root)  # build/ exists now
    try:
        found = assess(plan, state, req.retake, req.keep_downstream, backend.maker)
        only = plan.wanted(req.boards) | {node_name(r) for r in req.retake}
        # a flagged node (hostile H18) is stale but not bought: said as failed, not rendered
        stale = {s for s, a in found.items() if a.stale and s in only and a.flagged is None}
        if req.only_if_up_to_date and (
            any(found[s].stale for s in only) or needs_service(state, found, only)
        ):  # hostile3 N13: a $0 budget does not stop a model whose price is unknown
            raise StoryboardError("not up to date: nothing sent (asked only to check)")
        paid, resend = already_paid(state, found), unsent(state, found, only)
        planned = check_budget(plan, found, req.budget, only, paid, resend)
        if stale and backend.real_service:
            plan.require_available()  # a deactivated model: refuse before spending anything
        opts = RenderOptions(
            jobs=req.jobs,
            retake=req.retake,
            keep_downstream=req.keep_downstream,
            budget=req.budget,
            made_by=backend.made_by,
            only=only,
        )
        if stale and backend.emulator_draft and backend.api_key and backend.maker != DRAFT:
            progress.log(  # hostile F10: an endpoint makes what it makes
                f"note: --draft has no effect with RUNWARE_API_KEY set: "
                f"{backend.base_url or 'Runware'} makes full clips; for draft clips unset "
                "RUNWARE_API_KEY (the built-in emulator) or start `storyboard emulator --draft`"
            )
        if stale:
            clips_only = all(plan.node(s).kind == "video" for s in only)
            progress.log(
                f"rendering {len(stale)} of {len(only)} {'scenes' if clips_only else 'tasks'} "
                f"({usd(planned)} planned), {req.jobs} at a time"
            )
        if not needs_service(state, found, only):
            # nothing to generate, fetch or collect: no service is started at all
            outcome = await render(plan, state, None, progress, opts, found)
        else:
            from storyboard.cut.warm import abandon, warm_cut

            warm_cut()  # the compose's modules load while the service works (issue 19)
            local = partial(local_emulator, account=partial(known_media, plan, state))
            try:
                async with open_client(backend, log=progress.log, local=local) as client:
                    outcome = await render(plan, state, client, progress, opts, found)
            except BaseException:  # a Ctrl-C (or a failure): the exit waits for no warm-up
                abandon()
                raise
        return _result(project, state, plan.nodes, outcome, time.monotonic() - t0, backend.maker)
    finally:
        state.close()


def _result(
    project: Project,
    state: BuildState,
    tasks: list[Task],
    outcome: _Outcomes,
    seconds: float,
    maker: str,
) -> RenderResult:
    scenes = []
    for t in tasks:
        o = outcome.outcomes.get(t.scene)
        if o is None:
            continue
        chosen = state.lock.get(t.scene)
        infos = [_take_info(project.root, k, state, chosen) for k in o.takes]
        scenes.append(
            SceneResult(
                scene=o.scene,
                status=o.status,  # type: ignore[arg-type]
                takes=infos,
                cost=o.cost,
                seconds=o.seconds,
                error=o.error,
            )
        )
    return RenderResult(scenes, outcome.spent, seconds, state.lock_path, maker)
