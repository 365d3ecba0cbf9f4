"""The command line: parse arguments, call the library, print. Results to stdout, logs to stderr."""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import storyboard.api as sb
from storyboard import __version__
from storyboard.errors import ProblemsError, StoryboardError
from storyboard.money import usd

Handler = Callable[[argparse.Namespace], int]


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def warn_once(root: Path, warning: str) -> None:
    """A model warning on every `plan` is noise: once per project (remembered in build/), and
    every time while RUNWARE_API_KEY is set, when a render would really be refused."""
    seen = root / "build" / ".warnings-shown"
    import hashlib

    digest = hashlib.sha256(warning.encode()).hexdigest()[:16]
    try:
        shown = seen.read_text(encoding="utf-8").split()
    except (OSError, UnicodeDecodeError):
        shown = []
    if digest in shown and not os.environ.get("RUNWARE_API_KEY"):
        return
    _err(warning)
    if digest not in shown:
        try:
            seen.parent.mkdir(parents=True, exist_ok=True)
            with seen.open("a", encoding="utf-8") as fh:
                fh.write(digest + "\n")
        except OSError:
            pass  # a read-only project just hears the warning again


def cmd_validate(args: argparse.Namespace) -> int:
    from .films import validate_variants

    project = sb.load(args.project)
    try:
        ok = project.validate()
    except ProblemsError as e:  # the variants' problems too, in the same run
        validate_variants(project, e)
        raise
    if ok.warning:
        _err(ok.warning)
    validate_variants(project)
    size = f"{ok.scenes} scenes, {ok.seconds:g} s{_kinds(ok.tasks)}"
    print(f"{project.display()}: OK ({size}{usd(ok.cost)} to generate everything)")
    return 0


def _kinds(tasks: dict[str, int]) -> str:
    """``; 2 clips, 3 images: `` when a render sends more than clips, else ``, ``."""
    if set(tasks) <= {"video"}:
        return ", "
    words = {"video": "clip", "image": "image", "audio": "sound"}
    parts = [f"{n} {w}{'s' if n != 1 else ''}" for k, w in words.items() if (n := tasks.get(k))]
    return "; " + ", ".join(parts) + ": "


def cmd_plan(args: argparse.Namespace) -> int:
    from .report import plan_table

    project = sb.load(args.project)
    if args.variant is not None:
        from .films import cmd_plan_variants

        return cmd_plan_variants(project, args)
    plan = project.plan(
        args.retake or [], args.keep_downstream, draft=args.draft, boards=args.boards
    )
    if plan.warning:
        warn_once(project.root, plan.warning)
    if args.json:
        print(json.dumps(plan.tasks_json, indent=2))
    else:
        print(plan_table(plan))
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(sb.schema(), indent=2))
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    path = sb.init(args.name, title=args.title)
    print(path)
    from storyboard.files import shell_arg

    _err(f"created {path}; next: storyboard plan {shell_arg(path.parent)}")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from .report import models_sources, models_table

    if args.kind != "video":
        from .report import other_models

        if args.can or args.max_price is not None or args.sort or args.sources:
            _err("storyboard models: --can, --max-price and --sort apply to video models")
            return 2
        listed = sb.model_catalogue(args.kind)
        if args.json:
            print(json.dumps([m.catalogue for m in listed], indent=1))
        else:
            print(other_models(listed, args.kind))
        return 0
    found = sb.models(args.can or (), args.max_price, args.sort)  # live models first
    from storyboard.api.tools import filter_notes

    for note in filter_notes(args.can or ()):
        _err(note)
    if args.json:
        print(json.dumps([m.catalogue for m in found], indent=1))
        return 0
    print(models_sources(found) if args.sources else models_table(found))
    print(
        f"\n{len(found)} model(s). continuity: extend = continues a prior clip; last_frame = "
        "starts on an image (e.g. the previous clip's last frame); end_frame = ends on an image.\n"
        "Pick one with `model:` in storyboard.yaml (or on a scene); `--sources` shows where each "
        "fact comes from; `storyboard models --json` has every fact."
    )
    return 0


def cmd_emulator(args: argparse.Namespace) -> int:
    import time

    emu = sb.start_emulator(
        port=args.port,
        latency=args.latency,
        api_key=args.api_key,
        draft=args.draft,
        extend_returns=args.extend_returns,
        credits=args.credits,
        faults=args.fault or [],
    )
    print(f"Runware emulator listening on {emu.base_url}", flush=True)
    _err(f"use it: RUNWARE_API_KEY=anything RUNWARE_BASE_URL={emu.base_url} storyboard render ...")
    _err(f"ledger: {emu.url}/_emulator/ledger   (Ctrl-C to stop)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="storyboard",
        description="Turn a storyboard file into a film with generative video (Runware).",
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"storyboard {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("validate", help="check a storyboard; print every problem or OK")
    p.add_argument("project", help="project folder or storyboard.yaml")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("plan", help="what a render would generate, and what it would cost")
    p.add_argument("project")
    p.add_argument("--json", action="store_true", help="print the exact tasks as JSON")
    p.add_argument("--retake", action="append", metavar="SCENE", help="plan a new take of SCENE")
    p.add_argument(
        "--keep-downstream",
        action="store_true",
        help="with --retake: keep the takes of scenes continuing from it",
    )
    p.add_argument(
        "--boards", action="store_true", help="plan `render --boards`: sheets and boards only"
    )
    p.add_argument(
        "--draft", action="store_true", help="plan `render --draft`: draft takes are current"
    )
    p.add_argument(
        "--variant",
        "-V",
        default=None,
        metavar="NAME",
        help="which film: main, a variant's name, or all (each film's cost, and what it shares)",
    )
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("schema", help="print the JSON Schema of storyboard.yaml")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("init", help="create a new project folder with a starter storyboard")
    p.add_argument("name", help="folder to create, e.g. projects/my-film")
    p.add_argument("--title", default=None)
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("models", help="list the models and their rules")
    p.add_argument("--json", action="store_true", help="print the whole catalogue as JSON")
    p.add_argument(
        "--can",
        action="append",
        metavar="WHAT",
        help="only models that take: extend, last_frame (continuity modes), end_frame, "
        "references, audio (repeat for several)",
    )
    p.add_argument("--max-price", type=float, default=None, help="USD per second, at most")
    p.add_argument(
        "--sort", choices=["price", "status"], default=None, help="order (default status)"
    )
    p.add_argument("--sources", action="store_true", help="where each fact comes from")
    p.add_argument(
        "--kind",
        choices=["video", "image", "audio"],
        default="video",
        help="which catalogue: video (default), image (cast sheets, boards) or audio "
        "(voices, music, sounds, lip sync)",
    )
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("emulator", help="run the local Runware API emulator")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--latency", type=float, default=2.0, help="seconds a task stays processing")
    p.add_argument("--api-key", default=None, help="accept only this key (default: any)")
    p.add_argument("--draft", action="store_true", help="fast small clips (for tests)")
    p.add_argument(
        "--extend-returns",
        choices=["new", "whole"],
        default="new",
        help="an extension returns only the new footage, or the whole video",
    )
    p.add_argument("--credits", type=float, default=None, help="account balance in USD")
    p.add_argument(
        "--fault",
        action="append",
        metavar="SPEC",
        help="inject a fault, e.g. 429:times=3,retry_after=1  drop:task_type="
        "videoInference  error:prompt_contains=storm  truncate  slow:rate=50000",
    )
    p.set_defaults(func=cmd_emulator)

    for extra in _EXTRA_COMMANDS:
        extra(sub)
    return parser


def _render_commands(sub: argparse._SubParsersAction) -> None:
    from .commands import register

    register(sub)


def _handoff_commands(sub: argparse._SubParsersAction) -> None:
    from .handoff import register

    register(sub)


_EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _render_commands,
    _handoff_commands,
]


def no_abbreviations(parser: argparse.ArgumentParser) -> None:
    """``--retak`` must not quietly mean ``--retake``: exact option names only, everywhere."""
    parser.allow_abbrev = False
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                no_abbreviations(child)


def prepare_process() -> None:
    """Process-wide settings for the CLI: a file-size limit becomes an error, not a death.

    By default SIGXFSZ kills the process mid-write with no word; ignored, the write fails
    with EFBIG and is reported as "file size limit reached writing X".
    """
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def main(argv: Sequence[str] | None = None) -> int:
    prepare_process()
    # storyboard's models use no pydantic plugin; looking for one reads the metadata of every
    # installed package at each start. A value set by the user is kept.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from . import noop

    args = list(sys.argv[1:] if argv is None else argv)
    if not {"-h", "--help", "--version"} & set(args):
        try:
            os.getcwd()
        except FileNotFoundError:  # a shell left in a removed folder (hostile helper-51)
            _err(
                "storyboard: the current folder no longer exists (it was removed after this "
                "shell went into it): cd to a folder that exists and run the command again"
            )
            return 1
    root = noop.project_of(args)
    if root is not None:
        try:
            code = noop.replay(args)  # the same render again, nothing changed: said in no time
        except BrokenPipeError:  # as `_main` answers a reader that has gone (hostile3 N10)
            _silence_output()
            return 141
        if code is not None:
            return code
        noop.RECORDER = noop.Recorder(args, root)
    try:
        code = _main(argv)
    finally:
        recorder, noop.RECORDER = noop.RECORDER, None
        if recorder is not None:
            recorder.restore()
    if recorder is not None and root is not None:
        recorder.finish(code)
        if code == 0 and recorder.did_work():
            # the next render again is then answered at once
            noop.rehearse(args, root, _main, origin=recorder)
    return code


def _main(argv: Sequence[str] | None) -> int:
    try:
        code = _run(argv)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
        return code
    except BrokenPipeError:
        # `storyboard schema | head`: the reader has gone, which is not an error of ours
        _silence_output()
        return 141  # the shell's code for a command stopped by a closed pipe (128 + SIGPIPE)


def _silence_output() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
        except (OSError, ValueError, io.UnsupportedOperation):
            pass


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    no_abbreviations(parser)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except StoryboardError as e:
        from storyboard.api.tools import WriterBusy

        # the library says "not waiting"; here the flag that asked for it is named
        _err(f"{e} (--no-wait)" if isinstance(e, WriterBusy) else str(e))
        return 1
    except KeyboardInterrupt:
        _err("interrupted: finished takes are kept; run the same command again to resume")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
