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

pytestmark = pytest.mark.usefixtures("quick_polls")  # only for speed: see conftest

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


def test_each_film_of_a_storyboard_has_its_own_animatic_files(
    tmp_path: Path, emu: Emulator
) -> None:
    """hostile2 H15: a variant's --boards overwrote the main animatic's contact sheet and key."""
    vertical = "variants:\n  vertical: {size: 180x320, reframe: crop}\n"
    p = write_project(tmp_path / "p", TWO + vertical)
    main_film = storyboard.load(p, api_key="k", base_url=emu.base_url)
    vertical = main_film.variant("vertical")
    assert main_film.render(boards=True).ok and vertical.render(boards=True).ok
    one, two = main_film.animatic(), vertical.animatic()
    assert one.contact_sheet == p / "build" / "contact-sheet.animatic.png"
    assert two.contact_sheet == p / "build" / "contact-sheet.vertical.animatic.png"
    assert one.film != two.film and one.contact_sheet.is_file()
    assert (p / "build" / "animatic.json").is_file()
    assert (p / "build" / "animatic.vertical.json").is_file()
    # each is up to date after the other was cut: nothing encoded again
    assert main_film.animatic().up_to_date and vertical.animatic().up_to_date


def test_the_animatic_has_the_spoken_lines_already_made(tmp_path: Path, emu: Emulator) -> None:
    """hostile2 H15: the animatic was cut without the lines the film has ("line:a/1 has no take
    yet"): it plays the takes of the film's sounds, only the pictures are the boards."""
    text = TWO.replace(
        "defaults: {duration: 4}",
        "defaults: {duration: 4}\nnarrator: {model: xai:tts@0, voice: Eve}",
    ).replace('climbs the stair"}', 'climbs the stair", narration: ["She climbs."]}')
    p = write_project(tmp_path / "p", text)
    project = storyboard.load(p, api_key="k", base_url=emu.base_url)
    assert project.render().ok  # the clips and the line
    assert project.render(boards=True).ok
    said: list[str] = []
    project.animatic(progress=lambda e: said.append(str(e)))
    assert not [s for s in said if "has no take yet" in s], said


def test_an_animatic_without_sound_is_cut_silent_not_refused(tmp_path: Path, emu: Emulator) -> None:
    """hostile helper-47: `render --boards` of a film whose music is generated (not made by
    --boards) and with no line spoken measured its silent mix at -inf LUFS and passed that to
    loudnorm: ffmpeg refused, and the README's lighthouse example failed every time."""
    music = "edit: {loudness: -16, music: {prompt: a slow piano}}\n"
    p = write_project(tmp_path / "p", TWO + music)
    project = storyboard.load(p, api_key="k", base_url=emu.base_url)
    assert project.render(boards=True).ok
    said: list[str] = []
    cut = project.animatic(progress=lambda e: said.append(str(e)))
    assert cut.film.is_file() and probe(cut.film).has_audio
    assert "loudness: the sound is silent: not normalised" in said, said


def test_plan_boards_lists_the_sounds_as_made_later_not_cached(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """hostile helper-47: `plan --boards` showed voices and music never made as `cached -`,
    where a plain `plan` said `generate` and `render --boards` did not make them."""
    monkeypatch.delenv("RUNWARE_API_KEY", raising=False)
    voiced = TWO.replace(
        'cast:\n  wren: {description: "Wren, a keeper of seventy in a navy jumper"}',
        'cast:\n  wren: {description: "Wren, a keeper", voice: {model: "xai:tts@0", voice: Eve}}',
    ).replace(
        '"{{ cast.wren }} climbs the stair"}',
        '"{{ cast.wren }} climbs the stair", dialogue: [{who: wren, line: "Up we go."}]}',
    )
    p = write_project(tmp_path / "p", voiced + "edit: {music: {prompt: a slow piano}}\n")
    project = storyboard.load(p)
    sounds = {s.node: s for s in project.plan(boards=True).sounds}
    assert set(sounds) == {"line:a/1", "music"}
    assert all(s.later and not s.generate for s in sounds.values()), sounds
    assert not any(s.later for s in project.plan().sounds)  # a plain render makes them
    assert main(["plan", str(p), "--boards"]) == 0
    rows = [r for r in capsys.readouterr().out.splitlines() if r.startswith(("line:a/1", "music"))]
    assert len(rows) == 2 and all("later (not with --boards)" in r for r in rows), rows
