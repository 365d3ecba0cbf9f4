"""One writer per project: the advisory lock on build/.lock."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from helpers import REPO, write_project

from storyboard.cli.main import main
from storyboard.errors import StoryboardError
from storyboard.generate.writer import WriterBusy, project_writer

HOLD = """
import sys
from pathlib import Path
from storyboard.generate.writer import project_writer
with project_writer(Path(sys.argv[1]), sys.argv[2]):
    print("held", flush=True)
    sys.stdin.read()
"""


class Holder:
    """Another process holding the project's writer lock until ``release()``."""

    def __init__(self, root: Path, what: str = "render"):
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(root), what],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline() == "held\n"

    def release(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def test_a_second_writer_fails_clearly_without_waiting(tmp_path: Path) -> None:
    h = Holder(tmp_path)
    try:
        with pytest.raises(WriterBusy) as e, project_writer(tmp_path, "pick", wait=False):
            pass
        assert str(e.value) == (
            f"another render of this project is running (pid {h.proc.pid}); not waiting"
        )  # the API's words: the CLI names its flag (below), the review page does not
    finally:
        h.release()
    with project_writer(tmp_path, "pick", wait=False):
        assert (tmp_path / "build" / ".lock").read_text() == f"{os.getpid()} pick\n"


def test_a_second_writer_waits_and_says_so(tmp_path: Path) -> None:
    h = Holder(tmp_path, "compose")
    said: list[str] = []
    asked = threading.Event()
    got = threading.Event()

    def second() -> None:
        def on_wait(msg: str) -> None:
            said.append(msg)
            asked.set()

        with project_writer(tmp_path, "render", on_wait=on_wait):
            got.set()

    t = threading.Thread(target=second)
    t.start()
    assert asked.wait(30)
    assert not got.is_set()
    h.release()
    t.join(30)
    assert got.is_set()
    assert said == [f"another compose of this project is running (pid {h.proc.pid}); waiting"]


def test_reentrant_in_one_thread_exclusive_between_threads(tmp_path: Path) -> None:
    with project_writer(tmp_path), project_writer(tmp_path, "compose"):
        errors: list[str] = []

        def other() -> None:
            try:
                with project_writer(tmp_path, wait=False):
                    pass
            except WriterBusy as e:
                errors.append(str(e))

        t = threading.Thread(target=other)
        t.start()
        t.join()
        assert errors and errors[0].startswith("another ")
    with project_writer(tmp_path, wait=False):  # released by the outer exit
        pass


def test_the_lock_is_never_created_outside_the_project(tmp_path: Path) -> None:
    project = tmp_path / "p"
    outside = tmp_path / "outside"
    project.mkdir()
    outside.mkdir()
    (project / "build").symlink_to(outside)
    with pytest.raises(StoryboardError, match="build folder must be a folder inside the project"):
        with project_writer(project):
            pass
    assert list(outside.iterdir()) == []


def test_a_planted_lock_symlink_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "victim"
    target.write_text("keep me")
    (tmp_path / "p" / "build").mkdir(parents=True)
    (tmp_path / "p" / "build" / ".lock").symlink_to(target)
    with pytest.raises(StoryboardError) as e:
        with project_writer(tmp_path / "p"):
            pass
    lock = (tmp_path / "p" / "build" / ".lock").resolve(strict=False)
    assert str(e.value) in (
        f"cannot open {tmp_path / 'p' / 'build' / '.lock'}: Too many levels of symbolic links",
        f"cannot open {lock}: Too many levels of symbolic links",
    )
    assert target.read_text() == "keep me"


def test_a_build_that_is_a_file_is_one_clear_message(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "build").write_text("not a folder")
    with pytest.raises(StoryboardError) as e:
        with project_writer(tmp_path / "p"):
            pass
    assert "build" in str(e.value) and "must be a folder inside the project" in str(e.value)


def test_a_build_that_cannot_be_created_says_why(tmp_path: Path) -> None:
    (tmp_path / "p").write_text("a file where the project folder should be")
    with pytest.raises(StoryboardError) as e:
        with project_writer(tmp_path / "p"):
            pass
    assert str(e.value) == f"cannot create {(tmp_path / 'p').resolve() / 'build'}: Not a directory"


def test_the_lock_file_is_readable_by_all_and_names_its_holder(tmp_path: Path) -> None:
    from storyboard.generate.writer import holder

    old = os.umask(0o022)
    try:
        with project_writer(tmp_path, "compose") as lock:
            assert oct(lock.stat().st_mode & 0o777) == oct(0o644)
            assert holder(tmp_path) == ("compose", os.getpid())
    finally:
        os.umask(old)


@pytest.mark.parametrize("text", ["", "render", "render 123", "12x render", "\n"])
def test_a_garbled_lock_file_names_no_holder(tmp_path: Path, text: str) -> None:
    from storyboard.generate.writer import holder

    (tmp_path / "build").mkdir()
    (tmp_path / "build" / ".lock").write_text(text)
    assert holder(tmp_path) is None


ONE = """
title: T
scenes:
  - {id: a, prompt: A kite in the wind., duration: 4}
"""


def test_cli_commands_that_write_take_the_lock(tmp_path: Path, capsys) -> None:
    p = write_project(tmp_path / "p", ONE)
    h = Holder(p)
    try:
        for argv in (
            ["render", str(p), "--no-wait", "--no-compose"],
            ["compose", str(p), "--no-wait"],
            ["pick", str(p), "a", "1", "--no-wait"],
        ):
            assert main(argv) == 1
            err = capsys.readouterr().err
            assert err == (
                f"another render of this project is running (pid {h.proc.pid}); "
                "not waiting (--no-wait)\n"
            ), argv
    finally:
        h.release()
