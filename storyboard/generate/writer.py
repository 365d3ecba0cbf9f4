"""One writer per project: an advisory lock on ``build/.lock`` inside the project.

Everything that writes the journal, the takes or ``storyboard.lock`` (render, compose, pick, the
review server, the Python API) runs inside :func:`project_writer`. A second writer either waits
(and says so) or fails at once with ``wait=False``. The lock is ``fcntl.flock`` on an open file,
so the kernel releases it when the holder dies, even on SIGKILL: a crashed render never leaves a
stale lock behind.

Within one process the lock is re-entrant for the thread that holds it (``render`` then
``compose`` in one command) and excludes other threads (the review server's request handlers).
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from storyboard.errors import StoryboardError
from storyboard.files import resolve_inside

LOCK_FILE = ".lock"


@dataclass
class _Held:
    """This process's hold on one project's lock."""

    thread_lock: threading.RLock = field(default_factory=threading.RLock)
    fd: int | None = None
    depth: int = 0


_held: dict[Path, _Held] = {}
_registry = threading.Lock()


class WriterBusy(StoryboardError):
    """Another writer holds the project (raised only with ``wait=False``)."""


def lock_path(project_root: Path) -> Path:
    """``build/.lock`` of the project, refusing a ``build`` that leads outside the project."""
    root = project_root.resolve()
    build = root / "build"
    try:
        build.mkdir(exist_ok=True)
    except FileExistsError:
        pass
    except OSError as e:
        raise StoryboardError(f"cannot create {build}: {e.strerror or e}") from None
    inside = resolve_inside(root, "build")
    if inside is None or not inside.is_dir():
        raise StoryboardError(
            f"{build}: the build folder must be a folder inside the project "
            f"(it leads to {build.resolve()}); remove it and run again"
        )
    _no_link_out(root, inside)
    return inside / LOCK_FILE


# build/'s folders, and its files written in place (sqlite), not replaced by rename
FOLDERS = ("takes", "media", "thumbs", "chunks")
IN_PLACE = ("journal.sqlite", "journal.sqlite.bak", "journal.sqlite-wal", "journal.sqlite-shm")


def _no_link_out(root: Path, build: Path) -> None:
    """Refuse a link in build/ to a folder, or to a file written in place (:data:`IN_PLACE`),
    that leads out of the project: what is written through it would land elsewhere (hostile
    helper-42, helper-46), as through a linked build/ itself; and a link at one of
    :data:`FOLDERS` that loops or leads to nothing. A link to any other file is replaced, not
    written through (those files are written by rename)."""
    try:
        links = [Path(e.path) for e in os.scandir(build) if e.is_symlink()]
    except OSError:
        return  # unreadable: the writes themselves fail with their own message
    for path in links:
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError):  # a loop, or a link to nothing (helper-46 F6, F9)
            if path.name in FOLDERS:  # made through later: refused now, before any task
                raise StoryboardError(
                    f"{path}: a link that loops or leads to nothing; build/{path.name} must be "
                    "a folder: remove the link and run again"
                ) from None
            continue
        if not (target.is_dir() or path.name in IN_PLACE):
            continue  # a file: replaced by rename, never written through
        if resolve_inside(root, str(path.relative_to(root))) is None:
            raise StoryboardError(
                f"{path}: leads outside the project (to {target}); what build/ holds "
                "stays inside the project: remove the link and run again"
            )


def holder(project_root: Path) -> tuple[str, int] | None:
    """Who holds (or last held) the lock: ``("render", pid)``; None when unknown."""
    try:
        text = (project_root / "build" / LOCK_FILE).read_text(encoding="utf-8").split()
    except OSError:
        return None
    if len(text) >= 2 and text[0].isdigit():
        return text[1], int(text[0])
    return None


def _open(path: Path) -> int:
    try:
        # O_NOFOLLOW: a planted symlink at build/.lock is never followed out of the project;
        # O_NONBLOCK: a FIFO there opens at once (then refused below), not when a writer comes
        fd = os.open(
            path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, 0o644
        )
    except OSError as e:
        raise StoryboardError(f"cannot open {path}: {e.strerror or e}") from None
    from storyboard.board.assets import mode_kind  # here: it imports pydantic (start-up)

    kind = mode_kind(os.fstat(fd).st_mode)
    if kind is not None:
        os.close(fd)
        raise StoryboardError(
            f"cannot use {path} as the project's lock: it is {kind}; remove it and run again"
        )
    os.set_blocking(fd, True)
    return fd


def _busy_message(root: Path, what: str) -> str:
    who = holder(root)
    if who is None:
        return f"another {what} of this project is running"
    return f"another {who[0]} of this project is running (pid {who[1]})"


@contextmanager
def project_writer(
    project_root: Path,
    what: str = "render",
    *,
    wait: bool = True,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[Path]:
    """Hold the project's writer lock for the ``with`` block; yields the lock file's path.

    ``what`` names the holder in the other side's message ("another render of this project is
    running (pid 123); waiting"). With ``wait=False`` a busy project raises :class:`WriterBusy`.
    """
    root = project_root.resolve()
    path = lock_path(root)
    with _registry:
        held = _held.setdefault(path, _Held())
    if not held.thread_lock.acquire(blocking=False):
        msg = _busy_message(root, what)
        if not wait:
            raise WriterBusy(f"{msg}; not waiting")
        if on_wait is not None:
            on_wait(f"{msg}; waiting")
        held.thread_lock.acquire()
    try:
        if held.depth == 0:
            fd = _open(path)
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    msg = _busy_message(root, what)
                    if not wait:
                        raise WriterBusy(f"{msg}; not waiting") from None
                    if on_wait is not None:
                        on_wait(f"{msg}; waiting")
                    fcntl.flock(fd, fcntl.LOCK_EX)
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()} {what}\n".encode(), 0)
            except BaseException:
                os.close(fd)
                raise
            held.fd = fd
        held.depth += 1
        try:
            yield path
        finally:
            held.depth -= 1
            if held.depth == 0 and held.fd is not None:
                # closing the descriptor releases the flock; the file stays (unlinking races)
                os.close(held.fd)
                held.fd = None
    finally:
        held.thread_lock.release()
