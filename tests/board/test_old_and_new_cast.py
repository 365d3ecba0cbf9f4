"""The two ways of naming a scene's characters hold together (hostile finding H19): the
starter's `vars: {cast: [ada]}` (described in `vars.characters`) kept working only until the
storyboard got a top-level `cast:`, then Ada silently left the prompt."""

from __future__ import annotations

from pathlib import Path

from helpers import write_project

import storyboard

BOARD = """
title: Both
vars:
  characters:
    ada: A wiry woman in her sixties with cropped grey hair and a yellow raincoat
cast:
  wren: {description: Wren the keeper}
defaults: {duration: 4, template: shot.j2}
scenes:
  - id: a
    subject: Ada walks along the harbour wall
    vars: {cast: [ada]}
  - id: b
    subject: Ada meets Wren on the quay
    cast: [wren]
    vars: {cast: [ada]}
"""


def test_vars_cast_still_names_its_characters_beside_a_top_level_cast(tmp_path: Path) -> None:
    plan = storyboard.load(write_project(tmp_path / "p", BOARD))._compiled()
    a = plan.node("a").request["positivePrompt"]
    b = plan.node("b").request["positivePrompt"]
    assert "A wiry woman in her sixties" in a, a
    assert "A wiry woman in her sixties" in b and "Wren the keeper" in b, b
