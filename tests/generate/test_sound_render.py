"""Sound nodes in the graph (issue 18): spoken lines, music, effects and lip sync rendered on
the emulator, journaled and cached like clips; one edited line re-spoken alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import write_project

import storyboard
from storyboard.emulator import Emulator, EmulatorConfig

pytestmark = pytest.mark.usefixtures("quick_polls")  # only for speed: see conftest

STORY = """
title: Sound
defaults: {duration: 4}
narrator: {model: xai:tts@0, voice: Sal}
cast:
  wren:
    description: Wren, a weathered woman of seventy in a navy wool jumper
    voice: {model: xai:tts@0, voice: Eve}
  coastguard:
    voice: {model: xai:tts@0, voice: Rex}
scenes:
  - id: a
    prompt: "The lamp room at night."
    dialogue:
      - {who: coastguard, line: "Longstone light, stand down.", at: 0.3}
      - {who: Wren, line: "Forty-one years."}
    lipsync: true
  - id: b
    prompt: "The sea at dawn."
    narration: ["And then it was morning."]
    sounds:
      - {prompt: "a door slams", at: 1.0, duration: 1}
edit:
  music: {prompt: "slow strings under a storm"}
output: {size: 320x180, fps: 10}  # the film at the --draft clips' size: only for speed
"""


@pytest.fixture
def emu() -> Any:
    with Emulator(EmulatorConfig(latency=0.05, draft=True)) as e:
        yield e


def load(p: Path, emu: Emulator) -> storyboard.Project:
    return storyboard.load(p, api_key="k", base_url=emu.base_url)


def audio_sent(emu: Emulator) -> list[dict[str, Any]]:
    return [t for t in emu.log if t["taskType"] == "audioInference"]


def test_sound_nodes_render_once_and_one_edited_line_alone_again(
    tmp_path: Path, emu: Emulator
) -> None:
    p = write_project(tmp_path / "p", STORY)
    plan = load(p, emu).plan()
    names = [s.node for s in plan.sounds]
    assert names == ["line:a/1", "line:a/2", "line:b/1", "music", "lipsync:a", "sfx:b/1"]
    speech = {s.node: s for s in plan.sounds}
    assert speech["line:a/1"].voice == "Rex" and speech["line:a/2"].voice == "Eve"
    assert speech["music"].cost == pytest.approx(0.15)
    assert speech["line:a/1"].cost == pytest.approx(0.0042 * 28 / 1000)
    assert plan.cost == pytest.approx(
        sum(s.cost for s in plan.scenes)
        + sum(i.cost for i in plan.images if i.generate)
        + sum(s.cost for s in plan.sounds)
    )
    result = load(p, emu).render(draft=True)
    result.raise_for_failures()
    said = sorted(t["speech"]["text"] for t in audio_sent(emu) if "speech" in t)
    assert said == ["And then it was morning.", "Forty-one years.", "Longstone light, stand down."]
    clips = [t for t in emu.log if t["taskType"] == "videoInference"]
    assert len(clips) == 3  # two scenes and the lip sync of a
    sync = next(t for t in clips if t["model"] == "sync:lipsync-2@1")
    assert sync["inputs"]["video"] in emu.videos
    assert all(a["source"] in emu.audios for a in sync["inputs"]["audios"])
    assert all(
        "Longstone" not in t.get("positivePrompt", "") for t in clips
    )  # a voiced line is not in the clip's prompt
    film = load(p, emu).compose()
    assert film.film.is_file()

    # nothing changed: nothing is sent
    before = len(emu.log)
    load(p, emu).render(draft=True).raise_for_failures()
    assert len(emu.log) == before

    # one line edited: that line is spoken again, and (lip sync) its scene re-synced; no clip
    (p / "storyboard.yaml").write_text(STORY.replace("Forty-one years.", "Forty-two years."))
    plan = load(p, emu).plan()
    assert sorted(s.node for s in plan.sounds if s.generate) == ["line:a/2", "lipsync:a"]
    assert not plan.to_generate
    load(p, emu).render(draft=True).raise_for_failures()
    new = emu.log[before:]
    assert [t["speech"]["text"] for t in new if "speech" in t] == ["Forty-two years."]
    assert [t["model"] for t in new if t["taskType"] == "videoInference"] == ["sync:lipsync-2@1"]


def test_takes_and_pick_work_on_a_line(tmp_path: Path, emu: Emulator) -> None:
    p = write_project(tmp_path / "p", STORY.replace("    lipsync: true\n", ""))
    load(p, emu).render(draft=True).raise_for_failures()
    load(p, emu).render(draft=True, retake=["line:a/2"]).raise_for_failures()
    takes = load(p, emu).takes("line:a/2")
    assert [t.n for t in takes] == [1, 2] and takes[1].chosen
    load(p, emu).pick("line:a/2", 1)
    assert next(t for t in load(p, emu).takes("line:a/2") if t.chosen).n == 1
