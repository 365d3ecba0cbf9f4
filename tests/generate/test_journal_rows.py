"""A hand-edited build/journal.sqlite row of the wrong type or range (issue 15: every file read
defensively): one message naming the journal, the task or take and the field, never a traceback;
the backup stays the good one, and once the row is put back nothing is bought twice."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from helpers import stand_in, write_project

from storyboard.cli.main import main
from storyboard.emulator import Emulator

# --emulator-latency: as quick as the emulator here, so the client polls a task when it can
# be done (at the default 1 s it waits 0.5 s first); only for speed
FAST = ["--emulator-latency", "0.05"]

TWO = """
title: Two
defaults: {duration: 4}
scenes:
  - {id: a, prompt: "Scene A: a kite in the wind."}
  - {id: b, prompt: "Scene B: the kite lands."}
"""

# (table, column, value written by hand, words the message must hold). A number written into
# a TEXT column is stored as text by sqlite (column affinity); bytes stay a BLOB.
CASES = [
    ("tasks", "cost", "free", "cost"),
    ("tasks", "cost", -3.0, "cost"),
    ("tasks", "cost", float("inf"), "cost"),
    ("tasks", "estimate", "x", "estimate"),
    ("tasks", "request", "not json", "request"),
    ("tasks", "request", "[1, 2]", "request"),
    ("tasks", "results", "[5]", "results"),
    ("tasks", "results", "{bad", "results"),
    ("tasks", "state", "weird", "state"),
    ("tasks", "state", 7, "state"),
    ("tasks", "created_at", "yesterday", "created_at"),
    ("tasks", "scene", b"a", "scene"),
    ("tasks", "error", b"oops", "error"),
    ("takes", "n", "one", "n"),
    ("takes", "n", -1, "n"),
    ("takes", "size", "big", "size"),
    ("takes", "cost", "free", "cost"),
    ("takes", "duration", -5.0, "duration"),
    ("takes", "offset", "x", "offset"),
    ("takes", "offset", 1e300, "offset"),
    ("takes", "nsfw", "yes", "nsfw"),
    ("takes", "file", b"x.mp4", "file"),
    # hostile helper-42: a path out of build/takes, or into another scene's folder, silently
    # put another take in the cut (the scene's latest), and `pick` wrote it into the lock
    ("takes", "file", "build/takes/a/../../../../victim/x.mp4", "file"),
    ("takes", "file", "build/takes/zz/take-1.mp4", "file"),  # another folder (no scene zz)
    ("takes", "sha256", b"00", "sha256"),
    ("takes", "made_by", "alien", "made_by"),
    ("takes", "made_by", b"emulator", "made_by"),
    ("takes", "created_at", "x", "created_at"),
    ("takes", "video_uuid", b"7", "video_uuid"),
    ("picks", "video_uuid", b"7", "video_uuid"),
    ("picks", "video_uuid", "0" * 36, "video_uuid"),  # names no take (takes are never removed)
    ("picks", "by_pick", "yes", "by_pick"),
    ("picks", "by_pick", 5, "by_pick"),
    ("picks", "picked_at", "x", "picked_at"),
    ("picks", "key", b"k", "key"),
    ("picks", "source_take", b"s", "source_take"),
]


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Any:
    with stand_in(monkeypatch) as e:
        yield e


def charged(emu: Emulator) -> list[str]:
    return sorted(c["prompt"][6] for c in emu.ledger if not c.get("refunded"))


def edit(journal: Path, table: str, column: str, value: Any) -> tuple[Any, str]:
    """Set ``column`` of the first row in ``table``; the old value, and the row's scene."""
    db = sqlite3.connect(journal)
    try:
        old, scene = db.execute(f"SELECT {column}, scene FROM {table} WHERE rowid=1").fetchone()
        db.execute(f"UPDATE {table} SET {column}=? WHERE rowid=1", (value,))
        db.commit()
    finally:
        db.close()
    return old, scene


@pytest.mark.parametrize(
    ("table", "column", "value", "words"),
    CASES,
    ids=[f"{t}.{c}={v!r}" for t, c, v, _ in CASES],
)
def test_a_wrong_row_is_one_message_and_nothing_is_bought_twice(
    emu: Emulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    table: str,
    column: str,
    value: Any,
    words: str,
) -> None:
    p = write_project(tmp_path, TWO)
    assert main(["render", str(p), *FAST, "--no-compose", "--quiet"]) == 0
    journal = p / "build" / "journal.sqlite"
    good_backup = (p / "build" / "journal.sqlite.bak").read_bytes()
    old, scene = edit(journal, table, column, value)
    # a retake of b must not be bought because a's row is unreadable
    (p / "storyboard.yaml").write_text(
        TWO.replace("the kite lands", "the kite lands softly"), encoding="utf-8"
    )
    capsys.readouterr()
    for cmd in (
        ["status", str(p)],
        *([["takes", str(p), "a"]] if table != "picks" else []),  # takes reads no picks
        ["render", str(p), *FAST, "--no-compose", "--quiet"],
    ):
        rc = main(cmd)
        out = capsys.readouterr()
        err = out.err.strip()
        assert "Traceback" not in out.out + err, (cmd, err)
        assert rc == 1, (cmd, out.out, err)
        assert len(err.splitlines()) == 1, (cmd, err)
        assert "journal.sqlite" in err and words in err, (cmd, err)
        named = f"scene {value!r}" if (table, column) == ("tasks", "scene") else f"scene {scene!r}"
        assert named in err and ("take " in err or "task " in err), (cmd, err)
    assert charged(emu) == ["A", "B"]  # the refused render bought nothing
    # the backup is still the good journal: restoring it, or putting the value back, recovers
    assert (p / "build" / "journal.sqlite.bak").read_bytes() == good_backup
    edit(journal, table, column, old)
    assert main(["render", str(p), *FAST, "--no-compose", "--quiet"]) == 0
    assert charged(emu) == ["A", "B", "B"]  # only the changed scene, once


def test_a_bad_row_and_the_backup(emu: Emulator, tmp_path: Path, capsys) -> None:
    """The message says how to recover, and the recovery it names works."""
    p = write_project(tmp_path, TWO)
    assert main(["render", str(p), *FAST, "--no-compose", "--quiet"]) == 0
    journal = p / "build" / "journal.sqlite"
    edit(journal, "takes", "size", "big")
    capsys.readouterr()
    assert main(["status", str(p)]) == 1
    err = capsys.readouterr().err
    assert f"{journal}.bak" in err
    for side in ("-wal", "-shm"):
        Path(f"{journal}{side}").unlink(missing_ok=True)
    shutil.copy(f"{journal}.bak", journal)
    assert main(["status", str(p)]) == 0
    assert main(["render", str(p), *FAST, "--no-compose", "--quiet"]) == 0
    assert charged(emu) == ["A", "B"]


@pytest.mark.parametrize("value", ["5", b"\x00"])
def test_a_hand_edited_file_hash_is_only_a_cache(
    emu: Emulator, tmp_path: Path, capsys, value: Any
) -> None:
    """build/journal.sqlite's file_hashes is a cache: a wrong value there is not trusted (the
    file is hashed again), so a good take is never taken for a damaged one and bought again."""
    p = write_project(tmp_path, TWO)
    assert main(["render", str(p), *FAST, "--no-compose", "--quiet"]) == 0
    db = sqlite3.connect(p / "build" / "journal.sqlite")
    db.execute("UPDATE file_hashes SET sha256=?", (value,))
    db.commit()
    db.close()
    capsys.readouterr()
    assert main(["status", str(p)]) == 0
    assert "0 of 2 scenes stale" in capsys.readouterr().out
    assert main(["render", str(p), *FAST, "--no-compose", "--quiet"]) == 0
    assert charged(emu) == ["A", "B"]


def test_a_pick_of_another_scenes_take_is_one_message(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """hostile helper-41: a pick naming another scene's take (or no take) was skipped without
    a word, and the scene lost its chosen take."""
    p = write_project(tmp_path, TWO)
    assert main(["render", str(p), *FAST, "--no-compose", "--quiet"]) == 0
    db = sqlite3.connect(p / "build" / "journal.sqlite")
    db.execute(
        "UPDATE picks SET video_uuid=(SELECT video_uuid FROM picks WHERE scene='b') WHERE scene='a'"
    )
    db.commit()
    db.close()
    capsys.readouterr()
    assert main(["status", str(p)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "the pick of a take for scene 'a': video_uuid is '" in err
    assert "expected the video_uuid of a take of 'a'" in err
    assert charged(emu) == ["A", "B"]
