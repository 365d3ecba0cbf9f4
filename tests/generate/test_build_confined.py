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
        ("scenes: 5\n", "`scenes` must be a mapping of scene to take, got an int"),
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


def test_a_take_is_never_written_through_a_link_into_another_nodes_folder(
    tmp_path: Path,
) -> None:
    """hostile helper-46 F1 (data loss): build/takes/a linked to b (inside the project, so
    allowed) made a's new take overwrite b's take in the cut."""
    from storyboard.generate.fetch import Fetcher

    root = tmp_path / "p"
    (root / "build" / "takes" / "b").mkdir(parents=True)
    (root / "build" / "takes" / "b" / "take-2.mp4").write_bytes(b"b's paid take")
    (root / "build" / "takes" / "a").symlink_to("b")
    fetcher = Fetcher()
    fetcher.root = root
    with pytest.raises(StoryboardError) as e:
        fetcher._dest("build/takes/a/take-2.mp4")
    assert "a link on the way" in str(e.value), str(e.value)
    assert (root / "build" / "takes" / "b" / "take-2.mp4").read_bytes() == b"b's paid take"


@pytest.mark.parametrize("name", ["journal.sqlite", "journal.sqlite.bak"])
def test_a_journal_linked_out_of_the_project_is_refused(tmp_path: Path, name: str) -> None:
    """helper-46 F3: the journal (written in place by sqlite, not replaced) linked to another
    project's was written through."""
    root, out = tmp_path / "p", tmp_path / "other.sqlite"
    (root / "build").mkdir(parents=True)
    out.write_bytes(b"another project's journal")
    (root / "build" / name).symlink_to(out)
    with pytest.raises(StoryboardError, match="leads outside the project"), project_writer(root):
        pass
    assert out.read_bytes() == b"another project's journal"


@pytest.mark.parametrize("kind", ["loop", "dangling"])
def test_a_takes_folder_link_that_loops_or_dangles_is_refused_before_anything(
    tmp_path: Path, kind: str
) -> None:
    """helper-46 F6/F9: a loop was a RuntimeError traceback; a dangling link out was refused
    only at download, after the tasks were sent."""
    root = tmp_path / "p"
    (root / "build").mkdir(parents=True)
    (root / "build" / "takes").symlink_to("takes" if kind == "loop" else tmp_path / "nowhere")
    with pytest.raises(StoryboardError) as e, project_writer(root):
        pass
    assert "build/takes" in str(e.value) and "remove the link" in str(e.value), str(e.value)
    assert take_path(root, "build/takes/a/take-1.mp4") is None  # no RuntimeError


def test_a_lock_under_a_linked_takes_folder_blames_the_link_not_the_lock(tmp_path: Path) -> None:
    """helper-46 F10: the message said to delete a good lock (losing the picks)."""
    root, out = tmp_path / "p", tmp_path / "elsewhere"
    (root / "build").mkdir(parents=True)
    (out / "a").mkdir(parents=True)
    (root / "build" / "takes").symlink_to(out)
    lock = root / "storyboard.lock"
    lock.write_text(
        "version: 1\nscenes:\n  a: {take: 1, key: k, task_uuid: t, video_uuid: v, "
        "file: build/takes/a/take-1.mp4, size: 1, sha256: s}\n",
        encoding="utf-8",
    )
    with pytest.raises(StoryboardError) as e:
        read_lock(root, lock)
    assert "delete the lock" not in str(e.value)
    assert "build/takes" in str(e.value) and "link" in str(e.value), str(e.value)


def test_a_lock_of_nested_aliases_is_one_short_message(tmp_path: Path) -> None:
    """helper-46 F4: 498 bytes of YAML aliases (a billion items) hung every command for ever,
    4 GB deep, building the repr of the entry for its message."""
    lines = ['x0: &x0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"x{i}: &x{i} [" + ",".join([f"*x{i - 1}"] * 10) + "]" for i in range(1, 9)]
    for last in ("scenes: {a: *x8}", "scenes: {a: {take: *x8}}"):
        lock = tmp_path / "storyboard.lock"
        lock.write_text("\n".join([*lines, "version: 1", last]) + "\n", encoding="utf-8")
        e = _returns(lambda lock=lock: read_lock(tmp_path, lock), timeout=10.0)
        assert isinstance(e, StoryboardError) and len(str(e)) < 600, str(e)[:600]


@pytest.mark.parametrize("version", ["true", "1.0"])
def test_the_lock_version_is_the_whole_number_1(tmp_path: Path, version: str) -> None:
    lock = tmp_path / "storyboard.lock"
    lock.write_text(f"version: {version}\nscenes: {{}}\n", encoding="utf-8")
    with pytest.raises(StoryboardError, match="is not one this storyboard reads"):
        read_lock(tmp_path, lock)
