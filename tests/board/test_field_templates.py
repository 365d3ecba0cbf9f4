"""Template marks outside `prompt:` never reach the model as written (hostile finding H11):
a scene's shot fields (`subject`, `action`, ...) are templates like its prompt, and a cast
description, which is plain text, may not hold one."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_project

import storyboard
from storyboard.board.spec import load_project
from storyboard.errors import SpecError

FIELDS = """
title: T
vars: {where: the spiral stair}
cast: {wren: {description: "Wren, old keeper"}}
defaults: {duration: 4, template: shot.j2}
scenes:
  - id: a
    cast: [wren]
    subject: "{{ cast.wren }} climbs {{ where }}"
    action: "she stops at the {{ 'top' }}"
"""


def test_shot_fields_are_rendered_like_the_prompt(tmp_path: Path) -> None:
    plan = storyboard.load(write_project(tmp_path / "p", FIELDS))._compiled()
    prompt = plan.node("a").request["positivePrompt"]
    assert prompt.startswith("Wren, old keeper climbs the spiral stair."), prompt
    assert "She stops at the top." in prompt
    assert "{{" not in prompt and "{{" not in plan.node("cast:wren").request["positivePrompt"]


def test_a_template_in_a_cast_description_is_an_error_at_its_line(tmp_path: Path) -> None:
    text = FIELDS.replace('"Wren, old keeper"', '"{{ cast.wren }} {{ 7*7 }}"')
    with pytest.raises(SpecError) as e:
        load_project(write_project(tmp_path / "p", text))
    found = [str(p) for p in e.value.problems]
    assert len(found) == 1 and ":3: cast.wren.description: " in found[0], found
    assert "plain text" in found[0]


@pytest.mark.parametrize(
    "field, broken, line",
    [("subject", "{{ cast.tom }} climbs", 8), ("action", "she {{ stops", 9)],
)
def test_a_problem_in_a_shot_field_is_at_that_field_s_line(
    tmp_path: Path, field: str, broken: str, line: int
) -> None:
    """Hostile helper-30: `subject: "{{ cast.tom }} walks"` was reported at the scene's
    `- id:` line as `scenes[0].prompt`."""
    from storyboard.errors import StoryboardError

    text = FIELDS.replace(
        '"{{ cast.wren }} climbs {{ where }}"'
        if field == "subject"
        else "\"she stops at the {{ 'top' }}\"",
        f'"{broken}"',
    )
    with pytest.raises(StoryboardError) as e:
        storyboard.load(write_project(tmp_path / "p", text))._compiled()
    shown = str(e.value)
    assert f"storyboard.yaml:{line}: scenes[0].{field}: scene 'a': " in shown, shown
