"""Scene ids share one namespace with the other tasks of the film (hostile finding H14: a scene
named `music` was never generated, its take was the music track's, and compose died with a
raw ffmpeg error in a state no command got out of)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_project

from storyboard.board.spec import load_project
from storyboard.errors import SpecError


@pytest.mark.parametrize("name", ["music", "cast", "board", "line", "sfx", "lipsync"])
def test_a_scene_id_that_names_another_kind_of_task_is_refused(tmp_path: Path, name: str) -> None:
    text = f"""
title: T
defaults: {{duration: 4}}
scenes:
  - id: {name}
    prompt: "a band plays in a small hall"
  - id: ok
    prompt: "the audience claps"
"""
    with pytest.raises(SpecError) as e:
        load_project(write_project(tmp_path / "p", text))
    found = [str(p) for p in e.value.problems]
    assert len(found) == 1 and f"scenes[0].id: '{name}' names " in found[0], found
