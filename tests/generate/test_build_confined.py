"""What build/ holds stays inside the project (hostile helper-42): a link one level down
(build/takes, build/media, build/thumbs, build/chunks) that leads out is refused as a linked
build/ is; the writer's lock and storyboard.lock that are not regular files are one message,
never a hang or a traceback."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from storyboard.errors import StoryboardError
from storyboard.generate.integrity import take_path
from storyboard.generate.lockfile import read_lock, write_lock
from storyboard.generate.writer import project_writer


@pytest.mark.parametrize("name", ["takes", "media", "thumbs", "chunks"])
def test_a_build_folder_linked_out_of_the_project_is_refused(tmp_path: Path, name: str) -> None:
    root, out = tmp_path / "p", tmp_path / "elsewhere"
    (root / "build").mkdir(parents=True)
    out.mkdir()
    (root / "build" / name).symlink_to(out)
    with pytest.raises(StoryboardError) as e, project_writer(root):
        pass
    assert str(e.value) == (
        f"{root.resolve() / 'build' / name}: leads outside the project (to {out.resolve()}); "
        "what build/ holds stays inside the project: remove the link and run again"
    )
    assert list(out.iterdir()) == []


def test_a_link_inside_the_project_is_followed(tmp_path: Path) -> None:
    root = tmp_path / "p"
    (root / "build").mkdir(parents=True)
    (root / "store").mkdir()
    (root / "build" / "media").symlink_to(root / "store")
    with project_writer(root):
        pass


def test_a_take_under_a_linked_takes_folder_is_not_a_take(tmp_path: Path) -> None:
    root, out = tmp_path / "p", tmp_path / "elsewhere"
    (root / "build").mkdir(parents=True)
    (out / "a").mkdir(parents=True)
    (out / "a" / "take-1.mp4").write_bytes(b"clip")
    (root / "build" / "takes").symlink_to(out)
    assert take_path(root, "build/takes/a/take-1.mp4") is None


def test_the_writers_lock_as_a_fifo_is_one_message(tmp_path: Path) -> None:
    (tmp_path / "build").mkdir()
    os.mkfifo(tmp_path / "build" / ".lock")
    with pytest.raises(StoryboardError) as e, project_writer(tmp_path):
        pass
    assert str(e.value) == (
        f"cannot use {tmp_path.resolve() / 'build' / '.lock'} as the project's lock: it is "
        "a FIFO; remove it and run again"
    )


def _returns(fn, timeout: float = 5.0) -> BaseException | None:  # type: ignore[no-untyped-def]
    """Run ``fn`` in a thread: what it raised, or fail when it is still blocked at ``timeout``."""
    out: list[BaseException | None] = []

    def run() -> None:
        try:
            fn()
            out.append(None)
        except BaseException as e:  # noqa: BLE001
            out.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    assert out, f"still blocked after {timeout} s"
    return out[0]


def test_a_lock_file_that_is_a_fifo_is_refused_not_read(tmp_path: Path) -> None:
    lock = tmp_path / "storyboard.lock"
    os.mkfifo(lock)
    message = (
        f"{lock}: is a FIFO, not the lock file; move it away (the takes are kept in build/ "
        "and found again)"
    )
    for fn in (lambda: read_lock(tmp_path, lock), lambda: write_lock(lock, {}, [])):
        e = _returns(fn)
        assert isinstance(e, StoryboardError) and str(e) == message
    try:  # unblock a reader left behind by the old code, so the test process can end
        fd = os.open(lock, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
    except OSError:
        pass


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("- a\n- b\n", "the lock must be a mapping of `version` and `scenes`, got a list"),
        ("version: 99\nscenes: {}\n", "version 99 is not one this storyboard reads (1)"),
        ("scenes: [1]\n", "`scenes` must be a mapping of scene to take, got a list"),
        ("version: 1\nversion: 1\nscenes: {}\n", "line 2: duplicate key 'version'"),
    ],
)
def test_a_lock_of_the_wrong_shape_says_what_is_wrong(
    tmp_path: Path, text: str, words: str
) -> None:
    lock = tmp_path / "storyboard.lock"
    lock.write_text(text, encoding="utf-8")
    with pytest.raises(StoryboardError) as e:
        read_lock(tmp_path, lock)
    assert words in str(e.value) and "object has no attribute" not in str(e.value), str(e.value)
