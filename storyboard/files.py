"""Files the tool writes and reads: atomic writes, and paths confined to a project."""

from __future__ import annotations

import errno
import os
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


def resolve_inside(root: Path, rel: str) -> Path | None:
    """``root/rel`` resolved, or None when it escapes ``root``."""
    p = (root / rel).resolve()
    try:
        p.relative_to(root.resolve())
    except ValueError:
        return None
    return p
