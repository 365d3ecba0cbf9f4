"""A damaged build/journal.sqlite: one message with the recovery, nothing bought twice."""

from __future__ import annotations

import shutil
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


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Any:
    with stand_in(monkeypatch) as e:
        yield e


def charged(emu: Emulator) -> list[str]:
    return sorted(c["prompt"][6] for c in emu.ledger if not c.get("refunded"))


def garble(journal: Path, how: str) -> None:
    data = bytearray(journal.read_bytes())
    if how == "truncate":
        journal.write_bytes(bytes(data[:1500]))
    elif how == "header":
        journal.write_bytes(b"\xff" * 100 + bytes(data[100:]))
    else:  # every page after the first overwritten with garbage
        journal.write_bytes(bytes(data[:4096]) + b"\xa5" * (len(data) - 4096))


@pytest.mark.parametrize("how", ["pages", "truncate", "header"])
def test_a_damaged_journal_is_one_message_and_the_backup_restores_it(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    p = write_project(tmp_path, TWO)
    assert main(["render", str(p), *FAST, "--no-compose", "--quiet"]) == 0
    journal = p / "build" / "journal.sqlite"
    assert (p / "build" / "journal.sqlite.bak").is_file()
    for side in ("-wal", "-shm"):
        Path(f"{journal}{side}").unlink(missing_ok=True)
    garble(journal, how)
    capsys.readouterr()
    for cmd in (["status", str(p)], ["render", str(p), *FAST, "--no-compose", "--quiet"]):
        assert main(cmd) == 1
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "Traceback" not in err
        assert "the build journal is damaged" in err
        assert f"mv {journal} {journal}.broken && cp {journal}.bak {journal}" in err
    shutil.move(journal, f"{journal}.broken")
    shutil.copy(f"{journal}.bak", journal)
    assert main(["render", str(p), *FAST, "--no-compose", "--quiet"]) == 0
    assert charged(emu) == ["A", "B"]  # one charge per scene
