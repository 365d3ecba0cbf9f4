"""The built-in emulator is one account across renders: media an earlier render made (and the
project keeps as takes) can be sent again by UUID, as Runware keeps an account's media.

Each keyless render starts its own emulator. Before this, a scene that extends a clip made in an
earlier render, or a lip sync over lines spoken earlier, failed on every later render with
"unknown videoId" / "no audio this account made" (hostile finding H3).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_project

import storyboard

EXTEND = """
title: ext
defaults: {duration: 4}
output: {size: 320x180, fps: 10}
scenes:
  - {id: a, prompt: "A red ball rolls along a wooden floor in soft light."}
  - {id: b, continuity: extend, prompt: "The red ball keeps rolling and stops by a wall."}
"""

LIPSYNC = """
title: lips
model: google:3@3
defaults: {duration: 4}
cast:
  wren:
    description: Wren, a woman of seventy in a navy wool jumper
    voice: {model: xai:tts@0, voice: Eve}
scenes:
  - id: a
    prompt: "{{ cast.wren }} speaks by the window."
    cast: [wren]
    dialogue:
      - {who: wren, line: "The lamp is lit.", at: 0.3}
      - {who: wren, line: "Goodnight, then.", at: 2.0}
    lipsync: true
"""


@pytest.fixture(autouse=True)
def _keyless(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNWARE_API_KEY", raising=False)
    monkeypatch.delenv("RUNWARE_BASE_URL", raising=False)


def _render(root: Path) -> storyboard.RenderResult:
    return storyboard.load(root).render(draft=True, emulator_latency=0.05)


def test_a_scene_extending_an_earlier_renders_clip_renders_again(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", EXTEND)
    assert not _render(root).failed
    text = (root / "storyboard.yaml").read_text()
    (root / "storyboard.yaml").write_text(text.replace("stops by a wall", "bumps into a wall"))
    again = _render(root)
    assert not again.failed, [s.error for s in again.failed]
    assert {s.scene for s in again.scenes if s.status == "generated"} == {"b"}


def test_a_lip_sync_over_lines_spoken_earlier_renders_again(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", LIPSYNC)
    assert not _render(root).failed
    text = (root / "storyboard.yaml").read_text()
    (root / "storyboard.yaml").write_text(text.replace("Goodnight, then.", "Goodnight, old light."))
    again = _render(root)
    assert not again.failed, [s.error for s in again.failed]
    made = {s.scene for s in again.scenes if s.status == "generated"}
    assert made == {"line:a/2", "lipsync:a"}, made
