"""generate/journalrows.py rule by rule, without rendering: each column of a journal row is
checked for type and range as it is read, and a wrong one is one message naming the journal,
the task or take and the column (for mutation testing; test_journal_rows.py goes through a
render and checks that nothing is bought twice)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from storyboard.generate.journalrows import (
    TAKE_COLUMNS,
    TASK_COLUMNS,
    RowError,
    take_fields,
    task_fields,
)

PATH = Path("/p/build/journal.sqlite")
TASK = {
    "task_uuid": "0123456789abcdef",
    "scene": "a",
    "key": "k",
    "source_take": None,
    "request": '{"taskUUID": "0123456789abcdef"}',
    "state": "done",
    "results": '[{"videoUUID": "v"}]',
    "cost": 0.5,
    "error": None,
    "created_at": 1000,
    "updated_at": 1001.0,
    "estimate": 0.4,
}
TAKE = {
    "scene": "a",
    "n": 2,
    "key": "k",
    "source_take": None,
    "task_uuid": "0123456789abcdef",
    "video_uuid": "v",
    "video_id": None,
    "url": None,
    "file": "build/takes/a/take-2.mp4",
    "size": 10,
    "sha256": "0" * 64,
    "cost": None,
    "duration": 4,
    "offset": 0,
    "nsfw": 0,
    "created_at": 1000.0,
    "made_by": "emulator",
}


def db() -> Any:
    return SimpleNamespace(path=PATH, bad_rows=False)


def task_row(**kw: Any) -> tuple:
    return tuple({**TASK, **kw}[c] for c in TASK_COLUMNS)


def take_row(**kw: Any) -> tuple:
    return tuple({**TAKE, **kw}[c] for c in TAKE_COLUMNS)


def test_a_good_task_row_is_read_as_its_fields() -> None:
    d = db()
    assert task_fields(d, task_row()) == {
        "task_uuid": "0123456789abcdef",
        "scene": "a",
        "key": "k",
        "source_take": None,
        "request": {"taskUUID": "0123456789abcdef"},
        "state": "done",
        "results": [{"videoUUID": "v"}],
        "cost": 0.5,
        "error": None,
        "created_at": 1000.0,
        "estimate": 0.4,
    }
    assert d.bad_rows is False


def test_a_good_take_row_is_read_as_its_fields() -> None:
    d = db()
    fields = take_fields(d, take_row())
    assert fields == {**{k: v for k, v in TAKE.items() if k != "updated_at"}, "nsfw": False,
                      "duration": 4.0, "offset": 0.0}  # fmt: skip
    assert type(fields["duration"]) is float and type(fields["offset"]) is float
    assert d.bad_rows is False


# the values each column takes at its edges (all read without complaint)
GOOD_TASKS = [
    {"source_take": "a/1", "results": None, "cost": None, "estimate": None, "error": "slow"},
    {"source_take": "", "error": "", "results": "[]", "cost": 0, "estimate": 0},
    {"cost": 1e6, "estimate": 1e6, "created_at": 1e11, "state": "pending"},
    {"created_at": 0, "state": "submitted"},
    {"state": "failed", "request": "{}"},
]
GOOD_TAKES = [
    {"n": 1, "size": 0, "offset": 1e6, "duration": 1e6, "nsfw": 1, "created_at": 1e11},
    {"n": 2**53, "made_by": "runware https://api.runware.ai/v1", "video_id": "x", "url": "u"},
    {"made_by": "draft", "source_take": "", "cost": 0, "duration": None, "created_at": 0},
    {"made_by": None, "duration": 0.001, "cost": 1e6},
]


@pytest.mark.parametrize("edit", GOOD_TASKS)
def test_a_task_row_at_the_edges_is_read(edit: dict[str, Any]) -> None:
    d = db()
    fields = task_fields(d, task_row(**edit))
    for column, value in edit.items():
        want = value
        if column in ("request", "results") and value is not None:
            want = __import__("json").loads(value)
        elif isinstance(value, int) and column != "state":
            want = float(value)
        assert fields[column] == want and type(fields[column]) is type(want)
    assert d.bad_rows is False


@pytest.mark.parametrize("edit", GOOD_TAKES)
def test_a_take_row_at_the_edges_is_read(edit: dict[str, Any]) -> None:
    d = db()
    fields = take_fields(d, take_row(**edit))
    for column, value in edit.items():
        want: Any = value
        if column == "nsfw":
            want = bool(value)
        elif column in ("offset", "duration", "cost", "created_at") and value is not None:
            want = float(value)
        assert fields[column] == want and type(fields[column]) is type(want)
    assert d.bad_rows is False


def message(name: str, column: str, value: Any, expected: str, path: Path = PATH) -> str:
    """The message for a journal at ``path`` (no backup beside it: none is offered)."""
    return (
        f"{path}: {name}: {column} is {value!r}, expected {expected} (was the journal edited by "
        f"hand?); put the value back"
    )


def test_the_backup_is_offered_only_when_there_is_one(tmp_path: Path) -> None:
    """helper-42: the message said `cp journal.sqlite.bak ...` before any backup existed."""
    path = tmp_path / "journal.sqlite"
    d = SimpleNamespace(path=path, bad_rows=False)
    with pytest.raises(RowError) as e:
        take_fields(d, take_row(size="big"))
    assert str(e.value) == message(
        "take 2 of scene 'a'", "size", "big", "a whole number of at least 0", path
    )
    path.with_name("journal.sqlite.bak").write_bytes(b"")
    with pytest.raises(RowError) as e:
        take_fields(d, take_row(size="big"))
    assert str(e.value) == message(
        "take 2 of scene 'a'", "size", "big", "a whole number of at least 0", path
    ) + (
        f", or restore the backup made after the last good command: mv {path} {path}.broken "
        f"&& cp {path}.bak {path}"
    )


NUMBER = "a number from 0 to 1e+06"
TIME = "a number from 0 to 1e+11"
BAD_TASKS = [
    ("task_uuid", None, "text"),
    ("task_uuid", "", "text"),
    ("task_uuid", "abc\0def", "text"),
    ("task_uuid", 5, "text"),
    ("scene", b"a", "text"),
    ("key", "", "text"),
    ("key", 5, "text"),
    ("source_take", 5, "text or nothing"),
    ("source_take", "a\0", "text or nothing"),
    ("request", None, "a JSON object"),
    ("request", b"{}", "a JSON object"),
    ("request", "[1]", "a JSON object"),
    ("request", "not json", "a JSON object"),
    ("request", '{"a": 1, "a": 2}', "a JSON object"),
    ("results", "{}", "a JSON list of objects"),
    ("results", "[5]", "a JSON list of objects"),
    ("results", '[{"a": 1}, 5]', "a JSON list of objects"),
    ("results", 5, "a JSON list of objects"),
    ("state", "weird", "pending or submitted or done or failed"),
    ("state", None, "pending or submitted or done or failed"),
    ("cost", -0.01, f"{NUMBER} or nothing"),
    ("cost", 1e6 + 1, f"{NUMBER} or nothing"),
    ("cost", "1", f"{NUMBER} or nothing"),
    ("cost", float("inf"), f"{NUMBER} or nothing"),
    ("cost", float("nan"), f"{NUMBER} or nothing"),
    ("error", b"oops", "text or nothing"),
    ("error", 5, "text or nothing"),
    ("created_at", None, TIME),
    ("created_at", -1, TIME),
    ("created_at", 1e11 + 1, TIME),
    ("estimate", "x", f"{NUMBER} or nothing"),
]
BAD_TAKES = [
    ("scene", None, "text"),
    ("n", 0, "a whole number of at least 1"),
    ("n", 1.0, "a whole number of at least 1"),
    ("n", 2**53 + 1, "a whole number of at least 1"),
    ("n", "1", "a whole number of at least 1"),
    ("key", "", "text"),
    ("source_take", 1, "text or nothing"),
    ("task_uuid", None, "text"),
    ("video_uuid", b"7", "text"),
    ("video_id", 5, "text or nothing"),
    ("url", 5, "text or nothing"),
    ("file", "", "text"),
    ("size", -1, "a whole number of at least 0"),
    ("size", "10", "a whole number of at least 0"),
    ("sha256", None, "text"),
    ("cost", -1, f"{NUMBER} or nothing"),
    ("duration", 0, "a number above 0 to 1e+06 or nothing"),
    ("duration", 1e6 + 1, "a number above 0 to 1e+06 or nothing"),
    ("offset", None, NUMBER),
    ("offset", -0.5, NUMBER),
    ("offset", 1e6 + 1, NUMBER),
    ("nsfw", 2, "0 or 1"),
    ("nsfw", "1", "0 or 1"),
    ("nsfw", None, "0 or 1"),
    ("created_at", None, TIME),
    ("made_by", "alien", "emulator, draft or 'runware ENDPOINT'"),
    ("made_by", "runwareX https://x", "emulator, draft or 'runware ENDPOINT'"),
    ("made_by", 5, "text or nothing"),
]


@pytest.mark.parametrize(("column", "value", "expected"), BAD_TASKS)
def test_a_wrong_task_column_is_one_message_naming_it(
    column: str, value: Any, expected: str
) -> None:
    d = db()
    with pytest.raises(RowError) as e:
        task_fields(d, task_row(**{column: value}))
    name = "task 01234567 (scene 'a')" if column != "scene" else f"task 01234567 (scene {value!r})"
    if column == "task_uuid":
        name = f"task {value[:8] if isinstance(value, str) else repr(value)} (scene 'a')"
    assert str(e.value) == message(name, column, value, expected)
    assert d.bad_rows is True  # the backup is kept: it holds the good row


@pytest.mark.parametrize(("column", "value", "expected"), BAD_TAKES)
def test_a_wrong_take_column_is_one_message_naming_it(
    column: str, value: Any, expected: str
) -> None:
    d = db()
    with pytest.raises(RowError) as e:
        take_fields(d, take_row(**{column: value}))
    n, scene = (value if column == "n" else 2), (value if column == "scene" else "a")
    name = f"take {n!r} of scene {scene!r}"
    assert str(e.value) == message(name, column, value, expected)
    assert d.bad_rows is True


def test_a_row_with_a_column_this_version_does_not_know_is_read() -> None:
    """A journal a newer version appended a column to (as ``made_by`` and ``estimate`` were):
    the columns known are read, the new one is left alone."""
    assert task_fields(db(), (*task_row(), "new")) == task_fields(db(), task_row())
    assert take_fields(db(), (*take_row(), 7)) == take_fields(db(), take_row())
