"""The animatic (issue 17): the boards cut as the film, before any clip is bought."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import write_project

import storyboard
from storyboard.cli.main import main
from storyboard.emulator import Emulator, EmulatorConfig
from storyboard.media.probe import probe

TWO = """
title: Two Boards
model: google:3@3
size: 1280x720
cast:
  wren: {description: "Wren, a keeper of seventy in a navy jumper"}
defaults: {duration: 4}
scenes:
  - {id: a, cast: [wren], prompt: "{{ cast.wren }} climbs the stair"}
  - {id: b, prompt: "The lamp turns", duration: 6, transition: {type: fade, duration: 1.0}}
output: {size: 320x180, fps: 10}
"""


@pytest.fixture
def emu() -> Any:
    with Emulator(EmulatorConfig(latency=0.05, draft=True)) as e:
        yield e


def test_render_boards_cuts_the_animatic_and_buys_no_clip(tmp_path: Path, emu: Emulator) -> None:
    p = write_project(tmp_path / "p", TWO)
    project = storyboard.load(p, api_key="k", base_url=emu.base_url)
    with pytest.raises(storyboard.ComposeError, match="no board yet for a, b"):
        project.animatic()
    assert project.render(boards=True).ok
    cut = project.animatic()
    assert cut.film == p / "build" / "two-boards.animatic.mp4" and cut.film.is_file()
    info = probe(cut.film)
    # 4 s + 6 s, less the 1 s the fade overlaps
    assert (info.width, info.height) == (320, 180) and abs(info.duration - 9.0) < 0.25
    assert {t["taskType"] for t in emu.log} == {"imageInference"}
    assert cut.contact_sheet == p / "build" / "contact-sheet.animatic.png"
    assert not (p / "build" / "two-boards.mp4").exists()  # the film is not touched
    again = project.animatic()
    assert again.up_to_date  # nothing changed: nothing encoded


def test_the_cli_render_boards_prints_the_animatic(
    tmp_path: Path, emu: Emulator, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = write_project(tmp_path / "p", TWO)
    monkeypatch.setenv("RUNWARE_API_KEY", "k")
    monkeypatch.setenv("RUNWARE_BASE_URL", emu.base_url)
    assert main(["render", str(p), "--boards", "-q"]) == 0
    out = capsys.readouterr().out
    assert f"animatic: {p / 'build' / 'two-boards.animatic.mp4'}" in out
    assert "board:a" in out and "cast:wren" in out
