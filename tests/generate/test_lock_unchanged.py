"""A render that changes no take leaves ``storyboard.lock`` as it was: the same file (inode,
times), so version control, file watchers and the no-op stamp see no change."""

from __future__ import annotations

import os
from pathlib import Path

from test_lockfile_and_journaldb import take

from storyboard.generate.lockfile import read_lock, write_lock


def test_the_same_takes_do_not_rewrite_the_lock(tmp_path: Path) -> None:
    lock = tmp_path / "storyboard.lock"
    takes = {"a": take("a"), "b": take("b")}
    write_lock(lock, takes, ["a", "b"])
    before = os.stat(lock)
    os.utime(lock, ns=(1_000_000_000, 1_000_000_000))  # an old file: a rewrite would show
    write_lock(lock, takes, ["a", "b"])
    after = os.stat(lock)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, 1_000_000_000)
    assert read_lock(tmp_path, lock) == takes


def test_another_take_or_order_rewrites_it(tmp_path: Path) -> None:
    lock = tmp_path / "storyboard.lock"
    takes = {"a": take("a"), "b": take("b")}
    write_lock(lock, takes, ["a", "b"])
    write_lock(lock, takes, ["b", "a"])
    assert list(read_lock(tmp_path, lock)) == ["b", "a"]
    write_lock(lock, {**takes, "a": take("a", 2)}, ["a", "b"])
    assert read_lock(tmp_path, lock)["a"].n == 2


def test_a_damaged_lock_is_replaced_whole(tmp_path: Path) -> None:
    lock = tmp_path / "storyboard.lock"
    lock.write_bytes(b"\xff\xfe not yaml")  # unreadable as text: compared as bytes
    write_lock(lock, {"a": take("a")}, ["a"])
    assert list(read_lock(tmp_path, lock)) == ["a"]
