"""A failure names its node as what it is (hostile helper-47 13: "cast:tom: scene 'cast:tom',
contentModeration: ..." called a cast sheet a scene)."""

from __future__ import annotations

from storyboard.errors import GenerationError


def test_a_failure_names_a_scene_as_a_scene_and_other_nodes_by_their_names() -> None:
    scene = GenerationError("refused", scene="dusk", code="contentModeration")
    sheet = GenerationError("refused", scene="cast:tom", code="contentModeration", status=400)
    assert str(scene) == "scene 'dusk', contentModeration: refused"
    assert str(sheet) == "cast:tom, HTTP 400, contentModeration: refused"
