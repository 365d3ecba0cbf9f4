"""The journal's sqlite connection, guarded: a damaged file is one message saying how to recover."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from storyboard.errors import StoryboardError


class Guarded:
    """A journal connection whose corruption errors become one message saying how to recover."""

    def __init__(self, db: sqlite3.Connection, path: Path):
        self._db, self.path = db, path
        self.bad_rows = False  # a row of the wrong type was read (journalrows.py)

    def _fail(self, e: sqlite3.DatabaseError) -> StoryboardError:
        return StoryboardError(
            f"{self.path}: the build journal is damaged ({e}); to recover, move it aside and "
            f"restore the backup made after the last good command: mv {self.path} "
            f"{self.path}.broken && cp {self.path}.bak {self.path}"
        )

    def execute(self, sql: str, params: tuple = ()) -> GuardedRows:
        """``Connection.execute``; the rows are read at once so a damaged page fails here."""
        try:
            return GuardedRows(self._db.execute(sql, params).fetchall())
        except sqlite3.DatabaseError as e:
            if isinstance(e, sqlite3.OperationalError) and "corrupt" not in str(e):
                raise
            raise self._fail(e) from None

    def executescript(self, sql: str) -> None:
        """``Connection.executescript``."""
        try:
            self._db.executescript(sql)
        except sqlite3.DatabaseError as e:
            raise self._fail(e) from None

    def backup_to(self, dest: Path) -> None:
        """Copy the journal with sqlite's online backup API (a damaged journal is not copied)."""
        if self.bad_rows:  # the backup still holds the good row: keep it for the recovery
            return
        try:
            if self._db.execute("PRAGMA quick_check").fetchone() != ("ok",):
                return
            out = sqlite3.connect(dest)
            try:
                self._db.backup(out)
            finally:
                out.close()
        except (sqlite3.Error, OSError):
            pass  # the backup is a spare: a failure to make it must not fail the command

    def close(self) -> None:
        """Close the connection."""
        self._db.close()


class GuardedRows(list[Any]):
    """Rows already fetched, with the cursor methods callers use."""

    def fetchone(self) -> Any:
        return self[0] if self else None

    def fetchall(self) -> list[Any]:
        return list(self)
