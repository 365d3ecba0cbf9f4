"""Temp folders left by a killed process are removed at the next start; live ones never."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from helpers import dead_pid, plant

from storyboard.emulator.server import Emulator, EmulatorConfig
from storyboard.files import owned_tempdir, sweep_stale


def test_sweep_removes_only_dead_owners_folders(tmp_path: Path) -> None:
    dead, live, anon = plant(tmp_path, ".compose-")
    mine = owned_tempdir(".compose-", tmp_path)
    assert mine.name.startswith(f".compose-{os.getpid()}-")
    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / f".compose-{dead_pid()}-link"
    link.symlink_to(target, target_is_directory=True)
    assert sweep_stale(".compose-", tmp_path) == [dead]
    assert not dead.exists()
    assert live.exists() and anon.exists() and mine.exists() and target.exists()


def test_emulator_clears_a_killed_emulators_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead, live, anon = plant(tmp_path, "sb-emulator-")
    dead_clip, live_clip, _ = plant(tmp_path, "sb-emu-")
    with Emulator(EmulatorConfig(latency=0.0, draft=True)) as emu:
        assert emu.workdir.name.startswith(f"sb-emulator-{os.getpid()}-")
        assert not dead.exists() and not dead_clip.exists()
        assert live.exists() and anon.exists() and live_clip.exists()
