"""What a render says after the provider flags a result NSFW is true (hostile finding H18):
a plain render again buys a new take of a flagged scene, so the closing line says so (with
its price) instead of promising that nothing is bought again, and the pick hint names the
project."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import write_project

from storyboard.cli.main import main
from storyboard.emulator import Emulator, EmulatorConfig, Fault

ONE = """
title: Flag
model: openai:3@1
defaults: {duration: 4}
output: {size: 320x180, fps: 10}
scenes:
  - {id: a, prompt: "A harbour at dawn, gulls circling."}
  - {id: b, prompt: "A small boat leaves the harbour."}
"""


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(latency=0.05, draft=True)) as e:
        yield e


def test_a_flagged_scene_is_said_to_be_bought_again(
    emu: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RUNWARE_API_KEY", "test-key")
    monkeypatch.setenv("RUNWARE_BASE_URL", emu.base_url)
    root = write_project(tmp_path / "p", ONE)
    emu.add_fault(Fault("nsfw", prompt_contains="harbour at dawn", times=None))
    assert main(["render", str(root), "--no-compose", "--quiet"]) == 1
    said = capsys.readouterr().err
    assert f"`storyboard pick {root} a 1`" in said, said
    assert "(nothing already paid for is bought again)" not in said
    assert "a render again buys a new take of a (would cost $0.40)" in said, said
