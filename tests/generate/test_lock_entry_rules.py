"""generate/lockfile.py's ``check_entry`` field by field: each hand-edited value of the wrong
type or range is refused with the field, what it must be and what it is; each value at the
edge of its range is taken (for mutation testing: no render)."""

from __future__ import annotations

from typing import Any

import pytest

from storyboard.generate.lockfile import MAX_SECONDS, check_entry


def entry(**kw: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "take": 1,
        "key": "k",
        "task_uuid": "t",
        "video_uuid": "v",
        "file": "build/takes/a/take-1.mp4",
        "size": 10,
        "sha256": "0" * 64,
    }
    d.update(kw)
    return {k: v for k, v in d.items() if v is not ...}  # `...`: the field left out


TAKEN = [
    {},
    {"source_take": "a/1", "video_id": "id", "url": "https://x.test/a.mp4", "created": "c"},
    {"source_take": None, "video_id": None, "url": None, "created": None},
    {"size": 0, "cost": 0, "duration": MAX_SECONDS, "offset": MAX_SECONDS},
    {"cost": 0.0, "duration": 0.5},  # no offset: 0, within half a second
    {"duration": 4, "offset": 4},  # the last instant of the take
    {"offset": 0, "duration": None, "nsfw": True},
    {"made_by": "emulator"},
    {"made_by": "draft"},
    {"made_by": "runware https://api.runware.ai/v1"},
]


@pytest.mark.parametrize("edit", TAKEN, ids=range(len(TAKEN)))
def test_a_value_at_the_edge_of_its_range_is_taken(edit: dict[str, Any]) -> None:
    check_entry("a", entry(**edit))


def bad(field: str, want: str, got: Any) -> str:
    return f"scene 'a': {field} must be {want}, got {got!r}"


REFUSED = [
    ({"take": 0}, bad("take", "a whole number of 1 or more", 0)),
    ({"take": ...}, bad("take", "a whole number of 1 or more", None)),
    ({"key": 5}, bad("key", "text", 5)),
    ({"sha256": ...}, bad("sha256", "text", None)),
    ({"source_take": 5}, bad("source_take", "text or empty", 5)),
    ({"video_id": 7}, bad("video_id", "text or empty", 7)),
    ({"url": ["u"]}, bad("url", "text or empty", ["u"])),
    ({"created": 2024}, bad("created", "text or empty", 2024)),
    ({"size": -1}, bad("size", "a whole number of bytes", -1)),
    ({"size": True}, bad("size", "a whole number of bytes", True)),
    ({"cost": -0.5}, bad("cost", "an amount of 0 or more dollars", -0.5)),
    ({"cost": True}, bad("cost", "an amount of 0 or more dollars", True)),
    ({"cost": float("inf")}, bad("cost", "an amount of 0 or more dollars", float("inf"))),
    ({"duration": 0}, bad("duration", "a number of seconds above 0", 0)),
    ({"duration": MAX_SECONDS + 1}, bad("duration", "a number of seconds above 0", 86401.0)),
    ({"duration": 4, "offset": 4.5}, bad("offset", "0 or more seconds, within the take", 4.5)),
    ({"offset": -1}, bad("offset", "0 or more seconds, within the take", -1)),
    ({"nsfw": "no"}, bad("nsfw", "true or false", "no")),
    ({"made_by": "alien"}, bad("made_by", "emulator, draft or runware ENDPOINT", "alien")),
    ({"made_by": "Draft"}, bad("made_by", "emulator, draft or runware ENDPOINT", "Draft")),
    # hostile helper-42: another scene's take (a bad merge of a committed lock) was cut silently
    (
        {"file": "build/takes/b/take-1.mp4"},
        bad("file", "a file in build/takes/a/", "build/takes/b/take-1.mp4"),
    ),
    (
        {"file": "build/takes/a/../b/take-1.mp4"},
        bad("file", "a file in build/takes/a/", "build/takes/a/../b/take-1.mp4"),
    ),
    ({"file": "build/takes/a/"}, bad("file", "a file in build/takes/a/", "build/takes/a/")),
]


@pytest.mark.parametrize(("edit", "message"), REFUSED, ids=[m for _, m in REFUSED])
def test_a_wrong_value_is_refused_naming_the_field_and_the_value(
    edit: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError) as e:
        check_entry("a", entry(**edit))
    assert str(e.value) == message


def test_an_entry_that_is_not_a_mapping_is_refused_showing_it() -> None:
    with pytest.raises(ValueError) as e:
        check_entry("a", ["take", 1])
    assert str(e.value) == "scene 'a': an entry must be a mapping, got ['take', 1]"


def test_a_file_of_another_kind_says_what_to_do() -> None:
    with pytest.raises(ValueError) as e:
        check_entry("cast:wren", entry())
    assert str(e.value) == (
        "scene 'cast:wren': file 'build/takes/a/take-1.mp4' is not an image, as its takes are; "
        "put back the lock's line for it"
    )


@pytest.mark.parametrize(
    ("node", "file"),
    [
        ("cast:wren", "build/takes/cast/wren/take-2.png"),
        ("board:lamp-room", "build/takes/board/lamp-room/take-1.png"),
        ("sfx:a/1", "build/takes/sfx/a/1/take-1.wav"),
        ("line:a/2", "build/takes/line/a/2/take-3.mp3"),
    ],
)
def test_each_kind_of_node_has_its_own_folder(node: str, file: str) -> None:
    check_entry(node, entry(file=file))
    with pytest.raises(ValueError, match="must be a file in build/takes/"):
        check_entry(node, entry(file=file.replace("/take-", "/x/take-")))
