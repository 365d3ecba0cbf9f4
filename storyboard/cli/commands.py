"""The render-side commands (render, status, takes, pick), registered on the CLI parser."""

from __future__ import annotations

import argparse
import sys

import storyboard.api as sb
from storyboard.api import Frames, Log, Note, SceneUpdate, Spent
from storyboard.api.results import money_words, placeholder_words
from storyboard.errors import NSFW_WORDS, StoryboardError
from storyboard.files import shell_arg
from storyboard.money import usd

from . import noop
from .films import (
    RETAKE_ONE_FILM,
    add_variant,
    cmd_plan_variants,
    compose_films,
    film_names,
    one_film,
    print_variant_films,
)
from .report import continuity_text, plan_table, table


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def cmd_render(args: argparse.Namespace) -> int:

    if args.watch:
        from .handoff import cmd_watch

        return cmd_watch(args)
    main = sb.load(args.project)
    names = film_names(main, args)
    if args.dry_run:
        if args.variant is not None:  # hostile N13 F6: a dry run checks the budget too
            return cmd_plan_variants(main, args)
        plan = main.plan(
            args.retake, args.keep_downstream, args.budget, draft=args.draft, boards=args.boards
        )
        print(plan_table(plan))
        return 0
    if args.retake and len(names) > 1:
        raise StoryboardError(RETAKE_ONE_FILM)
    if args.on is not None:
        main.check_executor(args.on)  # no Ray, or a bad address: said before anything is spent
    if not args.no_compose:
        main.check_compose_settings()  # hostile F8: a bad setting is said before anything is spent
    if len(names) > 1:
        _check_films_budget(main, names, args)
    for name in names:
        if len(names) > 1:
            _err(f"== {name}")
        code = _generate(main.variant(name), args)
        if code:
            return code
    if args.no_compose:
        return 0
    if args.boards:  # each film's animatic, cut here: stills need no Ray nor chunk cache
        if args.on is not None or args.cache is not None:
            _err("note: --on and --cache compose films; the animatics are cut here")
        for name in names:
            if len(names) > 1:
                _err(f"== {name}")
            _compose(main.variant(name), args)
        return 0
    if len(names) > 1 or args.on is not None or args.cache is not None:
        return compose_films(main, names, args)
    return _compose(main.variant(names[0]), args)


def _check_films_budget(main: sb.Project, names: list[str], args: argparse.Namespace) -> None:
    """``--budget`` over several films, before any is bought: their total, and in each a node
    no source prices (hostile N13 F1: the first film was bought and the second refused)."""
    if args.budget is not None:
        main.plan_variants(names, args.draft, args.boards, args.budget)


def _generate(project: sb.Project, args: argparse.Namespace) -> int:
    """Generate one film's stale scenes, with the live table; 1 when a scene failed."""
    from .progress import Reporter

    reporter = Reporter(project.nodes(args.boards), quiet=args.quiet, placeholder=not project.real)

    def progress(event: sb.Event) -> None:
        if isinstance(event, SceneUpdate):
            reporter.update(event.scene, event.state, event.detail)
        elif isinstance(event, Spent):
            reporter.add_cost(event.usd)
        elif isinstance(event, Note):
            reporter.note(event.text)
        elif isinstance(event, Log):
            _err(event.text)

    with reporter:
        result = project.render(
            retake=args.retake,
            keep_downstream=args.keep_downstream,
            budget=args.budget,
            jobs=args.jobs,
            progress=progress,
            draft=args.draft,
            wait=not args.no_wait and not noop.REHEARSING,
            emulator_latency=args.emulator_latency,
            boards=args.boards,
            only_if_up_to_date=noop.REHEARSING,  # the rehearsal sends nothing (noop.rehearse)
        )
    rows = []
    for s in result.scenes:
        take = s.take if s.take is not None else ""
        cost = money_words(s.cost) if result.maker == "runware" else placeholder_words(s.cost)
        # nothing bought (H13e), or a paid take's file fetched again (helper-55: it read
        # "$0 (would cost $0.00)")
        cost = "-" if s.status in ("cached", "re-downloaded") and not s.cost else cost
        rows.append([s.scene, s.status, str(take), cost, (s.error or "")[:90]])
    if not reporter.live_mode:  # a live table already stands as the final one
        print(table(["scene", "result", "take", "cost", "note"], rows, right={3}))
    print(f"\nspent {result.money} in {result.seconds:.1f} s; lock: {result.lock}")
    if result.spent == 0 and all(s.status == "cached" for s in result.scenes):
        noop.saw("generate")  # nothing generated, nothing spent
    if result.failed:
        _err(f"{len(result.failed)} scene(s) did not render; the others are kept:")
        for s in result.failed:
            _err(f"  {s.scene}: {s.error}")
        flagged = [s.scene for s in result.failed if NSFW_WORDS in (s.error or "")]
        if flagged:  # hostile H18: a flagged result is kept, and not bought again
            _err(
                f"flagged NSFW: {', '.join(flagged)} stay out of the film until you pick the "
                "flagged take, change the prompt, or render with --retake (which buys a new take)"
            )
        if len(flagged) < len(result.failed):
            _err("render again to retry the others (nothing already paid for is bought again)")
        else:
            _err("a render again buys nothing (nothing already paid for is bought again)")
        return 1
    return 0


def _compose(project: sb.Project, args: argparse.Namespace) -> int:
    from .progress import ComposeBar

    with ComposeBar(quiet=getattr(args, "quiet", False)) as bar:

        def progress(event: sb.Event) -> None:
            if isinstance(event, Frames):
                bar.frames(event.done, event.total)
            else:
                _err(str(event))

        if getattr(args, "boards", False):  # render --boards: the animatic
            film = project.animatic(wait=not args.no_wait, progress=progress)
        else:
            film = project.compose(
                wait=not args.no_wait and not noop.REHEARSING,  # the rehearsal waits for nobody
                progress=progress,
                force=getattr(args, "force", False),
                only_if_up_to_date=noop.REHEARSING,  # and composes nothing (see noop.rehearse)
            )
    if film.up_to_date and not getattr(args, "boards", False):
        noop.saw("compose")
    if not film.up_to_date:
        frames = (
            f"; {film.frames_encoded} of {film.frames} frames encoded, the rest copied or cached"
            if film.frames
            else ""
        )
        _err(
            f"composed in {film.seconds:.1f} s: {film.encoded} chunks encoded, "
            f"{film.reused} from the cache{frames}"
        )
    what = "animatic" if getattr(args, "boards", False) else "film"
    print(f"{what}: {film.film}" + (" (up to date)" if film.up_to_date else ""))
    if film.captions is not None:
        print(f"captions: {film.captions}")
    if film.contact_sheet is not None:
        print(f"contact sheet: {film.contact_sheet}")
    return 0


def cmd_compose(args: argparse.Namespace) -> int:
    main = sb.load(args.project)
    names = film_names(main, args)
    if len(names) > 1 or args.on is not None or args.cache is not None:
        return compose_films(main, names, args)
    return _compose(main.variant(names[0]), args)


def cmd_status(args: argparse.Namespace) -> int:
    main = sb.load(args.project)
    if args.variant == "all":  # every film in turn; the journal's money once, after them
        for i, name in enumerate(film_names(main, args)):
            print(("\n" if i else "") + f"== {name} ==")
            status = main.variant(name).status(draft=args.draft)
            _print_scenes(status)
            _print_film(status)
        print(f"\nspent so far on this project: {status.money}")
        _print_uncollected(status)
        return 0
    status = main.status(draft=args.draft, variant=args.variant)
    _print_scenes(status, f"; spent so far on this project: {status.money}")
    _print_uncollected(status)
    _print_film(status)
    if args.variant is None:
        print_variant_films(main, draft=args.draft)
    return 0


def _print_scenes(status: sb.Status, tail: str = "") -> None:
    """One film's scenes, each up to date or stale and why, and what its next render costs
    (``tail``: ends that line)."""
    unknown = {s.scene for s in status.scenes if not s.price_known}  # hostile N13 F10
    rows = [
        [
            s.scene,
            continuity_text(s.mode, s.source),
            "stale" if s.stale else s.action,
            ", ".join(s.reasons),
            str(s.take) if s.take is not None else "-",
            ("unknown" if s.scene in unknown else usd(s.next_cost)) if s.stale else "-",
        ]
        for s in status.scenes
    ]
    print(table(["scene", "continuity", "status", "reason", "take", "next cost"], rows, right={5}))
    left_out = [s.scene for s in status.scenes if s.stale and s.scene in unknown]
    print(
        f"\n{len(status.stale)} of {len(status.scenes)} "
        f"{'scenes' if all(':' not in s.scene for s in status.scenes) else 'tasks'} stale; "
        f"next render: {usd(status.next_cost)}"
        + (f" and {', '.join(left_out)}, whose price no source gives" if left_out else "")
        + tail
    )


def _print_uncollected(status: sb.Status) -> None:
    """The journal's paid tasks not collected yet (the project's, whichever film sent them)."""
    if status.uncollected:
        print("\npaid but not collected yet (render again to collect them, not paid again):")
        for u in status.uncollected:
            print(f"  {u.scene}  task {u.task_uuid[:8]}  {u.state}  {usd(u.cost)}")


def _print_film(status: sb.Status) -> None:
    film = status.film
    if film is not None:
        state = "up to date" if film.up_to_date else "stale (" + ", ".join(film.reasons) + ")"
        print(f"film: {state}: {film.path}")


def cmd_takes(args: argparse.Namespace) -> int:
    film = one_film(args.variant, "takes")
    takes = sb.load(args.project).variant(film).takes(args.scene, args.draft)
    if not takes:
        print(f"{args.scene}: no takes yet (storyboard render {shell_arg(args.project)})")
        return 0
    rows = []
    for t in takes:
        flags = ", ".join(f for f, on in (("missing", t.missing), ("NSFW", t.nsfw)) if on)
        rows.append(
            [
                f"{t.n}{'*' if t.chosen else ''}",
                "current" if t.current else f"film {t.film}" if t.film else "stale",
                t.model,
                t.size,
                f"{t.duration:.1f} s" if t.duration is not None else "-",
                t.money,
                t.created.astimezone().strftime("%Y-%m-%d %H:%M"),
                t.prompt,
                t.file,
                flags,
            ]
        )
    heads = [
        "take",
        "version",
        "model",
        "size",
        "duration",
        "cost",
        "made",
        "prompt",
        "file",
        "flags",
    ]
    print(table(heads, rows, right={4, 5}))
    print(
        "\n* = in the cut (storyboard.lock); current = made from the scene as it is now, "
        "stale = from an earlier version of it"
        + ("; film NAME = current in that film (a variant)" if any(t.film for t in takes) else "")
    )
    return 0


def cmd_pick(args: argparse.Namespace) -> int:
    picked = (
        sb.load(args.project)
        .variant(one_film(args.variant, "pick"))
        .pick(
            args.scene,
            args.take,
            wait=not args.no_wait,
            progress=lambda e: _err(str(e)),
            draft=args.draft,
        )
    )
    for w in picked.warnings:
        _err(f"warning: {w}")
    print(f"{picked.scene}: take {picked.take} is in the cut")
    if picked.stale:
        _err(
            f"scenes continuing from it are now stale: {', '.join(picked.stale)} "
            "(see `storyboard status`)"
        )
    if picked.kept:  # hostile helper-54: it named every scene not stale, a draft pick's too
        _err(f"scenes continuing from it keep takes made from this one: {', '.join(picked.kept)}")
    return 0


_NO_WAIT = "fail at once if another command is writing this project (default: wait)"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("render", help="generate what is stale, then compose the film")
    p.add_argument("project")
    p.add_argument(
        "--watch",
        action="store_true",
        help="render again on every save of the storyboard, templates or assets "
        "(--budget caps each change)",
    )
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
    p.add_argument(
        "--boards",
        action="store_true",
        help="make only the cast sheets and the boards (no clip), then cut the animatic",
    )
    add_variant(p, batch=True)
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("compose", help="rebuild the film from storyboard.lock (no generation)")
    p.add_argument("project")
    p.add_argument("--force", action="store_true", help="compose even when the film is up to date")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.add_argument("--no-wait", action="store_true", help=_NO_WAIT)
    add_variant(p, batch=True)
    p.set_defaults(func=cmd_compose)

    p = sub.add_parser("status", help="which scenes are up to date or stale, and why")
    p.add_argument("project")
    p.add_argument(
        "--draft", action="store_true", help="judge takes as `render --draft` does (emulator)"
    )
    add_variant(p)
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("takes", help="list the takes of a scene")
    p.add_argument("project")
    p.add_argument("scene")
    p.add_argument(
        "--draft", action="store_true", help="judge takes as `render --draft` does (emulator)"
    )
    add_variant(p, one=True)
    p.set_defaults(func=cmd_takes)

    p = sub.add_parser("pick", help="choose which take of a scene makes the cut")
    p.add_argument("project")
    p.add_argument("scene")
    p.add_argument("take", type=int)
    p.add_argument("--no-wait", action="store_true", help=_NO_WAIT)
    p.add_argument(
        "--draft", action="store_true", help="judge the take as `render --draft` does (emulator)"
    )
    add_variant(p, one=True)
    p.set_defaults(func=cmd_pick)
