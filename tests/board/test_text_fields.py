"""Text the service would refuse is refused by validate first, at its line (hostile finding H6:
a whitespace-only line and a NUL in a description passed validate and failed at the service
on every render, with advice to render again)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_project

from storyboard.board.spec import load_project
from storyboard.errors import SpecError

TEXT = """
title: C6
model: google:3@3
narrator: {model: xai:tts@0, voice: Sal}
vars: {mood: "calm \\x07 bell"}
cast:
  m1: {description: "Wren \\0 nul", voice: {model: xai:tts@0, voice: Eve}}
  m2: {description: "   ", voice: {model: xai:tts@0, voice: Eve}}
defaults: {duration: 4}
scenes:
  - id: a
    prompt: "{{ cast.m1 }} waits"
    dialogue:
      - {who: m1, line: "   "}
      - {who: m1, line: "\\0\\0"}
      - {who: m1, line: "Fine.\\tReally.\\nYes."}
    narration: ["  \\t "]
"""


def test_blank_text_and_control_characters_are_errors_at_their_lines(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", TEXT)
    with pytest.raises(SpecError) as e:
        load_project(root)
    found = [str(p) for p in e.value.problems]
    expect = {
        "vars": "control character",  # at the line of `vars:`
        "cast.m1.description": "control character",
        "cast.m2.description": "blank",
        "scenes[0].dialogue[0].line": "blank",
        "scenes[0].dialogue[1].line": "control character",
        "scenes[0].narration[0].line": "blank",
    }
    for field, words in expect.items():
        assert any(f": {field}: " in p and words in p for p in found), (field, found)
    assert not any("dialogue[2]" in p for p in found)  # tabs and newlines are text
    assert len(found) == len(expect), found
