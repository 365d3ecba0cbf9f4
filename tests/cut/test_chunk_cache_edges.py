"""cut/chunks.py at its edges, on tiny files (the mutants test_chunk_cache_rules.py left):
counts, large chunks, FIFOs and links where records and shards go, temporary names."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

import pytest

from storyboard.cut import chunks
from storyboard.cut.chunks import PART_PREFIX, ChunkCache, chunk_key
from storyboard.errors import StoryboardError

KEYS = [chunk_key("edge", i) for i in range(12)]


def put(cache: ChunkCache, key: str, data: bytes = b"chunk") -> Path:
    return cache.make(key, "bin", lambda p: p.write_bytes(data))


def test_every_hit_make_and_damage_is_counted(tmp_path: Path) -> None:
    cache = ChunkCache(tmp_path / "chunks")
    a, b = put(cache, KEYS[0]), put(cache, KEYS[1])
    assert cache.made == 2
    again = ChunkCache(tmp_path / "chunks")
    put(again, KEYS[0]), put(again, KEYS[1])
    assert again.hits == 2
    a.write_bytes(b"CHUNK")
    b.write_bytes(b"CHUNK")
    said: list[str] = []
    third = ChunkCache(tmp_path / "chunks", log=said.append)
    assert third.get(KEYS[0], "bin") is None and third.get(KEYS[1], "bin") is None
    assert third.damaged == 2 and len(said) == 2


def test_a_chunk_larger_than_a_read_is_found_again(tmp_path: Path) -> None:
    data = os.urandom(3 << 19)  # 1.5 MiB: read in two blocks
    p = put(ChunkCache(tmp_path / "chunks"), KEYS[0], data)
    said: list[str] = []
    assert ChunkCache(tmp_path / "chunks", log=said.append).get(KEYS[0], "bin") == p
    assert said == [] and json.loads((p.parent / f"{p.name}.sum").read_bytes())["size"] == len(data)


def test_the_temporary_files_are_named_for_their_writer_inside_the_shard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[Path] = []
    real = tempfile.mkstemp

    def spy(*args: object, **kw: object) -> tuple[int, str]:
        fd, name = real(*args, **kw)  # type: ignore[call-overload]
        made.append(Path(name))
        return fd, name

    monkeypatch.setattr(tempfile, "mkstemp", spy)
    seen: list[Path] = []
    cache = ChunkCache(tmp_path / "chunks")
    p = cache.make(KEYS[0], "mp4", lambda t: (seen.append(t), t.write_bytes(b"x")))
    assert seen == [made[0]] and made[0].suffix == ".mp4"  # ffmpeg picks the format by it
    assert [m.parent for m in made] == [p.parent, p.parent] and made[1].name.endswith(".sum")
    prefix = chunks.part_prefix()
    assert re.fullmatch(rf"\{PART_PREFIX}{os.getpid()}-[0-9a-f]{{8}}-", prefix)
    assert all(m.name.startswith(prefix) for m in made)


def test_a_failed_record_write_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = ChunkCache(tmp_path / "chunks")
    calls: list[int] = []

    def fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:  # the chunk's own, then the record's
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(OSError, match="No space left"):
        put(cache, KEYS[0])
    assert list((tmp_path / "chunks" / KEYS[0][:2]).iterdir()) == []


def test_a_temporary_chunk_that_is_a_link_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.bin"
    target.write_bytes(b"not made here")

    def link(t: Path) -> None:
        t.unlink()
        t.symlink_to(target)

    with pytest.raises(StoryboardError, match=f"internal: chunk {KEYS[0]}.bin is not a regular"):
        ChunkCache(tmp_path / "chunks").make(KEYS[0], "bin", link)
    assert target.read_bytes() == b"not made here"


def test_a_record_that_is_a_fifo_or_a_link_is_no_record(tmp_path: Path) -> None:
    p = put(ChunkCache(tmp_path / "chunks"), KEYS[0])
    rec = p.parent / f"{p.name}.sum"
    kept = tmp_path / "record.sum"
    rec.rename(kept)
    rec.symlink_to(kept)  # a good record, but through a link
    assert chunks._read_record(p) is None
    rec.unlink()
    os.mkfifo(rec)  # opened without waiting for a writer
    assert chunks._read_record(p) is None
    said: list[str] = []
    assert ChunkCache(tmp_path / "chunks", log=said.append).get(KEYS[0], "bin") is None
    assert "it has no record of its size and hash" in said[0]


def test_a_record_is_read_up_to_4096_bytes(tmp_path: Path) -> None:
    p = put(ChunkCache(tmp_path / "chunks"), KEYS[0])
    rec = p.parent / f"{p.name}.sum"
    data = json.loads(rec.read_bytes())
    blob = json.dumps({**data, "pad": ""}).encode()
    rec.write_bytes(json.dumps({**data, "pad": " " * (4096 - len(blob))}).encode())
    assert chunks._read_record(p) is not None  # exactly 4096 bytes
    rec.write_bytes(json.dumps({**data, "pad": " " * (4097 - len(blob))}).encode())
    assert chunks._read_record(p) is None


def test_fresh_replaces_a_folder_where_the_entry_goes(tmp_path: Path) -> None:
    p = ChunkCache(tmp_path / "chunks").path(KEYS[0], "bin")
    p.mkdir(parents=True)
    (p / "inside").write_bytes(b"x")
    assert put(ChunkCache(tmp_path / "chunks", fresh=True), KEYS[0]).read_bytes() == b"chunk"


def test_a_cache_folder_deep_inside_new_folders_is_made(tmp_path: Path) -> None:
    p = put(ChunkCache(tmp_path / "a" / "b" / "chunks"), KEYS[0])
    assert p.read_bytes() == b"chunk"


def test_eviction_keeps_a_used_chunk_and_goes_on_past_it(tmp_path: Path) -> None:
    cache = ChunkCache(tmp_path / "chunks")
    old, new = put(cache, KEYS[0]), put(cache, KEYS[1])
    os.utime(old, (100, 100))
    later = ChunkCache(tmp_path / "chunks")
    later.get(KEYS[0], "bin")
    os.utime(old, (100, 100))  # used by this compose, and the oldest
    assert later.evict(limit=0) == [new] and old.exists()


def test_eviction_breaks_a_tie_by_name_not_size(tmp_path: Path) -> None:
    cache = ChunkCache(tmp_path / "chunks")
    small, large = sorted(KEYS[:2])
    a = put(cache, small, b"x" * 100)  # first by name, larger
    b = put(cache, large, b"y" * 10)
    for p in (a, b):
        os.utime(p, (100, 100))
    assert ChunkCache(tmp_path / "chunks").evict(limit=50) == [a]


def test_eviction_looks_in_every_shard_and_never_through_a_linked_one(tmp_path: Path) -> None:
    cache = ChunkCache(tmp_path / "chunks")
    made = [put(cache, k) for k in KEYS]
    for name in ("photos", "a", "zz", "1234"):
        (tmp_path / "chunks" / name).mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    free = next(f"{i:02x}" for i in range(256) if not (tmp_path / "chunks" / f"{i:02x}").exists())
    victim = outside / f"{free}{'0' * 38}.bin"
    victim.write_bytes(b"precious")
    (tmp_path / "chunks" / free).symlink_to(outside, target_is_directory=True)
    link = made[0].parent / f"{made[0].parent.name}{'1' * 38}.bin"
    link.symlink_to(victim)  # an entry's name, but a link
    fresh = ChunkCache(tmp_path / "chunks")
    assert fresh.size() == 5 * len(KEYS)
    assert sorted(fresh.evict(limit=0)) == sorted(made)
    assert victim.read_bytes() == b"precious" and link.is_symlink()


def test_a_part_file_of_a_live_process_is_kept(tmp_path: Path) -> None:
    cache = ChunkCache(tmp_path / "chunks")
    put(cache, KEYS[0])
    host = chunks.part_prefix().split("-")[2]
    live = tmp_path / "chunks" / KEYS[0][:2] / f"{PART_PREFIX}1-{host}-x.bin"  # pid 1: init
    live.write_bytes(b"half")
    assert cache.evict(limit=10**9) == [] and live.exists()


def test_an_entry_without_its_record_is_evicted_too(tmp_path: Path) -> None:
    p = put(ChunkCache(tmp_path / "chunks"), KEYS[0])
    (p.parent / f"{p.name}.sum").unlink()  # deleted by hand, or lost
    assert ChunkCache(tmp_path / "chunks").evict(limit=0) == [p] and not p.exists()


class Listing(list):  # type: ignore[type-arg]
    """A directory listing in an order the test chose (``os.scandir``'s is the file system's)."""

    def __enter__(self) -> Listing:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def close(self) -> None:
        return None


def test_eviction_goes_on_past_a_folder_that_is_not_a_shard_listed_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = ChunkCache(tmp_path / "chunks")
    made = [put(cache, k) for k in KEYS[:3]]
    (tmp_path / "chunks" / "photos").mkdir()
    real = os.scandir

    def scandir(path: object) -> Listing:
        entries = Listing(real(path))  # type: ignore[call-overload]
        entries.sort(key=lambda e: chunks.SHARD.match(e.name) is not None)  # others first
        return entries

    monkeypatch.setattr(chunks.os, "scandir", scandir)
    fresh = ChunkCache(tmp_path / "chunks")
    assert fresh.size() == 5 * 3
    assert sorted(fresh.evict(limit=0)) == sorted(made)
    assert not any(p.exists() for p in made)


def test_eviction_goes_on_past_a_shard_that_cannot_be_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = ChunkCache(tmp_path / "chunks")
    made = sorted(put(cache, k) for k in KEYS[:3])
    unreadable = str(made[0].parent)  # listed first, then unreadable (gone, or no permission)
    real = os.scandir

    def scandir(path: object) -> Listing:
        if os.fspath(path) == unreadable:  # type: ignore[call-overload]
            raise PermissionError(13, "Permission denied", unreadable)
        entries = Listing(real(path))  # type: ignore[call-overload]
        entries.sort(key=lambda e: e.path != unreadable)
        return entries

    monkeypatch.setattr(chunks.os, "scandir", scandir)
    fresh = ChunkCache(tmp_path / "chunks")
    assert fresh.size() == 5 * 2
    assert sorted(fresh.evict(limit=0)) == made[1:]


def test_eviction_goes_on_past_a_file_that_went_away_after_the_listing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another compose deleted it between the listing and its size being read."""
    made = sorted(put(ChunkCache(tmp_path / "chunks"), k) for k in KEYS[:2])
    fresh = ChunkCache(tmp_path / "chunks")
    listed = fresh._files()
    gone = made[0].parent / f"{made[0].parent.name}{'2' * 38}.bin"  # listed, then deleted
    monkeypatch.setattr(fresh, "_files", lambda: [gone, *listed])
    assert sorted(fresh.evict(limit=0)) == made
