"""The sound nodes of the plan (issue 18): requests, keys, costs, waits."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from helpers import write_project

from storyboard.board.spec import load_project
from storyboard.plan.audio import compile_sound

STORY = """
title: Sound
narrator: {model: inworld:tts@2, voice: Sarah, language: en}
cast:
  wren: {description: "Wren, a keeper of seventy", voice: {model: xai:tts@0, voice: Eve}}
scenes:
  - id: a
    prompt: "A keeper climbs the stairs."
    duration: 4
    narration: ["The light has not missed a night."]
    dialogue: [{who: wren, line: "Forty-one years.", at: 2}]  # lip-synced: she is in the picture
    sounds:
      - {prompt: "a door slams", at: 0.5, duration: 1.5}
    lipsync: true
  - id: b
    prompt: "The lamp room."
    duration: 4
    narration: [{line: "Until tonight.", at: 1}]
edit:
  music: {prompt: "slow strings under a storm"}
"""


def nodes(tmp: Path, text: str = STORY) -> dict[str, Any]:
    counter = itertools.count()
    project = load_project(write_project(tmp / "p", text))
    found, problems = compile_sound(project, lambda: f"uuid-{next(counter)}", 8.0)
    assert problems == []
    return {n.name: n for n in found}


def stripped(req: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in req.items() if k != "taskUUID"}


def test_each_voiced_line_is_a_speech_task_with_the_catalogue_spelling(tmp_path: Path) -> None:
    got = nodes(tmp_path)
    assert list(got) == ["line:a/1", "line:a/2", "line:b/1", "music", "sfx:a/1", "lipsync:a"]
    line = got["line:a/1"]
    assert stripped(line.request) == {
        "taskType": "audioInference",
        "model": "inworld:tts@2",
        "speech": {"text": "The light has not missed a night.", "voice": "Sarah", "language": "en"},
        "outputType": "URL",
        "outputFormat": "WAV",
        "numberResults": 1,
        "includeCost": True,
        "deliveryMethod": "async",
    }
    assert line.priced is False and line.cost == 0.0  # Inworld's price is not published


def test_music_effect_and_lipsync_requests(tmp_path: Path) -> None:
    got = nodes(tmp_path)
    assert got["music"].request["positivePrompt"] == "slow strings under a storm"
    assert got["music"].cost == pytest.approx(0.15) and "duration" not in got["music"].request
    fx = got["sfx:a/1"].request
    assert (fx["model"], fx["duration"], fx["positivePrompt"]) == (
        "mirelo:1@1",
        1.5,
        "a door slams",
    )
    ls = got["lipsync:a"]
    assert ls.kind == "video" and ls.waits == ["a", "line:a/2"]  # never the narrator (H7)
    assert ls.request["inputs"] == {
        "video": "${video:a}",
        "audios": [{"id": "line-1", "source": "${audio:line:a/2}"}],
    }
    assert ls.cost == pytest.approx(0.044 * ls.seconds)


def test_editing_one_line_changes_that_line_only(tmp_path: Path) -> None:
    before = nodes(tmp_path / "x")
    after = nodes(tmp_path / "y", STORY.replace("Until tonight.", "Until this night."))
    changed = {k for k in before if stripped(before[k].request) != stripped(after[k].request)}
    assert changed == {"line:b/1"}


def test_xai_prices_by_characters(tmp_path: Path) -> None:
    got = nodes(
        tmp_path,
        STORY.replace(
            "{model: inworld:tts@2, voice: Sarah, language: en}", "{model: xai:tts@0, voice: Eve}"
        ),
    )
    text = "The light has not missed a night."
    assert got["line:a/1"].cost == pytest.approx(0.0042 * len(text) / 1000)
    assert "language" not in got["line:a/1"].request["speech"]


def test_an_effect_outside_the_models_range_is_an_error_at_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    project = load_project(
        write_project(tmp_path / "p", STORY.replace("duration: 1.5", "duration: 30"))
    )
    _, problems = compile_sound(project, lambda: "u", 8.0)
    assert [str(p) for p in problems] == [
        "p/storyboard.yaml:12: scenes[0].sounds[0].duration: Mirelo SFX 1.5 makes 1 to 10 s of "
        "sound, got 30"
    ]
