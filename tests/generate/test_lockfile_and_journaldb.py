"""generate/lockfile.py and journaldb.py rule by rule: the lock read (every entry checked) and
written (atomically, in film order), and the journal connection whose damage is one message."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml

from storyboard.errors import StoryboardError
from storyboard.generate.journaldb import Guarded, GuardedRows
from storyboard.generate.lockfile import HEADER, read_lock, write_lock
from storyboard.generate.state import Take


def take(scene: str, n: int = 1, **kw: Any) -> Take:
    fields: dict[str, Any] = {
        "scene": scene,
        "n": n,
        "key": f"key-{scene}",
        "source_take": None,
        "task_uuid": f"task-{scene}",
        "video_uuid": f"video-{scene}",
        "video_id": None,
        "url": f"https://x.test/{scene}.mp4",
        "file": f"build/takes/{scene}/take-{n}.mp4",
        "size": 10,
        "sha256": "0" * 64,
        "cost": 0.4,
        "duration": 4.0,
        "created_at": 1_700_000_000.0,
        "made_by": "emulator",
    }
    fields.update(kw)
    return Take(**fields)


def test_a_lock_is_written_in_film_order_and_read_back(tmp_path: Path) -> None:
    lock = tmp_path / "storyboard.lock"
    takes = {"b": take("b", 2), "a": take("a", prompt_free := 1), "c": take("c")}
    write_lock(lock, takes, ["c", "a", "b", "z"])
    text = lock.read_text(encoding="utf-8")
    assert text.startswith(HEADER)
    data = yaml.safe_load(text)
    assert data["version"] == 1 and list(data["scenes"]) == ["c", "a", "b"]
    back = read_lock(tmp_path, lock)
    assert {s: t.scene for s, t in back.items()} == {"c": "c", "a": "a", "b": "b"}
    assert back["b"].n == 2 and back["a"].n == prompt_free
    assert back["a"].file == "build/takes/a/take-1.mp4"
    assert back["a"].created_at == takes["a"].created_at or back["a"].created_at > 0


def test_only_scenes_of_the_film_are_written(tmp_path: Path) -> None:
    lock = tmp_path / "storyboard.lock"
    write_lock(lock, {"a": take("a"), "gone": take("gone")}, ["a"])
    assert list(yaml.safe_load(lock.read_text())["scenes"]) == ["a"]


def test_no_empty_lock_is_made_but_an_existing_one_is_emptied(tmp_path: Path) -> None:
    lock = tmp_path / "storyboard.lock"
    write_lock(lock, {}, ["a"])
    assert not lock.exists()
    write_lock(lock, {"a": take("a")}, ["a"])
    write_lock(lock, {}, ["a"])
    assert yaml.safe_load(lock.read_text())["scenes"] == {}


def test_non_ascii_is_written_as_is(tmp_path: Path) -> None:
    lock = tmp_path / "storyboard.lock"
    write_lock(lock, {"é": take("é", url="https://x.test/café.mp4")}, ["é"])
    assert "café" in lock.read_text(encoding="utf-8")
    long_url = "https://x.test/" + "a" * 200 + ".mp4"
    maker = "runware " + " ".join(["https://proxy.example.com/v1"] * 6)  # spaces: foldable
    write_lock(lock, {"a": take("a", url=long_url, made_by=maker)}, ["a"])
    text = lock.read_text()
    assert f"url: {long_url}\n" in text and f"made_by: {maker}\n" in text  # never folded


def test_a_missing_lock_reads_as_no_takes(tmp_path: Path) -> None:
    assert read_lock(tmp_path, tmp_path / "storyboard.lock") == {}
    (tmp_path / "folder.lock").mkdir()  # not a lock: one message, as a FIFO (helper-42)
    with pytest.raises(StoryboardError, match="folder.lock: is a folder, not the lock file"):
        read_lock(tmp_path, tmp_path / "folder.lock")


@pytest.mark.parametrize(
    "text",
    ["scenes: [unclosed", "scenes:\n  a: {take: 1}\n", "scenes:\n  a: 5\n", "- a list"],
    ids=["yaml", "missing-key", "not-a-mapping", "list"],
)
def test_an_unreadable_lock_is_one_message(tmp_path: Path, text: str) -> None:
    lock = tmp_path / "storyboard.lock"
    lock.write_text(text)
    with pytest.raises(StoryboardError) as e:
        read_lock(tmp_path, lock)
    assert str(e.value).startswith(f"{lock}: unreadable lock file (")
    assert str(e.value).endswith(
        "); fix or delete it (takes are kept in build/ and will be found again)"
    )


def test_an_empty_lock_reads_as_no_takes(tmp_path: Path) -> None:
    lock = tmp_path / "storyboard.lock"
    lock.write_text("# only a comment\n")
    assert read_lock(tmp_path, lock) == {}


def test_a_lock_entry_outside_build_takes_names_the_scene(tmp_path: Path) -> None:
    lock = tmp_path / "storyboard.lock"
    write_lock(lock, {"a": take("a"), "b": take("b", file="../../etc/passwd")}, ["a", "b"])
    with pytest.raises(StoryboardError) as e:
        read_lock(tmp_path, lock)
    assert str(e.value) == (
        f"{lock}: scene 'b': file '../../etc/passwd' is not inside the project's build/takes "
        "folder; fix that entry or delete the lock file (the takes are kept in build/ and found "
        "again)"
    )


# -- the journal connection --------------------------------------------------------------------


class Broken:
    """A connection whose every call fails with ``error``."""

    def __init__(self, error: Exception):
        self.error = error

    def execute(self, *a: Any) -> Any:
        raise self.error

    def executescript(self, *a: Any) -> Any:
        raise self.error


def damaged(path: Path, e: str) -> str:
    return (
        f"{path}: the build journal is damaged ({e}); to recover, move it aside and restore the "
        f"backup made after the last good command: mv {path} {path}.broken && cp {path}.bak "
        f"{path}"
    )


@pytest.mark.parametrize(
    "error",
    [
        sqlite3.DatabaseError("database disk image is malformed"),
        sqlite3.OperationalError("database corruption at page 4"),
    ],
    ids=["malformed", "corrupt"],
)
def test_a_damaged_journal_is_one_message_saying_how_to_recover(
    tmp_path: Path, error: Exception
) -> None:
    path = tmp_path / "journal.sqlite"
    db = Guarded(Broken(error), path)  # type: ignore[arg-type]
    with pytest.raises(StoryboardError) as e:
        db.execute("SELECT 1")
    assert str(e.value) == damaged(path, str(error))
    with pytest.raises(StoryboardError) as e:
        db.executescript("SELECT 1;")
    assert str(e.value) == damaged(path, str(error))


def test_other_sqlite_errors_are_not_called_damage(tmp_path: Path) -> None:
    db = Guarded(sqlite3.connect(":memory:"), tmp_path / "j.sqlite")
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        db.execute("SELECT * FROM missing_table")
    db.close()


def test_rows_are_read_at_once(tmp_path: Path) -> None:
    db = Guarded(sqlite3.connect(":memory:"), tmp_path / "j.sqlite")
    db.executescript("CREATE TABLE t (x); INSERT INTO t VALUES (1); INSERT INTO t VALUES (2);")
    rows = db.execute("SELECT x FROM t WHERE x > ? ORDER BY x", (0,))
    assert isinstance(rows, GuardedRows)
    assert rows.fetchone() == (1,) and rows.fetchall() == [(1,), (2,)]
    assert db.execute("SELECT x FROM t WHERE x > 5").fetchone() is None
    db.close()


def test_the_backup_is_a_copy_of_a_sound_journal_only(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    db = Guarded(sqlite3.connect(path), path)
    db.executescript("CREATE TABLE t (x); INSERT INTO t VALUES (42);")
    db.backup_to(tmp_path / "journal.sqlite.bak")
    copy = sqlite3.connect(tmp_path / "journal.sqlite.bak")
    assert copy.execute("SELECT x FROM t").fetchall() == [(42,)]
    copy.close()

    class Unsound:
        def execute(self, sql: str) -> Any:
            assert sql == "PRAGMA quick_check"
            return sqlite3.connect(":memory:").execute("SELECT 'row 3 missing'")

    Guarded(Unsound(), path).backup_to(tmp_path / "none.bak")  # type: ignore[arg-type]
    assert not (tmp_path / "none.bak").exists()
    db.backup_to(tmp_path / "no" / "such" / "folder.bak")  # a spare: never fails the command
    db.close()


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("duration", "x", "duration must be a number of seconds above 0"),
        ("duration", float("nan"), "duration must be a number of seconds above 0"),
        ("made_by", "alien", "made_by must be emulator, draft or runware ENDPOINT"),
        ("made_by", ["x"], "made_by must be emulator, draft or runware ENDPOINT"),
        ("offset", 1e300, "offset must be 0 or more seconds, within the take"),
        ("offset", -3, "offset must be 0 or more seconds, within the take"),
        ("cost", float("nan"), "cost must be an amount of 0 or more dollars"),
        ("take", True, "take must be a whole number of 1 or more"),
        ("size", "10", "size must be a whole number of bytes"),
        ("sha256", 5, "sha256 must be text"),
        ("nsfw", "no", "nsfw must be true or false"),
    ],
)
def test_a_lock_entry_of_the_wrong_type_is_one_message_naming_it(
    tmp_path: Path, field: str, value: Any, why: str
) -> None:
    """Hostile finding F2: a hand-edited lock (duration: x, made_by: alien, offset: 1e300)
    gave tracebacks later, in compose and status; it is refused when read, naming the field."""
    lock = tmp_path / "storyboard.lock"
    write_lock(lock, {"a": take("a")}, ["a"])
    data = yaml.safe_load(lock.read_text())
    data["scenes"]["a"][field] = value
    lock.write_text(yaml.safe_dump(data))
    with pytest.raises(StoryboardError) as e:
        read_lock(tmp_path, lock)
    assert f"unreadable lock file (scene 'a': {why}, got " in str(e.value)
