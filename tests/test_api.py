"""The public Python API: storyboard.load(path) -> Project, typed results, progress events."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import write_project

import storyboard
from storyboard.emulator import Emulator, EmulatorConfig, Fault

THREE = """
title: Three
defaults: {duration: 4}
output: {size: 320x180, fps: 10}  # the emulator's --draft clips: nothing to conform
scenes:
  - {id: harbour, prompt: "A harbour at dawn, gulls circling."}
  - {id: boat, prompt: "A small boat leaves the harbour.", continuity: extend}
  - {id: storm, prompt: "A storm over the open sea."}
"""


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(latency=0.1, draft=True)) as e:
        yield e


def test_the_package_exports_only_the_api() -> None:
    assert set(storyboard.__all__) == {
        "__version__",
        "load",
        "init",
        "schema",
        "models",
        "Project",
        "Validation",
        "PlanResult",
        "PlannedScene",
        "PlannedImage",
        "PlannedSound",
        "RenderResult",
        "SceneResult",
        "Status",
        "SceneStatus",
        "TakeInfo",
        "PickResult",
        "ComposeResult",
        "FilmStatus",
        "Uncollected",
        "ModelInfo",
        "Event",
        "Frames",
        "SceneUpdate",
        "Spent",
        "Note",
        "Log",
        "ProgressCallback",
        "StoryboardError",
        "SpecError",
        "TemplateError",
        "PlanError",
        "GenerationError",
        "BudgetError",
        "ComposeError",
        "WriterBusy",
    }
    extra = {n for n in vars(storyboard) if not n.startswith("_")} - {
        *storyboard.__all__,
        "annotations",
    }
    # what else is there are the submodules imported on the way
    assert all(inspect.ismodule(getattr(storyboard, n)) for n in extra), extra


def test_every_public_name_and_method_has_a_docstring() -> None:
    missing = []
    for name in storyboard.__all__:
        obj = getattr(storyboard, name)
        if name.startswith("__") or name in ("Event", "ProgressCallback"):
            continue  # a string, and two type aliases (documented in storyboard.api.events)
        if not inspect.getdoc(obj):
            missing.append(name)
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_") or not (
                    inspect.isfunction(member) or isinstance(member, property)
                ):
                    continue
                if not inspect.getdoc(member):
                    missing.append(f"{name}.{attr}")
    assert missing == []


def test_load_reports_every_problem_of_a_broken_file(in_tmp: Path) -> None:
    write_project(in_tmp / "p", "title: X\nscenes:\n  - {id: a, prompt: 'ok ok', duraton: 4}\n")
    with pytest.raises(storyboard.SpecError) as err:
        storyboard.load("p")
    assert str(err.value).startswith("p/storyboard.yaml:3: scenes[0].duraton:")
    with pytest.raises(storyboard.StoryboardError, match="no such storyboard file"):
        storyboard.load(in_tmp / "nothing-here")


def test_validate_and_plan_spend_nothing_and_write_nothing(tmp_path: Path) -> None:
    p = write_project(tmp_path / "three", THREE)
    project = storyboard.load(p)
    assert project.scenes == ["harbour", "boat", "storm"]
    assert project.title == "Three"
    ok = project.validate()
    assert (ok.scenes, ok.seconds, round(ok.cost, 2)) == (3, 12.0, 1.2)
    plan = project.plan()
    assert [s.scene for s in plan.to_generate] == ["harbour", "boat", "storm"]
    assert plan.scenes[1].mode == "extend" and plan.scenes[1].source == "harbour"
    assert round(plan.cost, 2) == 1.2 and plan.seconds == 12.0 and plan.model == "openai:3@1"
    assert [t["scene"] for t in plan.tasks_json["tasks"]] == ["harbour", "boat", "storm"]
    with pytest.raises(storyboard.BudgetError) as err:
        project.plan(budget=1.0)
    assert str(err.value) == (
        "this render would cost $1.20, over the --budget of $1.00 "
        "(harbour $0.40, boat $0.40, storm $0.40); nothing was spent"
    )
    with pytest.raises(storyboard.PlanError, match="no scene 'harbor'; did you mean 'harbour'"):
        project.plan(retake=["harbor"])
    assert not (p / "build").exists() and not (p / "storyboard.lock").exists()


def test_render_status_takes_pick_compose(tmp_path: Path, emu: Emulator) -> None:
    p = write_project(tmp_path / "three", THREE)
    project = storyboard.load(p, api_key="k", base_url=emu.base_url)
    events: list[storyboard.Event] = []
    result = project.render(progress=events.append)
    assert result.ok and [s.status for s in result.scenes] == ["generated"] * 3
    assert round(result.spent, 2) == 1.2 and result.lock == p / "storyboard.lock"
    assert [s.take for s in result.scenes] == [1, 1, 1]
    assert result.scenes[0].takes[0].path.is_file() and result.scenes[0].takes[0].chosen
    done = [e.scene for e in events if isinstance(e, storyboard.SceneUpdate) and e.state == "done"]
    assert sorted(done) == ["boat", "harbour", "storm"]
    assert round(sum(e.usd for e in events if isinstance(e, storyboard.Spent)), 2) == 1.2
    # on the emulator nothing is spent: each Spent says what it would cost, as the CLI does
    # (hostile helper-42: `spent $0.40` was printed for each placeholder)
    spent = [e for e in events if isinstance(e, storyboard.Spent)]
    assert spent and all(e.placeholder for e in spent)
    assert {str(e) for e in spent} == {"spent $0 (would cost $0.40)"}
    assert str(storyboard.Spent(0.4)) == "spent $0.40"
    assert str(events[0]) == "rendering 3 of 3 scenes ($1.20 planned), 4 at a time"

    again = project.render()
    assert [s.status for s in again.scenes] == ["cached"] * 3 and again.spent == 0

    status = project.status()
    assert [s.stale for s in status.scenes] == [False] * 3 and status.next_cost == 0
    # emulator takes: nothing spent, what they would cost on the real service beside it
    assert status.spent == 0 and round(status.would_cost, 2) == 1.2
    assert status.money == "$0 (would cost $1.20)" and [s.take for s in status.scenes] == [1, 1, 1]

    project.render(retake=["harbour"], keep_downstream=True)
    takes = project.takes("harbour")
    assert [(t.n, t.chosen, t.missing) for t in takes] == [(1, False, False), (2, True, False)]
    picked = project.pick("harbour", 1)
    # boat's take continued from harbour's take 1 (kept downstream): in the cut with it
    assert picked == storyboard.PickResult("harbour", 1, ["boat"], kept=["boat"])
    assert [t.chosen for t in project.takes("harbour")] == [True, False]
    status = project.status()
    # boat's take continued from harbour's take 1: with take 1 back, it fits again
    assert not status.stale and status.scenes[1].action == "up to date"
    with pytest.raises(storyboard.StoryboardError) as err:
        project.pick("harbour", 7)
    assert str(err.value) == "harbour: no take 7 (takes: 1, 2)"

    project.render()
    logs: list[storyboard.Event] = []
    film = project.compose(progress=logs.append)
    assert film.film.is_file() and film.film.parent == p / "build"
    assert film.contact_sheet == p / "build" / "contact-sheet.png"
    assert film.captions is None  # no dialogue
    assert any(str(e).startswith("compose: ") for e in logs)
    assert not film.up_to_date and film.route in ("copy", "audio-only"), film.why
    assert project.status().film == storyboard.FilmStatus(film.film, True, [])
    assert project.compose().up_to_date  # nothing changed: nothing encoded
    project.pick("storm", 1)  # the same take: the film stays up to date
    assert project.status().film.up_to_date
    film.film.unlink()
    assert project.status().film.reasons == ["film missing"]
    assert dataclasses.asdict(film)["film"] == film.film


def test_one_failed_scene_is_a_result_not_an_exception(tmp_path: Path, emu: Emulator) -> None:
    emu.add_fault(Fault(kind="error", prompt_contains="storm", times=5))
    project = storyboard.load(
        write_project(tmp_path / "three", THREE), api_key="k", base_url=emu.base_url
    )
    result = project.render()
    assert [(s.scene, s.status) for s in result.failed] == [("storm", "failed")]
    assert not result.ok and result.scenes[0].status == "generated"
    with pytest.raises(storyboard.GenerationError, match=r"^1 scene\(s\) did not render: storm: "):
        result.raise_for_failures()
    assert project.takes("storm") == []


def test_render_async_runs_inside_a_running_event_loop(tmp_path: Path, emu: Emulator) -> None:
    project = storyboard.load(
        write_project(tmp_path / "three", THREE), api_key="k", base_url=emu.base_url
    )

    async def main() -> storyboard.RenderResult:
        return await project.render_async(jobs=2)

    assert asyncio.run(main()).ok


def test_models_schema_and_init(tmp_path: Path) -> None:
    sora = {m.air: m for m in storyboard.models()}["openai:3@1"]
    assert sora.sizes == ["1280x720", "720x1280"] and sora.price_per_second["1280x720"] == 0.10
    assert storyboard.schema()["title"] == "storyboard.yaml"
    made = storyboard.init(tmp_path / "new-film")
    assert made == tmp_path / "new-film" / "storyboard.yaml"
    assert storyboard.load(made.parent).validate().scenes > 0
    with pytest.raises(storyboard.SpecError, match="already exists"):
        storyboard.init(tmp_path / "new-film")
