"""Files the tool writes and reads: atomic writes, and paths confined to a project."""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
from pathlib import Path

from storyboard.errors import StoryboardError


def current_umask() -> int:
    """The process umask, read without changing it (``os.umask`` would, for every thread)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # no /proc: the classic read-and-restore
    os.umask(mask)
    return mask


def write_error(path: Path | str, e: OSError, *, what: str = "cannot write") -> StoryboardError:
    """The one message for a failed write; a file-size limit (``ulimit -f``) says so."""
    if e.errno == errno.EFBIG:
        return StoryboardError(f"file size limit reached writing {path} (ulimit -f)")
    return StoryboardError(f"{what} {path}: {e.strerror or e}")


def atomic_write(path: Path, data: bytes) -> None:
    """Temp file in the same folder, fsync, rename: never half-written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            os.fchmod(fd, 0o666 & ~current_umask())  # mkstemp's 0600 is for secrets, not films
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as e:
        raise write_error(path, e) from None


def owned_tempdir(prefix: str, folder: Path | None = None) -> Path:
    """``mkdtemp`` whose name carries this process's pid, so :func:`sweep_stale` can tell
    a folder left by a killed run from one still in use."""
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=folder))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: someone else's process, alive
        return True
    return True


def sweep_stale(prefix: str, folder: Path) -> list[Path]:
    """Remove ``folder/<prefix><pid>-*`` folders whose owner process is gone.

    Only real folders (never a symlink) named by :func:`owned_tempdir` are touched; one
    whose pid is alive (even if reused by another program) is kept, so a running process's
    work is never removed. Returns what was removed.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        pid_text = entry.name[len(prefix) :].split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) in (0, os.getpid()):
            continue
        try:
            if not stat.S_ISDIR(entry.stat(follow_symlinks=False).st_mode):
                continue
        except OSError:
            continue
        if _alive(int(pid_text)):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(Path(entry.path))
    return removed


def resolve_inside(root: Path, rel: str) -> Path | None:
    """``root/rel`` resolved, or None when it escapes ``root``."""
    p = (root / rel).resolve()
    try:
        p.relative_to(root.resolve())
    except ValueError:
        return None
    return p
