"""A lock entry must name a file of its node's kind (hostile finding H2: a hand-edited lock
made a clip the cast sheet; status called it up to date and a board retake sent the video
as its reference picture)."""

from __future__ import annotations

import pytest

from storyboard.generate.lockfile import check_entry


def entry(file: str) -> dict:
    return {
        "take": 1,
        "key": "k",
        "task_uuid": "t",
        "video_uuid": "v",
        "file": file,
        "size": 10,
        "sha256": "0" * 64,
    }


@pytest.mark.parametrize(
    ("node", "file"),
    [
        ("cast:wren", "build/takes/a/take-1.mp4"),
        ("board:a", "build/takes/line/a/1/take-1.wav"),
        ("a", "build/takes/board/a/take-1.png"),
        ("lipsync:a", "build/takes/cast/wren/take-1.png"),
        ("line:a/1", "build/takes/a/take-1.mp4"),
        ("music", "build/takes/board/a/take-1.png"),
    ],
)
def test_a_file_of_another_kind_is_refused_naming_the_node(node: str, file: str) -> None:
    with pytest.raises(ValueError, match=rf"scene '{node}': file .* is not"):
        check_entry(node, entry(file))


@pytest.mark.parametrize(
    ("node", "file"),
    [
        ("cast:wren", "build/takes/cast/wren/take-1.png"),
        ("board:a", "build/takes/board/a/take-2.jpg"),
        ("a", "build/takes/a/take-1.mp4"),
        ("a", "build/takes/a/take-1.webm"),
        ("lipsync:a", "build/takes/lipsync/a/take-1.mp4"),
        ("line:a/1", "build/takes/line/a/1/take-1.wav"),
        ("music", "build/takes/music/take-1.mp3"),
        ("sfx:a/1", "build/takes/sfx/a/1/take-1.wav"),
    ],
)
def test_a_file_of_its_kind_is_taken(node: str, file: str) -> None:
    check_entry(node, entry(file))
