"""The render-side commands (render, status, takes, pick), registered on the CLI parser."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from storyboard.errors import StoryboardError
from storyboard.generate.backend import BackendOptions, open_client

from .report import continuity_text, table


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _load(path: str, writer: str | None = None, wait: bool = True):  # type: ignore[no-untyped-def]
    from storyboard.board.spec import load_project
    from storyboard.generate.state import BuildState
    from storyboard.plan.compile import compile_project

    project = load_project(path)
    plan = compile_project(project)
    return project, plan, BuildState(project.root, writer=writer, wait=wait, on_wait=_err)


def cmd_render(args: argparse.Namespace) -> int:
    from storyboard.generate.execute import RenderOptions, needs_service, render
    from storyboard.generate.staleness import assess, check_budget

    from .progress import Reporter
    from .report import plan_table

    project, plan, state = _load(args.project, "render", not args.no_wait)
    try:
        backend = BackendOptions.from_env()
        backend.emulator_latency = args.emulator_latency
        backend.emulator_draft = args.draft
        assessments = assess(plan, state, args.retake, args.keep_downstream, backend.maker)
        stale = {s for s, a in assessments.items() if a.stale}
        planned = check_budget(plan, assessments, args.budget)
        if args.dry_run:
            print(plan_table(plan, stale))
            return 0
        opts = RenderOptions(
            jobs=args.jobs,
            retake=args.retake or [],
            keep_downstream=args.keep_downstream,
            budget=args.budget,
            made_by=backend.made_by,
        )
        if stale:
            _err(
                f"rendering {len(stale)} of {len(plan.tasks)} scenes "
                f"(${planned:.2f} planned), {args.jobs} at a time"
            )
        reporter = Reporter([t.scene for t in plan.tasks], quiet=args.quiet)

        async def go():  # type: ignore[no-untyped-def]
            if not needs_service(state, assessments):
                # nothing to generate or fetch: no service is started at all
                return await render(plan, state, None, reporter, opts, assessments)
            async with open_client(backend, log=_err) as client:
                return await render(plan, state, client, reporter, opts, assessments)

        t0 = time.monotonic()
        with reporter:
            result = asyncio.run(go())
        rows = []
        for t in plan.tasks:
            o = result.outcomes.get(t.scene)
            if o is None:
                continue
            take = o.takes[0].n if o.takes else ""
            rows.append([t.scene, o.status, str(take), f"${o.cost:.2f}", (o.error or "")[:90]])
        print(table(["scene", "result", "take", "cost", "note"], rows, right={3}))
        elapsed = time.monotonic() - t0
        spent = (
            f"spent ${result.spent:.2f}"
            if backend.api_key
            else f"spent $0 (emulator; would cost ${result.spent:.2f})"
        )
        print(f"\n{spent} in {elapsed:.1f} s; lock: {state.lock_path}")
        if result.failed:
            _err(f"{len(result.failed)} scene(s) did not render; the others are kept:")
            for o in result.failed:
                _err(f"  {o.scene}: {o.error}")
            _err("render again to retry just those (nothing already paid for is bought again)")
            return 1
        if args.no_compose:
            return 0
        return _compose_after_render(project, state, args)
    finally:
        state.close()


def _require_real(project, state) -> None:  # type: ignore[no-untyped-def]
    from storyboard.generate.staleness import require_real_takes

    if BackendOptions.from_env().api_key:
        require_real_takes(state, [s.id for s in project.board.scenes])


def _compose_after_render(project, state, args) -> int:  # type: ignore[no-untyped-def]
    try:
        from storyboard.cut.compose import compose_project
    except ImportError:
        return 0
    _require_real(project, state)
    out = compose_project(project, state, log=_err)
    print(f"film: {out}")
    return 0


def cmd_compose(args: argparse.Namespace) -> int:
    from storyboard.cut.compose import compose_project

    project, plan, state = _load(args.project, "compose", not args.no_wait)
    try:
        _require_real(project, state)
        out = compose_project(project, state, log=_err)
        print(out)
        return 0
    finally:
        state.close()


def cmd_status(args: argparse.Namespace) -> int:
    from storyboard.generate.staleness import assess

    project, plan, state = _load(args.project)
    try:
        assessments = assess(plan, state)
        rows = []
        for t in plan.tasks:
            a = assessments[t.scene]
            take = state.lock.get(t.scene)
            rows.append(
                [
                    t.scene,
                    continuity_text(t.mode, t.source),
                    "stale" if a.stale else a.action,
                    ", ".join(a.reasons),
                    str(take.n) if take else "-",
                    f"${a.cost:.2f}" if a.stale else "-",
                ]
            )
        print(
            table(["scene", "continuity", "status", "reason", "take", "next cost"], rows, right={5})
        )
        cost = sum(a.cost for a in assessments.values() if a.stale)
        n = sum(a.stale for a in assessments.values())
        print(
            f"\n{n} of {len(plan.tasks)} scenes stale; next render: ${cost:.2f}; "
            f"spent so far on this project: ${state.spent():.2f}"
        )
        waiting = state.uncollected()
        if waiting:
            print("\npaid but not collected yet (render again to collect them, not paid again):")
            for jt in waiting:
                print(f"  {jt.scene}  task {jt.task_uuid[:8]}  {jt.state}  ${jt.price:.2f}")
        return 0
    finally:
        state.close()


def cmd_takes(args: argparse.Namespace) -> int:
    project, plan, state = _load(args.project)
    try:
        plan.require_scenes([args.scene])
        chosen = state.lock.get(args.scene)
        rows = []
        for t in state.takes(args.scene):
            mark = "*" if chosen and chosen.video_uuid == t.video_uuid else ""
            flags = ", ".join(
                f for f, on in (("missing", not state.file_ok(t)), ("NSFW", t.nsfw)) if on
            )
            rows.append(
                [
                    f"{t.n}{mark}",
                    f"{t.duration or 0:.1f} s",
                    f"${t.cost or 0:.2f}",
                    time.strftime("%Y-%m-%d %H:%M", time.localtime(t.created_at)),
                    t.file,
                    flags,
                ]
            )
        if not rows:
            print(f"{args.scene}: no takes yet (storyboard render {args.project})")
            return 0
        print(table(["take", "duration", "cost", "made", "file", "flags"], rows, right={1, 2}))
        print("\n* = in the cut (storyboard.lock)")
        return 0
    finally:
        state.close()


def cmd_pick(args: argparse.Namespace) -> int:
    project, plan, state = _load(args.project, "pick", not args.no_wait)
    try:
        plan.require_scenes([args.scene])
        takes = {t.n: t for t in state.takes(args.scene)}
        if args.take not in takes:
            have = ", ".join(str(n) for n in takes) or "none"
            raise StoryboardError(f"{args.scene}: no take {args.take} (takes: {have})")
        state.lock[args.scene] = takes[args.take]
        state.write_lock([t.scene for t in plan.tasks])
        print(f"{args.scene}: take {args.take} is in the cut")
        down = plan.downstream(args.scene)
        if down:
            _err(
                f"scenes continuing from it are now stale: {', '.join(down)} "
                "(see `storyboard status`)"
            )
        return 0
    finally:
        state.close()


_NO_WAIT = "fail at once if another command is writing this project (default: wait)"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("render", help="generate what is stale, then compose the film")
    p.add_argument("project")
    p.add_argument("--jobs", "-j", type=int, default=4, help="scenes generated at once (4)")
    p.add_argument(
        "--retake",
        action="append",
        metavar="SCENE",
        default=[],
        help="ask for a new take of SCENE (repeatable)",
    )
    p.add_argument(
        "--keep-downstream",
        action="store_true",
        help="with --retake: keep the takes of the scenes that continue from it",
    )
    p.add_argument("--budget", type=float, metavar="USD", help="refuse a render costing more")
    p.add_argument(
        "--dry-run", action="store_true", help="print what would be generated; spend nothing"
    )
    p.add_argument("--no-compose", action="store_true", help="generate the takes only")
    p.add_argument("--no-wait", action="store_true", help=_NO_WAIT)
    p.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
    p.add_argument("--emulator-latency", type=float, default=1.0, help=argparse.SUPPRESS)
    p.add_argument(
        "--draft", action="store_true", help="emulator only: small, fast placeholder clips"
    )
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("compose", help="rebuild the film from storyboard.lock (no generation)")
    p.add_argument("project")
    p.add_argument("--no-wait", action="store_true", help=_NO_WAIT)
    p.set_defaults(func=cmd_compose)

    p = sub.add_parser("status", help="which scenes are up to date or stale, and why")
    p.add_argument("project")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("takes", help="list the takes of a scene")
    p.add_argument("project")
    p.add_argument("scene")
    p.set_defaults(func=cmd_takes)

    p = sub.add_parser("pick", help="choose which take of a scene makes the cut")
    p.add_argument("project")
    p.add_argument("scene")
    p.add_argument("take", type=int)
    p.add_argument("--no-wait", action="store_true", help=_NO_WAIT)
    p.set_defaults(func=cmd_pick)
