"""The review and hand-off commands (review, export, render --watch) over the API."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def cmd_export(args: argparse.Namespace) -> int:
    import storyboard.api as sb
    from storyboard.api.review import export
    from storyboard.errors import StoryboardError

    main = sb.load(args.project)
    if args.variant == "all":  # each film's timeline beside it (the commands table lists it)
        if args.output:
            raise StoryboardError(
                "--output names one file: with --variant all each film's timeline is written "
                "beside its film"
            )
        for film in main.films("all"):
            print(export(film, args.format, None))
        return 0
    film = main.variant(args.variant or "main")
    print(export(film, args.format, Path(args.output) if args.output else None))
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    """``render --watch``: one render now, then one per save (Ctrl-C to stop)."""
    from storyboard.review.watch import Watcher

    if args.retake or args.dry_run:
        _err("render --watch renders what is stale; use --retake and --dry-run without it")
        return 2
    watcher = Watcher(
        args.project,
        budget=args.budget,
        compose=not args.no_compose,
        draft=args.draft,
        jobs=args.jobs,
        log=_err,
    )
    watcher.run()
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    from storyboard.api.tools import check_port
    from storyboard.review.library import open_project
    from storyboard.review.server import serve

    check_port(args.port)
    project = open_project(args.project, draft=args.draft)
    serve(project, port=args.port, open_browser=args.open, log=_err)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="the cut as an editing timeline (OTIO, FCPXML, EDL)")
    p.add_argument("project")
    p.add_argument("--format", "-f", choices=["otio", "fcpxml", "edl"], default="otio")
    p.add_argument(
        "--output", "-o", metavar="FILE", help="where to write it (default: beside the film)"
    )
    p.add_argument(
        "--variant",
        "-V",
        default=None,
        metavar="NAME",
        help="which film: main, a variant, or all (each film's timeline beside it)",
    )
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("review", help="a local page to watch, compare and pick takes")
    p.add_argument("project")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    p.add_argument("--open", action="store_true", help="open the page in a web browser")
    p.add_argument(
        "--draft",
        action="store_true",
        help="as render --draft (emulator only): --draft takes count, renders make them",
    )
    p.set_defaults(func=cmd_review)
