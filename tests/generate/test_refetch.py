"""A take whose file is gone is fetched again from the service, never bought again, whatever
the lock says of its URL (hostile helper-55)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import write_project

from storyboard.cli.main import main
from storyboard.emulator import Emulator, EmulatorConfig

FAST = ["--emulator-latency", "0.05"]
TWO = """
title: Two
defaults: {duration: 4}
scenes:
  - {id: boat, prompt: "A boat at dawn."}
  - {id: sea, prompt: "The sea.", continuity: last_frame}
"""


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Any:
    with Emulator(EmulatorConfig(latency=0.05, draft=True)) as e:
        monkeypatch.setenv("RUNWARE_API_KEY", "test-key")
        monkeypatch.setenv("RUNWARE_BASE_URL", e.base_url)
        yield e


def test_a_lock_entry_without_its_url_is_fetched_from_the_journals(
    emu: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The lock's entry lost its URL (`url:` empty, which the lock allows); the journal has
    the same take's: status said `stale: file missing` and the render bought the scene, and
    the one continuing from it, again."""
    p = write_project(tmp_path / "p", TWO)
    assert main(["render", str(p), *FAST, "--no-compose", "--quiet"]) == 0
    lock_file = p / "storyboard.lock"
    lock = yaml.safe_load(lock_file.read_text())
    (p / lock["scenes"]["boat"]["file"]).unlink()
    lock["scenes"]["boat"]["url"] = None
    lock_file.write_text(yaml.safe_dump(lock, sort_keys=False))
    capsys.readouterr()
    assert main(["status", str(p)]) == 0
    row = next(r for r in capsys.readouterr().out.splitlines() if r.startswith("boat "))
    assert "re-download" in row, row
    # and `plan` says the same (hostile helper-55: it said "up to date")
    assert main(["plan", str(p)]) == 0
    row = next(r for r in capsys.readouterr().out.splitlines() if r.startswith("boat "))
    assert row.split()[-1] == "re-download" and "cached" in row, row
    import storyboard

    planned = {s.scene: s for s in storyboard.load(p).plan().scenes}
    assert planned["boat"].fetch and not planned["boat"].generate
    assert not planned["sea"].fetch
    charged = len(emu.ledger)
    capsys.readouterr()
    assert main(["render", str(p), *FAST, "--no-compose"]) == 0
    assert len(emu.ledger) == charged
    row = next(r for r in capsys.readouterr().out.splitlines() if r.startswith("boat "))
    assert row.split()[1:4] == ["re-downloaded", "1", "-"], row  # not "$0 (would cost $0.00)"
    after = yaml.safe_load(lock_file.read_text())["scenes"]
    assert after["boat"]["take"] == 1 and after["sea"]["take"] == 1
    assert (p / after["boat"]["file"]).is_file()


def test_a_killed_downloads_part_file_is_swept_by_the_next_download(
    emu: Emulator, tmp_path: Path
) -> None:
    """hostile helper-55: a render SIGKILLed while fetching a take left its
    `.take-1.mp4.*.part` for ever. The next download into that folder removes what a dead
    writer of this machine left; a live writer's and another machine's stay."""
    import os

    from storyboard.files import host_tag

    p = write_project(tmp_path / "p", TWO)
    assert main(["render", str(p), *FAST, "--no-compose", "--quiet"]) == 0
    lock = yaml.safe_load((p / "storyboard.lock").read_text())
    take = p / lock["scenes"]["boat"]["file"]
    dead = _dead_pid()
    host = host_tag()
    left = take.parent / f".{take.name}.{dead}-{host}-abc123.part"
    live = take.parent / f".{take.name}.{os.getppid()}-{host}-def456.part"
    other = take.parent / f".{take.name}.{dead}-0000beef-ghi789.part"
    for f in (left, live, other):
        f.write_bytes(b"half a take")
    take.unlink()
    assert main(["render", str(p), *FAST, "--no-compose", "--quiet"]) == 0
    assert take.is_file() and not left.exists()
    assert live.exists() and other.exists()


def _dead_pid() -> int:
    """The pid of a process that has ended."""
    import subprocess

    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid
