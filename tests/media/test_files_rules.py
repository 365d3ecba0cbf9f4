"""storyboard/files.py rule by rule: atomic writes, write errors, the umask, owned temp folders
and the sweep of dead owners' folders (written to kill mutmut's surviving mutants)."""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import dead_pid

from storyboard import files
from storyboard.errors import StoryboardError
from storyboard.files import (
    _alive,
    atomic_write,
    current_umask,
    owned_tempdir,
    resolve_inside,
    sweep_stale,
    write_error,
)


def test_the_umask_is_read_without_being_changed() -> None:
    old = os.umask(0o027)
    try:
        assert current_umask() == 0o027
        assert os.umask(0o027) == 0o027  # still what it was
    finally:
        os.umask(old)


def test_without_proc_the_umask_is_read_and_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    real = Path.read_text

    def no_proc(self: Path, *a: Any, **kw: Any) -> str:
        if str(self).startswith("/proc"):
            raise FileNotFoundError(str(self))
        return real(self, *a, **kw)

    monkeypatch.setattr(Path, "read_text", no_proc)
    old = os.umask(0o077)
    try:
        assert current_umask() == 0o077
        assert os.umask(0o077) == 0o077
    finally:
        os.umask(old)


def test_write_errors_say_what_and_where() -> None:
    too_big = write_error("film.mp4", OSError(errno.EFBIG, "File too large"))
    assert str(too_big) == "file size limit reached writing film.mp4 (ulimit -f)"
    denied = write_error(Path("a/b.mp4"), OSError(errno.EACCES, "Permission denied"))
    assert str(denied) == "cannot write a/b.mp4: Permission denied"
    bare = write_error("x", OSError("no errno"), what="cannot copy")
    assert str(bare) == "cannot copy x: no errno"


def test_atomic_write_makes_the_folders_and_the_umask_decides_the_mode(tmp_path: Path) -> None:
    dest = tmp_path / "deep" / "er" / "film.json"
    old = os.umask(0o022)
    try:
        atomic_write(dest, b"{}")
    finally:
        os.umask(old)
    assert dest.read_bytes() == b"{}"
    assert stat.S_IMODE(dest.stat().st_mode) == 0o644
    assert sorted(p.name for p in dest.parent.iterdir()) == ["film.json"]


def test_the_temp_file_is_a_hidden_sibling_until_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "film.json"
    seen: list[str] = []
    real_replace = os.replace

    def replace(src: Any, dst: Any) -> None:
        seen.append(str(src))
        real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", replace)
    atomic_write(dest, b"x")
    (tmp,) = seen
    assert Path(tmp).parent == tmp_path
    assert Path(tmp).name.startswith(".film.json.")


def test_a_failed_write_leaves_no_temp_file_and_one_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "film.json"
    dest.write_bytes(b"old")

    def broken_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(files.os, "fsync", broken_fsync)
    with pytest.raises(StoryboardError) as e:
        atomic_write(dest, b"new")
    assert str(e.value) == f"cannot write {dest}: Input/output error"
    assert dest.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["film.json"]


def test_an_owned_temp_folder_is_in_its_folder_and_named_for_this_process(
    tmp_path: Path,
) -> None:
    d = owned_tempdir(".compose-", tmp_path)
    assert d.parent == tmp_path and d.is_dir()
    assert d.name.startswith(f".compose-{os.getpid()}-")


def test_alive_tells_a_running_process_from_a_finished_one() -> None:
    assert _alive(os.getpid())
    # SIGHUP back to its default (a run under nohup would ignore it): any signal ends the child
    child = subprocess.Popen(
        [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGHUP, "
         "signal.SIG_DFL); time.sleep(30)"]
    )  # fmt: skip
    try:
        assert _alive(child.pid)
        with pytest.raises(subprocess.TimeoutExpired):  # asking sent it no signal
            child.wait(timeout=0.5)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert not _alive(dead_pid())


def test_a_dead_owners_folder_goes_whatever_follows_the_pid(tmp_path: Path) -> None:
    dead = tmp_path / f".compose-{dead_pid()}-abc-def-ghi"
    (dead / "sub").mkdir(parents=True)
    assert sweep_stale(".compose-", tmp_path) == [dead]
    assert not dead.exists()


def test_the_sweep_keeps_what_it_cannot_judge(tmp_path: Path) -> None:
    gone = dead_pid()
    keep = [
        tmp_path / f".compose-{os.getpid()}-mine",
        tmp_path / ".compose-0-zero",
        tmp_path / ".compose-abc-nopid",
        tmp_path / f".other-{gone}-x",
    ]
    for d in keep:
        d.mkdir()
    plain_file = tmp_path / f".compose-{gone}-file"
    plain_file.write_bytes(b"x")
    assert sweep_stale(".compose-", tmp_path) == []
    assert all(d.is_dir() for d in keep) and plain_file.is_file()
    assert sweep_stale(".compose-", tmp_path / "missing") == []


def test_one_entry_that_vanishes_does_not_stop_the_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = dead_pid()
    dead = tmp_path / f".compose-{gone}-b"
    dead.mkdir()

    class Vanished:
        name = f".compose-{gone}-a"
        path = str(tmp_path / name)

        def stat(self, follow_symlinks: bool = True) -> os.stat_result:
            raise FileNotFoundError(self.path)

    real_scandir = os.scandir

    def scandir(folder: Any) -> Any:
        if folder != tmp_path:  # shutil.rmtree scans too
            return real_scandir(folder)
        return [Vanished(), *real_scandir(folder)]

    monkeypatch.setattr(files.os, "scandir", scandir)
    assert sweep_stale(".compose-", tmp_path) == [dead]


def test_resolve_inside(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    assert resolve_inside(tmp_path, "a/b.png") == (tmp_path / "a" / "b.png").resolve()
    assert resolve_inside(tmp_path, "../x") is None
    assert resolve_inside(tmp_path, "/etc/passwd") is None
    (tmp_path / "out").symlink_to("/etc")
    assert resolve_inside(tmp_path, "out/passwd") is None


def test_a_process_of_another_user_counts_as_alive(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_yours(pid: int, sig: int) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(files.os, "kill", not_yours)
    assert _alive(12345)


def test_a_folder_another_sweep_removed_first_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes starting at once sweep the same folder: one finds the other's work done."""
    gone = dead_pid()
    real = tmp_path / f".compose-{gone}-real"
    real.mkdir()

    class AlreadyRemoved:
        name = f".compose-{gone}-raced"
        path = str(tmp_path / name)

        def stat(self, follow_symlinks: bool = True) -> os.stat_result:
            return os.stat(real, follow_symlinks=False)  # it was a folder a moment ago

    real_scandir = os.scandir

    def scandir(folder: Any) -> Any:
        if folder != tmp_path:
            return real_scandir(folder)
        return [AlreadyRemoved(), *real_scandir(folder)]

    monkeypatch.setattr(files.os, "scandir", scandir)
    removed = sweep_stale(".compose-", tmp_path)
    assert real in removed and not real.exists()


def test_alive_is_the_same_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[int] = []
    monkeypatch.setattr(files, "_alive", lambda pid: asked.append(pid) or pid == 7)
    assert files.alive(7) and not files.alive(8) and asked == [7, 8]


def test_a_live_owners_folder_listed_first_does_not_stop_the_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = tmp_path / ".compose-1-init"  # pid 1 is always running
    dead = tmp_path / f".compose-{dead_pid()}-b"
    live.mkdir()
    dead.mkdir()
    real_scandir = os.scandir

    def scandir(folder: Any) -> Any:
        if folder != tmp_path:  # shutil.rmtree scans too
            return real_scandir(folder)
        return sorted(real_scandir(folder), key=lambda e: e.name != live.name)  # live first

    monkeypatch.setattr(files.os, "scandir", scandir)
    assert sweep_stale(".compose-", tmp_path) == [dead]
    assert live.is_dir() and not dead.exists()
