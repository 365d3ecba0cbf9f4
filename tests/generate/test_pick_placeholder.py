"""Picking a take the next render will not use (hostile helper-47 1: paid twice).

A --draft take picked back into a full film, or the emulator's placeholder picked into a film
made with a key: a render does not cut either (draft and placeholder takes are stale for it).
It used to buy a new take although the scene already had a current one of the same content.
Now it puts that take back, for nothing, and `pick` says so instead of "it stays in the cut".
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_project

import storyboard

ONE = """
title: One
defaults: {duration: 4}
scenes:
  - {id: a, prompt: "Scene A: a kite in the wind."}
"""


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNWARE_API_KEY", raising=False)
    monkeypatch.delenv("RUNWARE_BASE_URL", raising=False)


def test_a_picked_draft_take_gives_way_to_the_full_take_already_made(
    no_key: None, tmp_path: Path
) -> None:
    p = write_project(tmp_path / "p", ONE)
    project = storyboard.load(p)
    assert project.render(draft=True, emulator_latency=0.05).ok
    assert project.render(emulator_latency=0.05).ok  # take 2: full
    picked = project.pick("a", 1)
    said = " ".join(picked.warnings)
    assert "stays in the cut" not in said, said
    assert "take 1 was made as a --draft" in said and "puts take 2 back" in said, said
    again = project.render(emulator_latency=0.05)
    assert again.ok
    (scene,) = again.scenes
    assert scene.status == "cached" and [t.n for t in scene.takes] == [2], scene
    assert [t.n for t in project.takes("a")] == [1, 2]  # nothing bought
    # a --draft render keeps the pick
    draft = project.render(draft=True, emulator_latency=0.05)
    assert [t.n for t in project.takes("a")] == [1, 2], draft
