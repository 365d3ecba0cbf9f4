"""A result the provider flagged NSFW is paid for and kept as a take; a plain render again does
not buy the same content again (hostile finding H18: it used to, on every render, while its
closing line promised that nothing paid for is bought again). The scene stays failed until the
user picks the flagged take, changes the prompt, or asks for a new take with ``--retake``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import write_project

import storyboard.api as sb
from storyboard.cli.main import main
from storyboard.emulator import Emulator, EmulatorConfig, Fault

# --emulator-latency: as quick as the emulator here, so the client polls a task when it can
# be done (at the default 1 s it waits 0.5 s first); only for speed
FAST = ["--emulator-latency", "0.05"]

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


@pytest.fixture
def root(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The project, rendered against ``emu`` with a key (its ledger counts every charge)."""
    monkeypatch.setenv("RUNWARE_API_KEY", "test-key")
    monkeypatch.setenv("RUNWARE_BASE_URL", emu.base_url)
    return write_project(tmp_path / "p", ONE)


def charged(emu: Emulator, text: str) -> int:
    return sum(1 for c in emu.ledger if text in c.get("prompt", "") and not c.get("refunded"))


def test_a_flagged_scene_is_not_bought_again_by_a_plain_render(
    emu: Emulator, root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emu.add_fault(Fault("nsfw", prompt_contains="harbour at dawn", times=None))
    assert main(["render", str(root), *FAST, "--no-compose", "--quiet"]) == 1
    said = capsys.readouterr().err
    assert f"`storyboard pick {root} a 1`" in said, said
    assert charged(emu, "harbour at dawn") == 1
    for _ in range(2):  # again, and again: nothing bought, the same advice
        assert main(["render", str(root), *FAST, "--no-compose", "--quiet"]) == 1
        said = capsys.readouterr().err
        assert charged(emu, "harbour at dawn") == 1
        assert "flagged the result as NSFW in an earlier render; it is kept as take 1" in said, said
        assert f"`storyboard pick {root} a 1`" in said
        assert f"`storyboard render {root} --retake a`" in said
        assert "(nothing already paid for is bought again)" in said
        assert "rendering" not in said  # nothing to render: nothing said to be
    status = sb.load(root).status()
    row = next(r for r in status.scenes if r.scene == "a")
    assert row.next_cost == 0.0 and row.action == "flagged: take 1 kept"
    assert "a" not in [s.scene for s in sb.load(root).plan().to_generate]
    # a budget of $0 is enough: nothing is to be bought
    assert main(["render", str(root), *FAST, "--no-compose", "--quiet", "--budget", "0"]) == 1
    capsys.readouterr()
    assert charged(emu, "harbour at dawn") == 1
    # asked for: a new take is bought (and flagged again here)
    assert main(["render", str(root), *FAST, "--no-compose", "--quiet", "--retake", "a"]) == 1
    assert charged(emu, "harbour at dawn") == 2
    capsys.readouterr()
    # picked: the flagged take makes the cut, and the film is made
    assert main(["pick", str(root), "a", "1"]) == 0
    assert main(["render", str(root), *FAST, "--quiet"]) == 0
    assert charged(emu, "harbour at dawn") == 2
    assert (root / "build" / "flag.mp4").is_file()


def test_a_changed_prompt_is_bought(
    emu: Emulator, root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emu.add_fault(Fault("nsfw", prompt_contains="harbour at dawn", times=1))
    assert main(["render", str(root), *FAST, "--no-compose", "--quiet"]) == 1
    (root / "storyboard.yaml").write_text(ONE.replace("gulls circling", "gulls resting"))
    assert main(["render", str(root), *FAST, "--quiet"]) == 0
    capsys.readouterr()
    assert charged(emu, "harbour at dawn") == 2
