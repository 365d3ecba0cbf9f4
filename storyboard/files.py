"""Files the tool writes and reads: atomic writes, and paths confined to a project."""

from __future__ import annotations

import errno
import json
import math
import os
import re
import shutil
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

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


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists (someone else's counts as alive)."""
    return _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: someone else's process, alive
        return True
    return True


def host_tag() -> str:
    """A short tag of this machine's name: a temporary file names its writer's pid *and*
    machine, so a folder shared by several machines never judges another's process."""
    import hashlib
    import socket

    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def part_prefix_for(name: str) -> str:
    """``.NAME.PID-HOST-``: the prefix of this process's temporary file for ``NAME``."""
    return f".{name}.{os.getpid()}-{host_tag()}-"


def writer_gone(tag: str) -> bool:
    """Whether the writer a temporary file's ``PID-HOST-...`` tag names, a process of this
    machine, is dead. Another machine's, this process's own, or a tag of another form: not
    judged (False)."""
    pid, _, rest = tag.partition("-")
    if not pid.isdigit() or not rest.startswith(host_tag() + "-"):
        return False
    return int(pid) not in (0, os.getpid()) and not _alive(int(pid))


def sweep_dead_parts(folder: Path, name: str) -> list[Path]:
    """Remove ``folder/.NAME.PID-HOST-*.part`` files of this machine whose writer is gone (a
    download killed half-way: hostile helper-55 found them kept for ever). Only regular files;
    a live writer's, another machine's and this process's own are kept."""
    removed: list[Path] = []
    head = f".{name}."
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        n = entry.name
        if not (n.startswith(head) and n.endswith(".part")) or not writer_gone(n[len(head) :]):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            os.unlink(entry.path)
        except OSError:
            continue
        removed.append(Path(entry.path))
    return removed


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


def https_url_problem(url: str) -> str | None:
    """Why ``url`` (an https URL a storyboard names) cannot be fetched, or None: it must name
    a host of letters, digits, dots and dashes, and hold no space or control character."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        host = ""
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return "it holds a space or a control character"
    if not re.fullmatch(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?", host, re.ASCII):
        return "it names no usable host"
    return None


def resolve_inside(root: Path, rel: str) -> Path | None:
    """``root/rel`` resolved, or None when it escapes ``root``."""
    p = (root / rel).resolve()
    try:
        p.relative_to(root.resolve())
    except ValueError:
        return None
    return p


MAX_JSON_DEPTH = 64  # no file or request the tool reads nests deeper than this


def parse_json(raw: bytes | str, what: str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """JSON read defensively: UTF-8, finite numbers only (no NaN or Infinity, no 1e309),
    no NUL character in any string or key, no key twice in an object, nested at most
    ``max_depth`` deep. Raises :class:`StoryboardError` naming ``what`` and the reason; never
    anything else."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise StoryboardError(f"{what}: not UTF-8 text") from None

    def no_constant(name: str) -> Any:
        raise StoryboardError(f"{what}: {name} is not a number JSON allows")

    def no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:  # `{"budget": 1, "budget": 50}`: which one was meant? (hostile F6)
                raise StoryboardError(f"{what}: the key {key!r} is given twice")
            out[key] = value
        return out

    try:
        data = json.loads(text, parse_constant=no_constant, object_pairs_hook=no_repeats)
    except RecursionError:
        raise StoryboardError(f"{what}: nested more than {max_depth} deep") from None
    except ValueError as e:
        raise StoryboardError(f"{what}: not valid JSON ({e})") from None
    _check_tree(data, what, max_depth)
    return data


def _check_tree(data: Any, what: str, max_depth: int) -> None:
    """Walk without recursion: depth, finite floats, no NUL."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > max_depth:
                raise StoryboardError(f"{what}: nested more than {max_depth} deep")
            if isinstance(node, dict):
                for k, v in node.items():
                    if "\x00" in k:
                        raise StoryboardError(f"{what}: a NUL character in a key")
                    stack.append((v, depth + 1))
            else:
                stack.extend((v, depth + 1) for v in node)
        elif isinstance(node, float) and not math.isfinite(node):
            raise StoryboardError(f"{what}: a number too large to be finite")
        elif isinstance(node, str) and "\x00" in node:
            raise StoryboardError(f"{what}: a NUL character in a string")


def shared_templates() -> Path:
    """The folder of the shared prompt templates (``shot.j2`` and the others): the repo's
    ``templates/`` (editable installs), else the copy a regular install puts under ``share/``.
    Here, light, because the no-op render's check reads it before anything heavy is imported."""
    repo = Path(__file__).resolve().parents[1] / "templates"
    if repo.is_dir():
        return repo
    return Path(sys.prefix) / "share" / "storyboard" / "templates"


SOUND_SUFFIXES = (".mp3", ".wav", ".m4a", ".aac", ".ogg", ".opus", ".flac")
"""The file names of sound takes (lines, music, effects): they have a length, not a size."""


def shell_arg(path: str | Path) -> str:
    """A path in a command a message tells the user to run: quoted for a POSIX shell where it
    needs it, and never read as an option (``./-dash``), so it can be pasted (hostile
    helper-62: ``storyboard plan /tmp/my film`` ran on ``/tmp/my``)."""
    import shlex

    text = str(path)
    return shlex.quote("./" + text if text.startswith("-") else text)
