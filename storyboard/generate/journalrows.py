"""Rows of the build journal read defensively (issue 15: every file read defensively).

sqlite keeps whatever a hand edit puts in a column (``UPDATE takes SET size='big'``), so every
row is checked for type and range as it is read. A wrong value is one message naming the
journal, the task or take, and the field, with how to recover; never a traceback, and never
a row quietly skipped (a skipped paid task would be bought again). The journal's backup is not
made over while a wrong row is in it (see :class:`~storyboard.generate.journaldb.Guarded`).
"""

from __future__ import annotations

import math
import os
import posixpath
from typing import Any

from storyboard.errors import StoryboardError
from storyboard.files import parse_json

from .integrity import TAKES_DIR, in_own_folder
from .kinds import take_folder

TASK_STATES = ("pending", "submitted", "done", "failed")
MAKERS = ("emulator", "draft", "runware")  # state.MAKER_REASONS' keys
MOST_SECONDS = 1e6  # a clip's duration or offset (11 days): a larger figure is not a clip's
MOST_DOLLARS = 1e6
MOST_TIME = 1e11  # a timestamp (the year 5138)


class RowError(StoryboardError):
    """A journal row with a value of the wrong type or range."""


class Row:
    """One row being read: its values by column name, and how messages name it."""

    def __init__(self, db: Any, columns: tuple[str, ...], values: tuple, name: str):
        self.db, self.values, self.name = db, dict(zip(columns, values, strict=False)), name

    def fail(self, column: str, expected: str) -> RowError:
        self.db.bad_rows = True  # keep the backup: it still holds the good row
        path = self.db.path
        undo = "put the value back"
        if os.path.exists(f"{path}.bak"):  # none before the first good command (helper-42)
            undo += (
                f", or restore the backup made after the last good command: mv {path} "
                f"{path}.broken && cp {path}.bak {path}"
            )
        return RowError(
            f"{path}: {self.name}: {column} is {self.values.get(column)!r}, expected {expected} "
            f"(was the journal edited by hand?); {undo}"
        )

    def text(self, column: str, optional: bool = False) -> Any:
        v = self.values.get(column)
        if (v is None and optional) or (isinstance(v, str) and (v or optional) and "\0" not in v):
            return v
        raise self.fail(column, "text" + (" or nothing" if optional else ""))

    def number(
        self, column: str, top: float, optional: bool = False, low: float = 0.0, above: bool = False
    ) -> Any:
        v = self.values.get(column)
        if v is None and optional:
            return None
        if isinstance(v, int | float) and math.isfinite(v):
            if (v > low if above else v >= low) and v <= top:
                return float(v)
        word = "above" if above else "from"
        raise self.fail(column, f"a number {word} {low:g} to {top:g}" + (" or nothing" * optional))

    def whole(self, column: str, low: int, top: int = 2**53) -> int:
        v = self.values.get(column)
        if isinstance(v, int) and low <= v <= top:
            return v
        raise self.fail(column, f"a whole number of at least {low}")

    def json(self, column: str, kind: type, optional: bool = False) -> Any:
        v = self.values.get(column)
        if v is None and optional:
            return None
        shape = "a JSON object" if kind is dict else "a JSON list of objects"
        if not isinstance(v, str):
            raise self.fail(column, shape)
        try:
            data = parse_json(v, column)
        except StoryboardError:
            raise self.fail(column, shape) from None
        if not isinstance(data, kind) or (
            isinstance(data, list) and not all(isinstance(x, dict) for x in data)
        ):
            raise self.fail(column, shape)
        return data


TASK_COLUMNS = (
    "task_uuid", "scene", "key", "source_take", "request", "state", "results", "cost", "error",
    "created_at", "updated_at", "estimate",
)  # fmt: skip
TAKE_COLUMNS = (
    "scene", "n", "key", "source_take", "task_uuid", "video_uuid", "video_id", "url", "file",
    "size", "sha256", "cost", "duration", "offset", "nsfw", "created_at", "made_by",
)  # fmt: skip


def task_fields(db: Any, r: tuple) -> dict[str, Any]:
    """A ``tasks`` row, checked: the fields of a ``JournalTask``. Raises :class:`RowError`."""
    uid, scene = r[0], r[1]
    name = f"task {uid[:8] if isinstance(uid, str) else repr(uid)} (scene {scene!r})"
    row = Row(db, TASK_COLUMNS, r, name)
    state = row.values.get("state")
    if state not in TASK_STATES:
        raise row.fail("state", " or ".join(TASK_STATES))
    return {
        "task_uuid": row.text("task_uuid"),
        "scene": row.text("scene"),
        "key": row.text("key"),
        "source_take": row.text("source_take", optional=True),
        "request": row.json("request", dict),
        "state": state,
        "results": row.json("results", list, optional=True),
        "cost": row.number("cost", MOST_DOLLARS, optional=True),
        "error": _words(row, "error"),
        "created_at": row.number("created_at", MOST_TIME),
        "estimate": row.number("estimate", MOST_DOLLARS, optional=True),
    }


def take_fields(db: Any, r: tuple) -> dict[str, Any]:
    """A ``takes`` row, checked: the fields of a ``Take``. Raises :class:`RowError`."""
    scene, n = r[0], r[1]
    row = Row(db, TAKE_COLUMNS, r, f"take {n!r} of scene {scene!r}")
    made_by = row.text("made_by", optional=True)
    if made_by is not None and (made_by.split() or [""])[0] not in MAKERS:  # blank: refused
        raise row.fail("made_by", "emulator, draft or 'runware ENDPOINT'")
    nsfw = row.values.get("nsfw")
    if nsfw not in (0, 1):
        raise row.fail("nsfw", "0 or 1")
    file = row.text("file")
    if isinstance(scene, str) and not in_own_folder(scene, posixpath.normpath(file)):
        raise row.fail("file", f"a file in {TAKES_DIR}/{take_folder(scene)}/")
    return {
        "scene": row.text("scene"),
        "n": row.whole("n", 1),
        "key": row.text("key"),
        "source_take": row.text("source_take", optional=True),
        "task_uuid": row.text("task_uuid"),
        "video_uuid": row.text("video_uuid"),
        "video_id": row.text("video_id", optional=True),
        "url": row.text("url", optional=True),
        "file": file,
        "size": row.whole("size", 0),
        "sha256": row.text("sha256"),
        "cost": row.number("cost", MOST_DOLLARS, optional=True),
        "duration": row.number("duration", MOST_SECONDS, optional=True, above=True),
        "offset": row.number("offset", MOST_SECONDS),
        "nsfw": bool(nsfw),
        "created_at": row.number("created_at", MOST_TIME),
        "made_by": made_by,
    }


PICK_COLUMNS = ("scene", "key", "source_take", "video_uuid", "picked_at", "by_pick")


def check_pick(db: Any, r: tuple) -> None:
    """A ``picks`` row, checked (a wrong one would silently lose a pick, and a render would put
    another take in the cut). Raises :class:`RowError`."""
    row = pick_row(db, r)
    for column in ("scene", "key", "video_uuid"):
        row.text(column)
    source = row.values.get("source_take")  # '' for a scene without a source, never NULL
    if not isinstance(source, str) or "\0" in source:
        raise row.fail("source_take", "text ('' for a scene that continues no other)")
    row.number("picked_at", MOST_TIME)
    if row.values.get("by_pick") not in (0, 1):
        raise row.fail("by_pick", "0 or 1")


def pick_row(db: Any, r: tuple) -> Row:
    """A ``picks`` row (columns :data:`PICK_COLUMNS`), named for messages."""
    return Row(db, PICK_COLUMNS, r, f"the pick of a take for scene {r[0]!r}")


def _words(row: Row, column: str) -> str | None:
    """A free-text column (an error message): text or nothing, any text."""
    v = row.values.get(column)
    if v is None or isinstance(v, str):
        return v
    raise row.fail(column, "text or nothing")
