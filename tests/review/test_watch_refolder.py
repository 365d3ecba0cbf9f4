"""``render --watch`` keeps watching when the project folder is deleted (or moved away) and
made again: the next save of the storyboard is a change, not silence."""

from __future__ import annotations

import queue
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers import write_project

from storyboard.review.watch import file_changes

BOARD = "title: T\nscenes:\n  - {id: a, prompt: A red kite over a grey sea., duration: 8}\n"


def saves_seen(root: Path, q: queue.Queue, within: float = 20.0) -> bool:
    """Save the storyboard again and again until the watcher reports it (the watcher needs a
    moment to start; nothing here waits for time to pass, only for the event)."""
    file = root / "storyboard.yaml"
    deadline = time.monotonic() + within
    n = 0
    while time.monotonic() < deadline:
        if root.is_dir():
            n += 1
            file.write_text(BOARD + f"# save {n}\n")
        try:
            batch = q.get(timeout=0.3)
        except queue.Empty:
            continue
        if any(Path(p) == file for _c, p in batch) and root.is_dir():
            return True
    return False


def drain(q: queue.Queue) -> None:
    while True:
        try:
            q.get(timeout=0.5)
        except queue.Empty:
            return


@contextmanager
def watching(root: Path) -> Iterator[queue.Queue]:
    """The batches ``file_changes`` yields for ``root``, put on a queue by a thread."""
    stop = threading.Event()
    q: queue.Queue = queue.Queue()

    def pump() -> None:
        for batch in file_changes(root, root / "storyboard.yaml", stop, check_ms=100):
            q.put(batch)

    t = threading.Thread(target=pump, daemon=True)
    t.start()
    try:
        yield q
    finally:
        stop.set()
        t.join(timeout=10)


def test_watch_survives_the_project_folder_deleted_and_made_again(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", BOARD)
    with watching(root) as q:
        assert saves_seen(root, q)
        shutil.rmtree(root)
        drain(q)
        write_project(root, BOARD)
        assert saves_seen(root, q), "no change seen after the folder was made again"
        root.rename(tmp_path / "moved")
        drain(q)
        write_project(root, BOARD)
        assert saves_seen(root, q), "no change seen after the folder was moved and made again"


@pytest.mark.parametrize(("saves", "gap"), [(4, 0.1), (10, 0.25)], ids=["burst", "stream"])
def test_saves_closer_than_the_quiet_time_are_one_change(
    tmp_path: Path, saves: int, gap: float
) -> None:
    """Saves with less than 0.4 s between them are one change, as the README says.
    hostile helper-45: two saves 0.15 s apart were two changes, so a watch render bought the
    first version as well (watchfiles yields after 50 ms of quiet unless told otherwise);
    helper-46: a stream of saves 0.25 s apart was still cut in two (saving the same file again
    is no new change to watchfiles, so its quiet timer ran on)."""
    root = write_project(tmp_path / "p", BOARD)
    with watching(root) as q:
        assert saves_seen(root, q)  # the watcher is running
        drain(q)
        for n in range(saves):
            (root / "storyboard.yaml").write_text(BOARD + f"# save {n}\n")
            time.sleep(gap)
        batches = []
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            try:
                batches.append(q.get(timeout=0.2))
            except queue.Empty:
                continue
        assert len([b for b in batches if b]) == 1, batches
