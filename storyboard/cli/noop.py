"""The repeated no-op render: ``storyboard render PROJECT`` again when nothing at all changed.

A render that found nothing to do (every scene's take kept, nothing spent, the film up to
date) leaves a stamp, ``build/.noop-render.json``, that proves what it saw:

* the command line, the working folder, the interpreter, storyboard's version and every
  environment variable (as a digest: the API key is never written down), and whether the
  output went to a terminal;
* the size, inode, modification and change time of every file under the project folder
  (but the chunk cache, which a finished film does not need) and of every file of the
  storyboard package, and of every other file the render opened;
* what the render printed.

The next ``render`` with the same command line checks all of it before importing anything
heavy; if every single item is as recorded, the render would do exactly the same nothing,
so it prints the same words (with its own time) and stops. Any change (an edit saved, even
with the same bytes, a file added or removed anywhere in the project, a take replaced, an
environment variable, another version) and the render runs in full, as always. Files that
changed while the recording render ran are caught too: its stamp is not written.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STAMP = ".noop-render.json"
# the render's own state under build/, written by sqlite or by its lock (not seen by the hook)
OWN_STATE = {
    "journal.sqlite", "journal.sqlite-wal", "journal.sqlite-shm", "journal.sqlite-journal",
    "journal.sqlite.bak", ".lock",
}  # fmt: skip
CODE_SUFFIXES = (".py", ".pyc", ".so", ".pth")
SECONDS = "\x00seconds\x00"  # the one timing a replay fills in (no path holds a NUL: N11)
TIMED = re.compile(r"(?m)^(spent [^\n]*? in )\d+\.\d( s; lock: )")
WAITED = re.compile(r"another \w+ of this project is running( \(pid \d+\))?; waiting")
SKIP = ("chunks",)  # under build/: the chunk cache (a finished film does not need it)
VOLATILE = {"_", "OLDPWD", "SHLVL", "PWD"}  # set by shells, read by nothing here
QUIET = {"--quiet", "-q"}
SKIP_NAMES = ("__pycache__",)  # compiled modules: written by any start, their sources count


def project_of(argv: list[str]) -> Path | None:
    """The project folder when ``argv`` is a plain ``render PROJECT [--quiet]``, else None."""
    if len(argv) < 2 or argv[0] != "render":
        return None
    rest = [a for a in argv[1:] if a not in QUIET]
    if len(rest) != 1 or rest[0].startswith("-") or len(argv) - len(rest) > 2:
        return None
    p = Path(rest[0])
    return p if (p / "storyboard.yaml").is_file() else None


def _env() -> str:
    import hashlib

    items = sorted((k, v) for k, v in os.environ.items() if k not in VOLATILE)
    return hashlib.sha256(json.dumps(items).encode()).hexdigest()


def _stat(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns]


def _tree(root: Path, skip: tuple[str, ...] = ()) -> dict[str, list[int] | None]:
    """Every file under ``root`` (``skip``: folder paths left out) by its stat."""
    out: dict[str, list[int] | None] = {}
    stack = [str(root)]
    while stack:
        d = stack.pop()
        try:
            entries = list(os.scandir(d))
        except OSError:
            out[d] = None
            continue
        for e in entries:
            if e.is_dir(follow_symlinks=False):
                if e.path not in skip and e.name not in SKIP_NAMES:
                    stack.append(e.path)
            elif e.name != STAMP:
                out[e.path] = _stat(e.path)
    return out


def _under(path: str, folders: tuple[str, ...]) -> bool:
    """Whether ``path`` is one of ``folders`` or inside one (whole path parts: hostile3 N1)."""
    return any(
        path == f.rstrip(os.sep) or path.startswith(f.rstrip(os.sep) + os.sep) for f in folders
    )


def _site() -> list[list[int] | None]:
    """The folders Python imports from: installing or upgrading a library changes them."""
    return [_stat(p) for p in sys.path if p and os.path.isdir(p)]


def _package() -> Path:
    return Path(__file__).resolve().parent.parent


def _code() -> dict[str, list[int] | None]:
    """storyboard's own files: the package and the shared templates (a regular install keeps
    them under ``sys.prefix``, whose files the audit hook does not record: hostile3 N1)."""
    from storyboard import files

    return {**_tree(_package()), **_tree(files.shared_templates())}


def _seen(root: Path, opened: set[str]) -> dict[str, Any]:
    tree = _tree(root, tuple(str(root / "build" / s) for s in SKIP))
    others = {p: _stat(p) for p in sorted(opened) if p not in tree}
    return {"tree": tree, "code": _code(), "others": others}


MAX_STAMP = 256 * 2**20  # a stamp lists the project's files: far less than this


def _read_stamp(path: Path) -> dict[str, Any] | None:
    """The stamp as written by :meth:`Recorder.finish`, or None: only a plain file (not a link,
    a fifo or a device), of a sane size, whose digest matches what it holds (hostile3 N3, N4)."""
    import hashlib
    import stat as st_

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not st_.S_ISREG(info.st_mode) or info.st_size > MAX_STAMP:
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            wrapped = json.loads(f.read(MAX_STAMP + 1))
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)
    if not isinstance(wrapped, dict) or not isinstance(wrapped.get("stamp"), dict):
        return None
    body = json.dumps(wrapped["stamp"], sort_keys=True)
    if wrapped.get("sha256") != hashlib.sha256(body.encode()).hexdigest():
        return None  # changed by hand, or cut short
    return wrapped["stamp"]


def _write_stamp(path: Path, stamp: dict[str, Any]) -> None:
    """Written whole under a temporary name and renamed: a link in its place is replaced, never
    written through (hostile3 N2)."""
    import hashlib

    from storyboard.errors import StoryboardError
    from storyboard.files import atomic_write

    body = json.dumps(stamp, sort_keys=True)
    wrapped = {"stamp": stamp, "sha256": hashlib.sha256(body.encode()).hexdigest()}
    try:
        atomic_write(path, json.dumps(wrapped).encode())
    except (StoryboardError, OSError):
        pass  # a stamp, not a record


def _context(argv: list[str]) -> dict[str, Any]:
    from storyboard import __version__

    return {
        "version": __version__,
        "argv": argv,
        "cwd": os.getcwd(),
        "python": sys.executable,
        "site": _site(),
        "env": _env(),
        "tty": [sys.stdout.isatty(), sys.stderr.isatty()],
        "size": _terminal_size(),  # a live table is drawn for the terminal's width (N6)
    }


def _terminal_size() -> list[int] | None:
    for stream in (sys.stderr, sys.stdout):
        try:
            if stream.isatty():
                size = os.get_terminal_size(stream.fileno())
                return [size.columns, size.lines]
        except (OSError, ValueError, AttributeError):
            continue
    return None


def replay(argv: list[str]) -> int | None:
    """0 after printing what the recorded no-op printed, when nothing changed; else None."""
    root = project_of(argv)
    if root is None:
        return None
    root = Path(os.path.abspath(root))  # as recorded (the paths it wrote are absolute)
    t0 = time.perf_counter()
    stamp = _read_stamp(root / "build" / STAMP)
    try:
        if stamp is None or stamp.get("context") != _context(argv):
            return None
        seen = stamp["seen"]
        if seen["code"] != _code():
            return None
        if seen["tree"] != _tree(root, tuple(str(root / "build" / s) for s in SKIP)):
            return None
        if any(_stat(p) != s for p, s in seen["others"].items()):
            return None
        took = f"{time.perf_counter() - t0:.1f}"
        words = [(int(fd), str(text).replace(SECONDS, took)) for fd, text in stamp["words"]]
        if any(fd not in (1, 2) for fd, _ in words):
            return None
    except Exception:  # noqa: BLE001 - a stamp of the wrong shape: the render runs in full
        return None
    for fd, text in words:  # in the order the render printed them (hostile3 N6)
        (sys.stdout if fd == 1 else sys.stderr).write(text)
    sys.stdout.flush()
    return 0


class Recorder:
    """Around a plain ``render PROJECT``: notes the files it opens and what it prints, and
    writes the stamp when the render turns out to have done nothing."""

    def __init__(self, argv: list[str], root: Path, echo: bool = True):
        # absolute, like the paths the audit hook sees written (``render projects/x``)
        self.argv, self.root = argv, Path(os.path.abspath(root))
        self.opened: set[str] = set()
        self.noop = {"generate": False, "compose": False}
        self.before = _seen(self.root, set())
        self.context = _context(argv)
        self.words: list[tuple[int, str]] = []  # (1 stdout | 2 stderr, text), in order
        ours = (sys.prefix, sys.base_prefix, "/proc", "/dev", "/sys")

        self.first: dict[str, list[int] | None] = {}  # each file's stat when first read
        self.written: set[str] = set()  # files it wrote (its own state: the lock, the journal)

        def hook(event: str, args: tuple[Any, ...]) -> None:
            if RECORDER is not self:  # audit hooks stay: this one only while it records
                return
            if event in ("os.rename", "os.replace") and isinstance(args[1], str | Path):
                self.written.add(os.path.abspath(args[1]))
            if event == "open" and isinstance(args[0], str) and not _under(args[0], ours):
                path = os.path.abspath(args[0])
                mode, flags = args[1] or "", args[2] if isinstance(args[2], int) else 0
                if set("wax+") & set(mode) or flags & (os.O_WRONLY | os.O_RDWR):
                    self.written.add(path)
                elif path not in self.first:
                    self.first[path] = _stat(path)
                self.opened.add(path)

        sys.addaudithook(hook)  # stays for this process: a CLI command is one process
        self.streams = sys.stdout, sys.stderr
        sys.stdout = _Tee(sys.stdout, self.words, 1, echo)  # type: ignore[assignment]
        sys.stderr = _Tee(sys.stderr, self.words, 2, echo)  # type: ignore[assignment]

    def restore(self) -> None:
        sys.stdout, sys.stderr = self.streams

    def finish(self, code: int) -> None:
        """Write the stamp if the render did nothing and nothing changed while it ran."""
        if code != 0 or not all(self.noop.values()):
            return
        if any(WAITED.search(text) for _, text in self.words):
            return  # it waited for another command: its words are not those of a no-op
        now = _seen(self.root, self.opened)
        build = str(self.root / "build") + os.sep
        for path in set(self.before["tree"]) | set(now["tree"]):
            # a file that changed under the render's feet: only its own writes are exempt,
            # and its own state (the journal, its lock), which sqlite writes (hostile3 N5)
            own = path.startswith(build) and os.path.basename(path) in OWN_STATE
            mine = own or path in self.written
            if now["tree"].get(path) != self.before["tree"].get(path) and not mine:
                return
        outside = {p for p in now["tree"] if not p.startswith(build)}
        if outside != {p for p in self.before["tree"] if not p.startswith(build)}:
            return  # a file came or went beside the storyboard while it ran
        if now["code"] != self.before["code"] or self.context["site"] != _site():
            return  # storyboard or a library changed on disk since the process started
        if any(
            now["others"].get(p, st) != st for p, st in self.first.items() if p not in self.written
        ):
            return  # a file it read elsewhere changed after it was read
        stamp = {
            "context": self.context,
            "seen": now,
            "words": [[fd, TIMED.sub(rf"\g<1>{SECONDS}\g<2>", t)] for fd, t in self.words],
        }
        _write_stamp(self.root / "build" / STAMP, stamp)

    def did_work(self) -> bool:
        """Whether the recorded render generated or composed anything."""
        return not all(self.noop.values())


class _Tee:
    """A text stream that also keeps what is written to it, tagged with its stream
    (``echo=False``: only keeps it; the stream still answers ``isatty`` and the like, so the
    words are the same)."""

    def __init__(self, stream: Any, sink: list[tuple[int, str]], fd: int, echo: bool = True):
        self._stream, self._sink, self._fd, self._echo = stream, sink, fd, echo

    def write(self, s: str) -> int:
        self._sink.append((self._fd, s))
        return int(self._stream.write(s)) if self._echo else len(s)

    def flush(self) -> None:
        if self._echo:
            self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


RECORDER: Recorder | None = None
REHEARSING = False  # the silent no-op after a render that did work (see ``rehearse``)


def nothing_to_do(root: Path) -> bool:
    """Whether a plain render of ``root`` would now generate, fetch and compose nothing."""
    import storyboard.api as sb

    try:
        st = sb.load(root).status()
    except Exception:  # noqa: BLE001 - a check before a stamp, never an error of the render
        return False
    film_ok = st.film is not None and st.film.up_to_date
    return film_ok and not st.uncollected and not any(r.stale for r in st.scenes)


def rehearse(
    argv: list[str], root: Path, run: Callable[[list[str]], int], origin: Recorder | None = None
) -> None:
    """After a plain render that did work: the render again, in this process (its modules
    already loaded: a tenth of a second), its words kept and not shown, so it leaves the stamp
    the next ``render`` is answered from. Only when nothing is left to do; the rehearsal may
    send nothing, wait for nobody and compose nothing (``cli/commands`` checks
    :data:`REHEARSING`), and a change while it runs leaves no stamp, as always."""
    global RECORDER, REHEARSING
    try:
        if not nothing_to_do(root):
            return
        recorder = Recorder(argv, root, echo=False)
        if origin is not None:  # the code it runs is what the render loaded (hostile4 P1)
            recorder.before["code"] = origin.before["code"]
            recorder.context["site"] = origin.context["site"]
            for path, st in origin.first.items():  # and what it read importing it (P3)
                if path in origin.written or _under(path, (str(recorder.root),)):
                    continue  # its own files, and the project's (the tree has those)
                if _stat(path) == st:
                    recorder.first.setdefault(path, st)
                    recorder.opened.add(path)
                elif path.endswith(CODE_SUFFIXES):
                    return  # a module it loaded changed since: not what it ran
                # else a file that came and went while it ran (ffmpeg's temporary files)
        RECORDER, REHEARSING = recorder, True
        try:
            code = run(argv)
        finally:
            RECORDER, REHEARSING = None, False
            recorder.restore()
        recorder.finish(code)
    except (Exception, KeyboardInterrupt):  # noqa: BLE001 - the render itself succeeded (N7)
        return


def saw(step: str) -> None:
    """A step of the render found nothing to do (``generate`` or ``compose``)."""
    if RECORDER is not None:
        RECORDER.noop[step] = True
