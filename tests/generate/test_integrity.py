"""generate/integrity.py rule by rule: take paths confined to build/takes, file hashes and the
hash cache that trusts a file while its size, mtime and inode are unchanged."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from storyboard.generate.integrity import CHUNK, HashCache, sha256_file, take_path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "build" / "takes" / "a").mkdir(parents=True)
    (tmp_path / "build" / "takes" / "a" / "take-1.mp4").write_bytes(b"clip")
    return tmp_path


def test_a_take_inside_build_takes_resolves(root: Path) -> None:
    assert (
        take_path(root, "build/takes/a/take-1.mp4") == (root / "build/takes/a/take-1.mp4").resolve()
    )


@pytest.mark.parametrize(
    "rel",
    [
        "",
        5,
        ["build/takes/a/take-1.mp4"],
        None,
        "build/takes/a/take\0-1.mp4",
        "build/takes",
        "build/takes/.",
        "build/takes/a/..",
        "build/journal.sqlite",
        "../outside.mp4",
        "build/takes/../../storyboard.yaml",
    ],
    ids=repr,
)
def test_anything_else_is_refused(root: Path, rel: Any) -> None:
    assert take_path(root, rel) is None


def test_an_absolute_path_is_refused_even_inside_build_takes(root: Path) -> None:
    inside = str((root / "build/takes/a/take-1.mp4").resolve())
    assert take_path(root, inside) is None


def test_a_symlink_out_of_build_takes_is_refused(root: Path) -> None:
    (root / "secret.mp4").write_bytes(b"x")
    (root / "build/takes/a/take-2.mp4").symlink_to(root / "secret.mp4")
    assert take_path(root, "build/takes/a/take-2.mp4") is None


def test_sha256_of_a_file_of_several_chunks(tmp_path: Path) -> None:
    data = os.urandom(CHUNK * 2 + 17)
    f = tmp_path / "big.bin"
    f.write_bytes(data)
    assert sha256_file(f) == hashlib.sha256(data).hexdigest()


@pytest.fixture
def cache(tmp_path: Path) -> HashCache:
    return HashCache(sqlite3.connect(tmp_path / "journal.sqlite", isolation_level=None))


def test_the_cache_is_trusted_while_size_mtime_and_inode_are_unchanged(
    cache: HashCache, tmp_path: Path
) -> None:
    f = tmp_path / "take.mp4"
    f.write_bytes(b"first")
    digest = hashlib.sha256(b"first").hexdigest()
    assert cache.sha256(f) == digest
    # what the cache says is what sha256 answers (it does not read the file again)
    cache.db.execute("UPDATE file_hashes SET sha256='remembered' WHERE file=?", (str(f),))
    assert cache.sha256(f) == "remembered"
    # a change of content with a new mtime is read again
    st = f.stat()
    f.write_bytes(b"other")
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert cache.sha256(f) == hashlib.sha256(b"other").hexdigest()


def test_the_cache_is_keyed_by_the_file(cache: HashCache, tmp_path: Path) -> None:
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    a.write_bytes(b"same size a")
    b.write_bytes(b"same size b")
    assert cache.sha256(a) == hashlib.sha256(b"same size a").hexdigest()
    assert cache.sha256(b) == hashlib.sha256(b"same size b").hexdigest()


def test_remember_stores_a_hash_computed_elsewhere(cache: HashCache, tmp_path: Path) -> None:
    f = tmp_path / "download.mp4"
    f.write_bytes(b"downloaded")
    cache.remember(f, "from-the-download")
    assert cache.sha256(f) == "from-the-download"
    cache.remember(tmp_path / "missing.mp4", "x")  # nothing to stat: silently not cached
    assert cache.sha256(tmp_path / "missing.mp4") is None
