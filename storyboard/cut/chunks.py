"""The chunk cache (``build/chunks/``): every encoded stretch of picture and every step of the
sound, stored under a key that hashes exactly what shaped it.

A chunk's key describes its content, not its place in the film (source take hash, the
source time it starts at, its frame count, filters, codec settings; times relative to the
chunk's own start), so editing one scene re-encodes only the chunks that show that scene.

* Written atomically: each chunk is made under a temporary name (``.part-*``) in the cache
  folder and renamed when complete; a killed compose leaves at most a temporary file, which is
  never looked up and is swept on the next eviction.
* Bounded: after each compose the least recently used chunks are deleted until the cache fits
  its limit (``STORYBOARD_CACHE_MB``, default 2048 MB). A chunk is "used" when a compose looks
  it up or makes it (its mtime is set then); the chunks of the film just made are never evicted.
* Proven: beside each entry a record (``KEY.EXT.sum``) holds its name, size and sha256,
  written when the entry is made. A lookup checks all three; an entry that does not match
  (swapped, alone or with its record; truncated, garbage, a symlink, no record) is deleted and
  made again, with one line saying so.
* Confined: ``build/chunks``, its folders and its entries are only ever real folders and
  files; a symlink is never followed (a symlinked folder is replaced by a real one, a
  symlinked entry deleted as a link), so nothing outside the cache is read or deleted.
* ``fresh`` (``compose --force``): nothing is read from the cache; every entry is made again.
* Shared: a compose holds the cache while it runs (a shared ``flock`` on ``.in-use`` in the
  cache folder); the trim after it is done only when no other compose holds it (an exclusive
  lock, not waited for), else it is left to the last one to finish (hostile5 Q2: two composes
  on one ``--cache``, the first to end deleted the chunks the other was about to join).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
import re
import shutil
import stat
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from storyboard.errors import StoryboardError
from storyboard.files import host_tag, writer_gone

DEFAULT_LIMIT_MB = 2048
LIMIT_ENV = "STORYBOARD_CACHE_MB"
MAX_LIMIT_MB = 1e12  # a petabyte and more: any larger figure is a typo
PART_PREFIX = ".part-"
STALE_PART_SECONDS = 3600  # temporary files older than this belong to no running compose
SUM_SUFFIX = ".sum"  # an entry's record: its size and sha256
SHARD = re.compile(r"\A[0-9a-f]{2}\Z")  # the folders the cache makes: a key's first two digits
ENTRY = re.compile(r"\A([0-9a-f]{40})\.[A-Za-z0-9]{1,8}(?:\.sum)?\Z")  # KEY.EXT, KEY.EXT.sum
CHUNK_VERSION = "2"  # bump when a chunk would be encoded differently from the same description
# (2: every chunk's frames tagged with the film's colour, media.ffmpeg.tags_filter)
IN_USE = ".in-use"  # held shared by each running compose; the trim needs it exclusive


def chunk_key(kind: str, spec: object) -> str:
    """A content key: the hash of a JSON description of what the chunk is made from."""
    blob = json.dumps(
        {"v": CHUNK_VERSION, "kind": kind, "spec": spec}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:40]


def cache_limit_bytes() -> int:
    """The cache's size limit from ``STORYBOARD_CACHE_MB`` (MB; 0 keeps only the current film)."""
    raw = os.environ.get(LIMIT_ENV, "").strip()
    if not raw:
        return DEFAULT_LIMIT_MB * 1024 * 1024
    try:
        mb = float(raw)
    except ValueError:
        raise StoryboardError(
            f"{LIMIT_ENV}={raw!r}: expected a size in MB, e.g. {LIMIT_ENV}=2048"
        ) from None
    if not math.isfinite(mb):
        raise StoryboardError(
            f"{LIMIT_ENV}={raw!r}: expected a finite size in MB, e.g. {LIMIT_ENV}=2048"
        )
    if mb < 0:
        raise StoryboardError(f"{LIMIT_ENV}={raw!r}: the size must not be negative")
    if mb > MAX_LIMIT_MB:
        raise StoryboardError(f"{LIMIT_ENV}={raw!r}: at most {MAX_LIMIT_MB:g} MB")
    return int(mb * 1024 * 1024)


def read_head(path: Path, n: int) -> bytes | None:
    """The first ``n`` bytes of a regular file, opened without following a symlink or waiting
    on a FIFO; None for anything else (missing, a link, a folder, a device)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                return None
            return fh.read(n)
    except OSError:
        return None


def sha256_nofollow(path: Path) -> tuple[int, str] | None:
    """(size, sha256) of a regular file, opened without following a symlink; else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
    except OSError:
        regular = False
    if not regular:  # before fdopen, which refuses a folder (hostile helper-52)
        os.close(fd)
        return None
    with os.fdopen(fd, "rb") as fh:
        h = hashlib.sha256()
        size = 0
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
            size += len(block)
    return size, h.hexdigest()


def _unblock(path: Path) -> None:
    """Remove what a rename onto ``path`` cannot replace (a folder); a file or a link is left
    for the rename to replace atomically."""
    try:
        if stat.S_ISDIR(path.lstat().st_mode):
            _remove(path)
    except OSError:
        pass


def _remove(path: Path) -> None:
    """Delete one cache entry itself: a link is unlinked (its target untouched), a real
    folder removed with what it holds (rmtree never follows the links inside it)."""
    try:
        st = path.lstat()
    except OSError:
        return
    try:
        if stat.S_ISDIR(st.st_mode):
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass


class ChunkCache:
    """Content-addressed files under one folder, with hit/miss counts for the compose report."""

    def __init__(
        self,
        folder: Path,
        clock: Callable[[], float] = time.time,
        log: Callable[[str], None] | None = None,
        fresh: bool = False,
    ):
        self.folder = folder
        self.clock = clock
        self.log = log or (lambda line: None)
        self.fresh = fresh  # compose --force: read nothing, make every entry again
        self.hits = 0
        self.made = 0
        self.damaged = 0
        self.used: set[Path] = set()
        self._lock = threading.Lock()
        self._held: int | None = None  # the file descriptor of this compose's shared hold

    def _in_use(self) -> int | None:
        """A descriptor of the cache folder's ``.in-use`` file (made if missing), or None when
        the folder cannot hold one. Anything else there (a folder, a FIFO, a link: never
        followed) is replaced by a file, with one line saying so (hostile6 R4: it stopped every
        trim, silently)."""
        spot = self.folder / IN_USE
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
        for attempt in range(2):
            try:
                self._real_dir(self.folder)
                fd = os.open(spot, flags, 0o644)
            except OSError:
                fd = None
            if fd is not None:
                try:
                    if stat.S_ISREG(os.fstat(fd).st_mode):
                        return fd
                except OSError:
                    pass
                os.close(fd)
            try:
                st = spot.lstat()
            except OSError:
                return None  # nothing there and none can be made: a folder we cannot write
            if attempt or stat.S_ISREG(st.st_mode):
                return None
            _remove(spot)
            self._say(f"chunk cache: {spot} was not a file; replaced by one")
        return None

    def hold(self) -> None:
        """Hold the cache for a compose: no other compose trims it until :meth:`release` (or
        this process ends). Waits while another one is trimming it (a moment)."""
        if self._held is not None:
            return
        fd = self._in_use()
        if fd is None:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
        except OSError:
            os.close(fd)
            return
        self._held = fd

    def release(self) -> None:
        if self._held is not None:
            os.close(self._held)  # closing the descriptor drops its lock
            self._held = None

    def path(self, key: str, ext: str) -> Path:
        return self.folder / key[:2] / f"{key}.{ext}"

    def _say(self, line: str) -> None:
        with self._lock:
            self.damaged += 1
        self.log(line)

    def _real_dir(self, folder: Path) -> None:
        """Make ``folder`` a real folder: a symlink (or a file) there is removed, not followed."""
        try:
            st = folder.lstat()
        except FileNotFoundError:
            folder.mkdir(parents=True, exist_ok=True)
            return
        if stat.S_ISDIR(st.st_mode):
            return
        kind = "a symlink" if stat.S_ISLNK(st.st_mode) else "not a folder"
        folder.unlink()
        self._say(f"chunk cache: {folder} was {kind}; not followed, a new folder made in its place")
        folder.mkdir(parents=True, exist_ok=True)

    def _problem(self, p: Path) -> str | None:
        """Why the entry at ``p`` cannot be trusted ("" when it is simply absent), or None."""
        try:
            if not stat.S_ISDIR(self.folder.lstat().st_mode):
                return ""
            if not stat.S_ISDIR(p.parent.lstat().st_mode):
                return ""
            st = p.lstat()
        except OSError:
            return ""
        if stat.S_ISLNK(st.st_mode):
            return "it is a symlink"
        if not stat.S_ISREG(st.st_mode):
            return "it is not a regular file"
        record = _read_record(p)
        if record is None:
            return "it has no record of its size and hash"
        if record[2] != p.name:
            return f"its record is another entry's ({record[2][:16]}...)"
        if st.st_size != record[0]:
            return f"it is {st.st_size} bytes, {record[0]} were written"
        found = sha256_nofollow(p)
        if found is None or found != record[:2]:
            return "its content does not match the hash written with it"
        return None

    def get(
        self, key: str, ext: str, check: Callable[[Path], str | None] | None = None
    ) -> Path | None:
        """The chunk if it is on disk and proven (and mark it used), else None.

        ``check``: why the entry's content cannot be what its user wants, or None; an entry it
        refuses is damaged like one whose record does not match (a forgery rewritten with its
        record, which only its user can tell)."""
        if self.fresh:
            return None
        p = self.path(key, ext)
        why = self._problem(p)
        if why is None and check is not None:
            why = check(p)
        if why:
            _remove(p)
            _remove(_record_path(p))
            self._say(f"chunk cache: {p.name} is damaged ({why}): deleted, made again")
        if why is not None:
            return None
        try:
            now = self.clock()
            os.utime(p, (now, now), follow_symlinks=False)
        except FileNotFoundError:  # evicted by another compose since it was checked
            return None
        except OSError:  # a cache it may read but not mark (read-only): still a hit, only
            pass  # its place in the eviction order is older (hostile helper-57: every hit
            # became a miss, and the compose failed writing what it already had)
        with self._lock:
            self.hits += 1
            self.used.add(p)
        return p

    def make(self, key: str, ext: str, produce: Callable[[Path], object]) -> Path:
        """The chunk, made by ``produce(tmp_path)`` when it is not cached yet (always when
        ``fresh``)."""
        hit = self.get(key, ext)
        if hit is not None:
            return hit
        p = self.path(key, ext)
        try:
            self._real_dir(self.folder)
            self._real_dir(p.parent)
            fd, tmp_name = tempfile.mkstemp(prefix=part_prefix(), suffix=f".{ext}", dir=p.parent)
            os.close(fd)
        except OSError as e:
            raise StoryboardError(f"cannot write the chunk cache {self.folder}: {e}") from None
        tmp = Path(tmp_name)
        try:
            produce(tmp)
            if not tmp.is_file() or tmp.stat().st_size == 0:
                raise StoryboardError(f"internal: chunk {p.name} came out empty")
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            made = sha256_nofollow(tmp)
            if made is None:
                raise StoryboardError(f"internal: chunk {p.name} is not a regular file")
            # the record first, then the chunk, each renamed over the old one (never deleted
            # first): a compose reading this key at the same time (another film, another Ray
            # worker) never finds it missing or without its record (issue 20)
            _write_record(p, made)
            _unblock(p)  # a damaged entry of another kind (a folder) would block the rename
            os.replace(tmp, p)
            now = self.clock()
            os.utime(p, (now, now))
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        with self._lock:
            self.made += 1
            self.used.add(p)
        return p

    def evict(self, limit: int | None = None) -> list[Path]:
        """Delete least recently used chunks until the cache fits ``limit`` bytes.

        Chunks used by this compose are kept whatever the limit; so are temporary files of a
        compose that may still be running (its process is alive, or it is on another machine
        and younger than an hour). Only real files inside the
        real cache folder are ever deleted. Returns what was deleted.
        """
        limit = cache_limit_bytes() if limit is None else limit
        try:
            if not stat.S_ISDIR(self.folder.lstat().st_mode):
                return []  # a symlink (or nothing): never followed
        except OSError:
            return []
        self.release()
        alone = self._in_use()
        if alone is None:
            return []  # no way to know who else uses the cache: nothing is deleted
        try:
            try:
                fcntl.flock(alone, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return []  # another compose holds the cache: the last to finish trims it
            return self._trim(limit)
        finally:
            os.close(alone)

    def _trim(self, limit: int) -> list[Path]:
        entries: list[tuple[float, int, Path]] = []
        removed: list[Path] = []
        now = self.clock()
        files = self._files()
        names = {p for p in files}
        for p in files:
            try:
                st = p.stat(follow_symlinks=False)
            except OSError:
                continue
            if p.name.startswith(PART_PREFIX):
                if _writer_gone(p.name) or now - st.st_mtime > STALE_PART_SECONDS:
                    p.unlink(missing_ok=True)
                    removed.append(p)
                continue
            if p.name.endswith(SUM_SUFFIX):
                if p.with_name(p.name[: -len(SUM_SUFFIX)]) not in names:
                    p.unlink(missing_ok=True)  # the record of an entry that is gone
                continue
            entries.append((st.st_mtime, st.st_size, p))
        total = sum(size for _, size, _ in entries)
        for _, size, p in sorted(entries, key=lambda e: (e[0], e[2].name)):
            if total <= limit:
                break
            if p in self.used:
                continue
            p.unlink(missing_ok=True)
            _record_path(p).unlink(missing_ok=True)
            removed.append(p)
            total -= size
        return removed

    def size(self) -> int:
        """Bytes held (complete chunks only)."""
        total = 0
        for p in self._files():
            if not p.name.startswith(PART_PREFIX) and not p.name.endswith(SUM_SUFFIX):
                try:
                    total += p.stat(follow_symlinks=False).st_size
                except OSError:
                    pass
        return total

    def _files(self) -> list[Path]:
        """Regular files one level down; symlinks (to folders or files) are never followed,
        so eviction cannot delete anything outside the cache."""
        out: list[Path] = []
        try:
            if not stat.S_ISDIR(self.folder.lstat().st_mode):
                return out
            subs = [e for e in os.scandir(self.folder) if e.is_dir(follow_symlinks=False)]
        except OSError:
            return out
        for sub in subs:
            if not SHARD.match(sub.name):
                continue  # not a folder the cache made: never looked into (hostile H8)
            try:
                out += [
                    Path(e.path)
                    for e in os.scandir(sub.path)
                    if _ours(e.name, sub.name) and e.is_file(follow_symlinks=False)
                ]
            except OSError:
                continue
        return out


def part_prefix() -> str:
    """``.part-PID-HOST-``: a temporary file names its writer, so a killed compose's are swept
    by the next one at once, not an hour later (hostile F9). The host is named too: a cache
    shared by several machines never judges another machine's process."""
    return f"{PART_PREFIX}{os.getpid()}-{host_tag()}-"


def _writer_gone(name: str) -> bool:
    """Whether the process that wrote the temporary file ``name`` (on this machine) is dead;
    another machine's, or a name from before, is not judged: swept when old."""
    return writer_gone(name[len(PART_PREFIX) :])


def _ours(name: str, shard: str) -> bool:
    """A name the cache writes in ``shard``: an entry, its record or a temporary file."""
    if name.startswith(PART_PREFIX):
        return True
    m = ENTRY.match(name)
    return m is not None and m.group(1)[:2] == shard


def _record_path(p: Path) -> Path:
    return p.with_name(p.name + SUM_SUFFIX)


def _read_record(p: Path) -> tuple[int, str, str] | None:
    """The (size, sha256, entry name) written with the entry at ``p``, or None (missing, not a
    regular file, not what a record holds)."""
    head = read_head(_record_path(p), 4096)
    try:
        data = json.loads(head.decode("utf-8")) if head is not None else None
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    size, digest, entry = data.get("size"), data.get("sha256"), data.get("entry")
    if type(size) is not int or not isinstance(digest, str) or len(digest) != 64:
        return None
    if not isinstance(entry, str):
        return None
    return size, digest, entry


def _write_record(p: Path, made: tuple[int, str]) -> None:
    blob = json.dumps({"entry": p.name, "size": made[0], "sha256": made[1]}).encode()
    fd, tmp = tempfile.mkstemp(prefix=part_prefix(), suffix=SUM_SUFFIX, dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
            fh.flush()
            os.fsync(fh.fileno())
        _unblock(_record_path(p))
        os.replace(tmp, _record_path(p))
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
