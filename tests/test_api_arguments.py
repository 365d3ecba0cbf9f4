"""The Python API's arguments of the wrong type are one clear StoryboardError naming the
argument (hostile helper-45: plain TypeError/AttributeError tracebacks), and a scene id given
as a string is one scene, not its letters (`retake="abc"` retook scenes a, b and c)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from helpers import write_project

import storyboard

ABC = """
title: ABC
defaults: {duration: 4}
scenes:
  - {id: a, prompt: "A kite."}
  - {id: b, prompt: "A boat."}
  - {id: c, prompt: "A gull."}
  - {id: abc, prompt: "All three."}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> storyboard.Project:
    monkeypatch.delenv("RUNWARE_API_KEY", raising=False)
    monkeypatch.delenv("RUNWARE_BASE_URL", raising=False)
    return storyboard.load(write_project(tmp_path / "p", ABC))


def test_a_retake_given_as_text_is_one_scene(project: storyboard.Project) -> None:
    assert [s.scene for s in project.plan(retake="abc").scenes if s.generate] == [
        "a",
        "b",
        "c",
        "abc",
    ]  # nothing made yet: all four; the retake named one scene, not three
    with pytest.raises(storyboard.PlanError, match="no scene 'zz'"):
        project.plan(retake="zz")


CALLS: list[tuple[str, Any, str]] = [
    ("plan", {"retake": [1]}, "retake: expected scene ids (text), got 1"),
    ("plan", {"retake": None}, "retake: expected scene ids (text), got None"),
    ("plan", {"budget": "5"}, "budget: expected an amount of dollars (a number), got '5'"),
    ("plan", {"budget": True}, "budget: expected an amount of dollars (a number), got True"),
    ("render", {"jobs": "2"}, "jobs: expected a whole number of 1 or more, got '2'"),
    ("render", {"progress": 5}, "progress: expected a function that takes each event, got 5"),
    ("takes", {"scene": 1}, "scene: expected a scene id (text), got 1"),
    (
        "render",
        {"emulator_latency": "x"},
        "emulator_latency: expected seconds (a number from 0 to 60), got 'x'",
    ),
    (
        "render",
        {"emulator_latency": float("nan")},
        "emulator_latency: expected seconds (a number from 0 to 60), got nan",
    ),
    (
        "render",
        {"emulator_latency": 1e9},
        "emulator_latency: expected seconds (a number from 0 to 60), got 1000000000.0",
    ),
    ("compose", {"cache": 5}, "cache: expected a folder or file path, got 5"),
    ("compose", {"progress": "x"}, "progress: expected a function that takes each event, got 'x'"),
    (
        "pick",
        {"scene": "a", "take": True},
        "take: expected a take number (a whole number), got True",
    ),
    ("pick", {"scene": "a", "take": 1.0}, "take: expected a take number (a whole number), got 1.0"),
]


@pytest.mark.parametrize(("method", "kwargs", "message"), CALLS, ids=[c[2] for c in CALLS])
def test_an_argument_of_the_wrong_type_is_one_clear_error(
    project: storyboard.Project, method: str, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(storyboard.StoryboardError) as e:
        getattr(project, method)(**kwargs)
    assert str(e.value) == message
    assert not (project.root / "build" / "takes").exists()  # nothing was made


@pytest.mark.parametrize("path", [None, 3, ["p"]])
def test_load_and_init_say_what_a_path_is(path: Any) -> None:
    for fn in (storyboard.load, storyboard.init):
        with pytest.raises(storyboard.StoryboardError) as e:
            fn(path)
        assert str(e.value) == f"path: expected a folder or file path, got {path!r}"


def test_render_inside_an_event_loop_points_to_render_async(project: storyboard.Project) -> None:
    async def inside() -> None:
        project.render(draft=True)

    with pytest.raises(storyboard.StoryboardError) as e:
        asyncio.run(inside())
    assert str(e.value) == (
        "render() runs its own event loop: inside a running one (async code, Jupyter), "
        "use `await project.render_async(...)`"
    )


def test_a_render_of_all_variants_names_the_calls_that_exist(
    project: storyboard.Project,
) -> None:
    with pytest.raises(storyboard.StoryboardError) as e:
        project.render(variant="all")
    assert "render_variants" not in str(e.value)
    assert "films()" in str(e.value) and "compose_variants()" in str(e.value)
    assert hasattr(project, "films") and hasattr(project, "compose_variants")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"api_key": 5}, "api_key: expected text (the Runware API key), got 5"),
        ({"base_url": 5}, "base_url: expected text (a URL), got 5"),
        (
            {"base_url": b"http://127.0.0.1:1/v1"},
            "base_url: expected text (a URL), got b'http://127.0.0.1:1/v1'",
        ),
    ],
)
def test_load_checks_its_key_and_endpoint(
    tmp_path: Path, kwargs: dict[str, Any], message: str
) -> None:
    """helper-46 F8: a key or endpoint of the wrong type failed deep in a render."""
    p = write_project(tmp_path / "p", ABC)
    with pytest.raises(storyboard.StoryboardError) as e:
        storyboard.load(p, **kwargs)
    assert str(e.value) == message


def test_a_numpy_whole_number_is_a_whole_number(project: storyboard.Project) -> None:
    """helper-46 F8: `take: expected a take number (a whole number), got np.int64(1)`."""
    np = pytest.importorskip("numpy")
    with pytest.raises(storyboard.StoryboardError, match="no take"):
        project.pick("a", np.int64(1))
    assert project.plan(budget=np.float64(5.0)).cost >= 0
