"""cut/chunks.py rule by rule on tiny files, without encoding (for mutation testing): keys,
the size limit, what a lookup trusts and says, what eviction keeps, and the entry records."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from storyboard.cut import chunks
from storyboard.cut.chunks import PART_PREFIX, ChunkCache, cache_limit_bytes, chunk_key
from storyboard.errors import StoryboardError

KEY = chunk_key("test", {"n": 1})


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def cache_at(tmp_path: Path, clock: Clock | None = None) -> tuple[ChunkCache, list[str]]:
    said: list[str] = []
    return ChunkCache(tmp_path / "chunks", clock=clock or Clock(), log=said.append), said


def put(cache: ChunkCache, key: str = KEY, data: bytes = b"chunk", ext: str = "bin") -> Path:
    return cache.make(key, ext, lambda p: p.write_bytes(data))


def test_a_key_hashes_kind_and_spec_whatever_their_order() -> None:
    version = chunks.CHUNK_VERSION
    blob = '{"kind":"test","spec":{"a":1,"b":[2]},"v":"' + version + '"}'
    assert chunk_key("test", {"b": [2], "a": 1}) == hashlib.sha256(blob.encode()).hexdigest()[:40]
    assert len({chunk_key("test", 1), chunk_key("other", 1), chunk_key("test", 2)}) == 3


def test_the_version_is_part_of_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    before = chunk_key("test", 1)
    monkeypatch.setattr(chunks, "CHUNK_VERSION", chunks.CHUNK_VERSION + "-next")
    assert chunk_key("test", 1) != before


@pytest.mark.parametrize(
    ("value", "limit"),
    [
        (None, 2048 * 1024 * 1024),
        ("", 2048 * 1024 * 1024),
        ("  ", 2048 * 1024 * 1024),
        (" 1.5 ", int(1.5 * 1024 * 1024)),
        ("0", 0),
        ("1e12", int(1e12 * 1024 * 1024)),
    ],
)
def test_the_cache_limit(value: str | None, limit: int, monkeypatch: pytest.MonkeyPatch) -> None:
    if value is None:
        monkeypatch.delenv("STORYBOARD_CACHE_MB", raising=False)
    else:
        monkeypatch.setenv("STORYBOARD_CACHE_MB", value)
    assert cache_limit_bytes() == limit


def test_a_chunk_is_made_once_recorded_and_found(tmp_path: Path) -> None:
    clock = Clock(1000.0)
    cache, said = cache_at(tmp_path, clock)
    p = put(cache)
    assert p == tmp_path / "chunks" / KEY[:2] / f"{KEY}.bin" and p.read_bytes() == b"chunk"
    record = json.loads((p.parent / f"{p.name}.sum").read_bytes())
    assert record == {"entry": p.name, "size": 5, "sha256": hashlib.sha256(b"chunk").hexdigest()}
    assert p.stat().st_mtime == 1000.0 and (cache.made, cache.hits) == (1, 0)
    assert cache.used == {p}
    assert sorted(x.name for x in p.parent.iterdir()) == [p.name, f"{p.name}.sum"]  # no .part
    clock.now = 2000.0
    again, _ = cache_at(tmp_path, clock)
    assert put(again, data=b"other") == p and p.read_bytes() == b"chunk"  # found, not made
    assert (again.made, again.hits, again.used) == (0, 1, {p})
    assert p.stat().st_mtime == 2000.0  # a lookup marks it used now
    assert said == [] and cache.damaged == 0 and again.damaged == 0


def test_fresh_reads_nothing_and_makes_every_entry_again(tmp_path: Path) -> None:
    cache, _ = cache_at(tmp_path)
    put(cache)
    fresh = ChunkCache(tmp_path / "chunks", fresh=True)
    assert fresh.get(KEY, "bin") is None
    assert put(fresh, data=b"new").read_bytes() == b"new" and fresh.made == 1


def _damage_symlink(p: Path) -> None:
    target = p.parent.parent.parent / "outside.bin"
    target.write_bytes(p.read_bytes())
    p.unlink()
    p.symlink_to(target)


def _damage_folder(p: Path) -> None:
    p.unlink()
    p.mkdir()
    (p / "inside").write_bytes(b"x")


def _damage_record(p: Path, **change: object) -> None:
    rec = p.parent / f"{p.name}.sum"
    rec.write_text(json.dumps({**json.loads(rec.read_bytes()), **change}))


DAMAGE = {
    "symlink": (_damage_symlink, "it is a symlink"),
    "folder": (_damage_folder, "it is not a regular file"),
    "no record": (
        lambda p: (p.parent / f"{p.name}.sum").unlink(),
        "it has no record of its size and hash",
    ),
    "another's record": (
        lambda p: _damage_record(p, entry="f" * 40 + ".bin"),
        "its record is another entry's (ffffffffffffffff...)",
    ),
    "truncated": (lambda p: p.write_bytes(b"chu"), "it is 3 bytes, 5 were written"),
    "other bytes": (
        lambda p: p.write_bytes(b"CHUNK"),
        "its content does not match the hash written with it",
    ),
}


@pytest.mark.parametrize("damage", list(DAMAGE), ids=list(DAMAGE))
def test_a_damaged_entry_is_deleted_said_once_and_made_again(tmp_path: Path, damage: str) -> None:
    do, why = DAMAGE[damage]
    cache, said = cache_at(tmp_path)
    p = put(cache)
    do(p)
    again, said = cache_at(tmp_path)
    assert again.get(KEY, "bin") is None
    assert said == [f"chunk cache: {p.name} is damaged ({why}): deleted, made again"]
    assert again.damaged == 1
    assert not os.path.lexists(p) and not (p.parent / f"{p.name}.sum").exists()
    assert (tmp_path / "outside.bin").exists() or damage != "symlink"  # a link's target stays
    assert put(again, data=b"fresh").read_bytes() == b"fresh" and again.made == 1
    assert again.get(KEY, "bin") == p and again.hits == 1


def test_an_absent_entry_is_simply_missing(tmp_path: Path) -> None:
    cache, said = cache_at(tmp_path)
    assert cache.get(KEY, "bin") is None
    put(cache, key=chunk_key("test", 2))  # the shard folder exists, the entry does not
    assert cache.get(chunk_key("test", 3), "bin") is None
    assert said == [] and cache.damaged == 0


@pytest.mark.parametrize("what", ["symlink", "file"])
def test_a_cache_folder_that_is_not_a_folder_is_replaced_not_followed(
    tmp_path: Path, what: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    folder = tmp_path / "chunks"
    if what == "symlink":
        folder.symlink_to(outside, target_is_directory=True)
    else:
        folder.write_bytes(b"not a folder")
    cache, said = cache_at(tmp_path)
    assert cache.get(KEY, "bin") is None and said == []  # a lookup never follows it either
    p = put(cache)
    kind = "a symlink" if what == "symlink" else "not a folder"
    assert said == [
        f"chunk cache: {folder} was {kind}; not followed, a new folder made in its place"
    ]
    assert folder.is_dir() and not folder.is_symlink() and p.is_file()
    assert list(outside.iterdir()) == [] and cache.damaged == 1
    assert cache.evict(limit=0) == [] and cache.size() == 5  # in use: kept


def test_a_shard_that_is_a_link_is_replaced_too(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "chunks").mkdir()
    (tmp_path / "chunks" / KEY[:2]).symlink_to(outside, target_is_directory=True)
    cache, said = cache_at(tmp_path)
    assert cache.get(KEY, "bin") is None
    put(cache)
    assert len(said) == 1 and list(outside.iterdir()) == []


def test_a_chunk_that_comes_out_empty_or_fails_leaves_nothing(tmp_path: Path) -> None:
    cache, _ = cache_at(tmp_path)
    with pytest.raises(StoryboardError, match=f"internal: chunk {KEY}.bin came out empty"):
        cache.make(KEY, "bin", lambda p: None)
    with pytest.raises(StoryboardError, match="came out empty"):
        cache.make(KEY, "bin", lambda p: p.unlink())
    with pytest.raises(ValueError):
        cache.make(KEY, "bin", lambda p: (p.write_bytes(b"half"), int("x")))
    assert list((tmp_path / "chunks" / KEY[:2]).iterdir()) == [] and cache.made == 0


def test_a_folder_where_the_entry_or_its_record_goes_is_replaced(tmp_path: Path) -> None:
    cache, _ = cache_at(tmp_path)
    p = cache.path(KEY, "bin")
    p.mkdir(parents=True)
    (p.parent / f"{p.name}.sum").mkdir()
    assert put(cache, data=b"made") == p and p.read_bytes() == b"made"
    assert cache_at(tmp_path)[0].get(KEY, "bin") == p


def test_an_unwritable_cache_is_one_message(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"x")
    cache = ChunkCache(tmp_path / "file" / "chunks")
    with pytest.raises(StoryboardError, match=f"cannot write the chunk cache {tmp_path}/file/"):
        put(cache)


def test_eviction_deletes_least_recently_used_first_with_their_records(tmp_path: Path) -> None:
    clock = Clock(1000.0)
    cache, _ = cache_at(tmp_path, clock)
    keys = [chunk_key("test", i) for i in range(4)]
    made = []
    for k in keys:
        clock.now += 10
        made.append(put(cache, key=k, data=b"x" * 100))
    same_time = [put(cache, key=chunk_key("tie", i), data=b"y" * 100) for i in range(2)]
    for p in same_time:
        os.utime(p, (500, 500))  # the oldest, equally: by name
    later, _ = cache_at(tmp_path, clock)
    assert later.size() == 600
    assert later.evict(limit=600) == []
    removed = later.evict(limit=350)
    assert removed == [*sorted(same_time, key=lambda p: p.name), made[0]]  # 300 bytes left
    assert all(not (p.parent / f"{p.name}.sum").exists() for p in removed)
    assert later.size() == 300 and made[1].exists()
    shard = made[1].parent
    orphan = shard / f"{shard.name}{'0' * 38}.bin.sum"  # a record whose entry is gone
    orphan.write_bytes((shard / f"{made[1].name}.sum").read_bytes())
    assert later.evict(limit=10**9) == [] and not orphan.exists()
    assert (shard / f"{made[1].name}.sum").exists()


def test_eviction_reads_the_limit_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache, _ = cache_at(tmp_path)
    p = put(cache)
    monkeypatch.setenv("STORYBOARD_CACHE_MB", "0")
    assert cache_at(tmp_path)[0].evict() == [p]


def test_temporary_files_are_kept_while_young_and_swept_when_old(tmp_path: Path) -> None:
    clock = Clock(10_000.0)
    cache, _ = cache_at(tmp_path, clock)
    put(cache)
    mine = cache.path(KEY, "bin").parent / f"{chunks.part_prefix()}x.bin"
    other_host = cache.path(KEY, "bin").parent / f"{PART_PREFIX}1-00000000-x.bin"
    odd = cache.path(KEY, "bin").parent / f"{PART_PREFIX}x.bin"
    for p in (mine, other_host, odd):
        p.write_bytes(b"half")
        os.utime(p, (clock.now - 3600, clock.now - 3600))  # exactly an hour: still young
    assert cache.evict(limit=10**9) == [] and cache.size() == 5
    clock.now += 1
    assert sorted(cache.evict(limit=10**9)) == sorted([mine, other_host, odd])


def test_only_names_the_cache_writes_are_listed(tmp_path: Path) -> None:
    cache, _ = cache_at(tmp_path)
    p = put(cache)
    foreign = [
        p.parent / "notes.txt",
        p.parent / f"{'0' * 40}.bin",  # an entry name of another shard
        p.parent / f"{KEY}.toolongext",
        tmp_path / "chunks" / "photos" / f"{KEY}.bin",  # not a shard folder
        tmp_path / "chunks" / "abc" / f"{'a' * 40}.bin",
    ]
    for f in foreign:
        f.parent.mkdir(exist_ok=True)
        f.write_bytes(b"z" * 50)
    assert cache_at(tmp_path)[0].evict(limit=0) == [p]
    assert all(f.exists() for f in foreign)


@pytest.mark.parametrize(
    "record",
    [
        b"[1]",
        b"not json",
        b'{"entry": "E", "size": "5", "sha256": "' + b"0" * 64 + b'"}',
        b'{"entry": "E", "size": 5, "sha256": "' + b"0" * 63 + b'"}',
        b'{"entry": "E", "size": 5, "sha256": 7}',
        b'{"entry": 1, "size": 5, "sha256": "' + b"0" * 64 + b'"}',
        b'{"entry": "E", "size": 5, "sha256": "' + b"0" * 64 + b'", "pad": "' + b" " * 4096 + b'"}',
    ],
    ids=["list", "text", "size-text", "short-hash", "hash-number", "entry-number", "too-long"],
)
def test_a_record_that_is_not_a_record_is_no_record(tmp_path: Path, record: bytes) -> None:
    cache, _ = cache_at(tmp_path)
    p = put(cache)
    (p.parent / f"{p.name}.sum").write_bytes(record.replace(b'"E"', f'"{p.name}"'.encode()))
    assert chunks._read_record(p) is None
    again, said = cache_at(tmp_path)
    assert again.get(KEY, "bin") is None and "it has no record of its size and hash" in said[0]
