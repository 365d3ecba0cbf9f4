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
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from storyboard.errors import StoryboardError

DEFAULT_LIMIT_MB = 2048
LIMIT_ENV = "STORYBOARD_CACHE_MB"
PART_PREFIX = ".part-"
STALE_PART_SECONDS = 3600  # temporary files older than this belong to no running compose
CHUNK_VERSION = "1"  # bump when a chunk would be encoded differently from the same description


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
    if mb < 0:
        raise StoryboardError(f"{LIMIT_ENV}={raw!r}: the size must not be negative")
    return int(mb * 1024 * 1024)


class ChunkCache:
    """Content-addressed files under one folder, with hit/miss counts for the compose report."""

    def __init__(self, folder: Path, clock: Callable[[], float] = time.time):
        self.folder = folder
        self.clock = clock
        self.hits = 0
        self.made = 0
        self.used: set[Path] = set()
        self._lock = threading.Lock()

    def path(self, key: str, ext: str) -> Path:
        return self.folder / key[:2] / f"{key}.{ext}"

    def get(self, key: str, ext: str) -> Path | None:
        """The chunk if it is complete on disk (and mark it used), else None."""
        p = self.path(key, ext)
        try:
            if not p.is_file() or p.stat().st_size == 0:
                return None
            now = self.clock()
            os.utime(p, (now, now))
        except OSError:
            return None
        with self._lock:
            self.hits += 1
            self.used.add(p)
        return p

    def make(self, key: str, ext: str, produce: Callable[[Path], object]) -> Path:
        """The chunk, made by ``produce(tmp_path)`` when it is not cached yet."""
        hit = self.get(key, ext)
        if hit is not None:
            return hit
        p = self.path(key, ext)
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=PART_PREFIX, suffix=f".{ext}", dir=p.parent)
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
        compose that may still be running (younger than an hour). Returns what was deleted.
        """
        limit = cache_limit_bytes() if limit is None else limit
        if not self.folder.is_dir():
            return []
        entries: list[tuple[float, int, Path]] = []
        removed: list[Path] = []
        now = self.clock()
        for p in self._files():
            try:
                st = p.stat(follow_symlinks=False)
            except OSError:
                continue
            if p.name.startswith(PART_PREFIX):
                if now - st.st_mtime > STALE_PART_SECONDS:
                    p.unlink(missing_ok=True)
                    removed.append(p)
                continue
            entries.append((st.st_mtime, st.st_size, p))
        total = sum(size for _, size, _ in entries)
        for _, size, p in sorted(entries, key=lambda e: (e[0], e[2].name)):
            if total <= limit:
                break
            if p in self.used:
                continue
            p.unlink(missing_ok=True)
            removed.append(p)
            total -= size
        return removed

    def size(self) -> int:
        """Bytes held (complete chunks only)."""
        total = 0
        for p in self._files():
            if not p.name.startswith(PART_PREFIX):
                try:
                    total += p.stat().st_size
                except OSError:
                    pass
        return total

    def _files(self) -> list[Path]:
        """Regular files one level down; symlinks (to folders or files) are never followed,
        so eviction cannot delete anything outside the cache."""
        out: list[Path] = []
        try:
            subs = [e for e in os.scandir(self.folder) if e.is_dir(follow_symlinks=False)]
        except OSError:
            return out
        for sub in subs:
            try:
                out += [
                    Path(e.path) for e in os.scandir(sub.path) if e.is_file(follow_symlinks=False)
                ]
            except OSError:
                continue
        return out
