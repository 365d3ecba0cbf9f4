"""The review, hand-off and watch commands (review, export), registered on the CLI parser."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def cmd_export(args: argparse.Namespace) -> int:
    from storyboard.review.library import open_project

    project = open_project(args.project)
    dest = project.export(args.format, Path(args.output) if args.output else None)
    print(dest)
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    from storyboard.review.library import open_project
    from storyboard.review.server import serve

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
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("review", help="a local page to watch, compare and pick takes")
    p.add_argument("project")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    p.add_argument("--open", action="store_true", help="open the page in a web browser")
    p.add_argument(
        "--draft",
        action="store_true",
        help="emulator only: renders from the page make small, fast placeholder clips",
    )
    p.set_defaults(func=cmd_review)
