"""Sound that cannot play where it is written is refused before anything is bought (hostile
findings H7 and H9): a line or sound placed after its scene has ended, and lip sync over voices
that are not in the picture (the narrator, a cast member who is only a voice)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import wav_bytes, write_project

import storyboard
from storyboard.board.spec import load_project
from storyboard.board.voices import sound_warnings
from storyboard.errors import SpecError

LATE = """
title: Late
narrator: {model: xai:tts@0, voice: Sal}
defaults: {duration: 4}
scenes:
  - id: a
    prompt: "A quiet room at night."
    dialogue:
      - {who: ghost, line: "far too late", at: 99}
      - {who: ghost, line: "just in time", at: 3.5}
    narration:
      - {line: "After the end.", at: 4}
    sounds: [{file: assets/s.wav, at: 50}]
  - id: b
    prompt: "The same room at dawn."
    trim: {in: 1.0}
    dialogue: [{who: ghost, line: "trimmed away", at: 3.2}]
"""


def test_a_line_or_sound_after_its_scene_ends_is_an_error_at_its_line(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", LATE, {"assets/s.wav": wav_bytes()})
    with pytest.raises(SpecError) as e:
        load_project(root)
    found = [str(p) for p in e.value.problems]
    assert len(found) == 4, found
    assert any(
        ":8:" in p and "scenes[0].dialogue[0].at" in p and "99" in p and "scene 'a'" in p
        for p in found
    ), found
    assert any("scenes[0].narration[0].at" in p for p in found), found
    assert any("scenes[0].sounds[0].at" in p and "50" in p for p in found), found
    assert any("scenes[1].dialogue[0].at" in p and "3 s" in p for p in found), found  # 4 - 1 s
    assert not any("dialogue[1]" in p for p in found)


LIPS = """
title: Lips
model: google:3@3
narrator: {model: xai:tts@0, voice: Sal}
defaults: {duration: 8}
cast:
  wren:
    description: Wren, a woman of seventy in a navy wool jumper
    voice: {model: xai:tts@0, voice: Eve}
  coastguard:
    voice: {model: xai:tts@0, voice: Rex}
scenes:
  - id: a
    prompt: "{{ cast.wren }} listens to the radio."
    cast: [wren]
    dialogue:
      - {who: coastguard, line: "Longstone light, coastguard. Stand down.", at: 0.5}
      - {who: wren, line: "Forty-one years."}
    narration: [{line: "She did not answer at once.", at: 6}]
    lipsync: true
  - id: b
    prompt: "The radio on the table."
    dialogue: [{who: coastguard, line: "Do you read me?", at: 0.5}]
    lipsync: true
"""


def test_lip_sync_takes_only_the_voices_in_the_picture(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", LIPS)
    project = storyboard.load(root)
    plan = project._compiled()
    names = {t.scene for t in plan.nodes}
    lips = plan.node("lipsync:a")
    assert [n for n in lips.depends_on if n.startswith("line:")] == ["line:a/2"], lips.depends_on
    assert len(lips.request["inputs"]["audios"]) == 1
    assert "lipsync:b" not in names  # only the radio speaks: nothing to lip-sync
    warnings = sound_warnings(load_project(root))
    assert any("scenes[1].lipsync" in w and "nobody in the picture" in w for w in warnings), (
        warnings
    )


def test_status_names_a_sound_task_a_sound(tmp_path: Path) -> None:
    """`status`'s continuity column said `image` for spoken lines and music (hostile H13f)."""
    root = write_project(tmp_path / "p", LIPS)
    rows = {s.scene: s.mode for s in storyboard.load(root).status().scenes}
    assert rows["line:a/2"] == "sound" and rows["a"] == "cut", rows
    assert rows["lipsync:a"] == "lip sync", rows
