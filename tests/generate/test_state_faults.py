"""Build state under concurrency and hostile files: picks, the lock's paths and hashes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import write_project

from storyboard.board.spec import load_project
from storyboard.cli.main import main
from storyboard.emulator import Emulator, EmulatorConfig
from storyboard.generate.backend import BackendOptions, open_client
from storyboard.generate.events import NoProgress
from storyboard.generate.execute import RenderOptions, render
from storyboard.generate.staleness import assess
from storyboard.generate.state import BuildState
from storyboard.plan.compile import compile_project

TWO = """
title: Two
defaults: {duration: 4}
scenes:
  - {id: a, prompt: "Scene A: a kite in the wind."}
  - {id: b, prompt: "Scene B: the kite lands."}
"""


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Any:
    with Emulator(EmulatorConfig(latency=0.1, draft=True)) as e:
        monkeypatch.setenv("RUNWARE_API_KEY", "test-key")
        monkeypatch.setenv("RUNWARE_BASE_URL", e.base_url)
        yield e


def lock(project: Path) -> dict[str, Any]:
    return yaml.safe_load((project / "storyboard.lock").read_text())["scenes"]


def cli_render(project: Path, *extra: str) -> int:
    return main(["render", str(project), "--no-compose", "--quiet", *extra])


def test_a_pick_made_during_a_render_is_not_reverted(emu: Emulator, tmp_path: Path) -> None:
    p = write_project(tmp_path / "p", TWO)
    assert cli_render(p) == 0
    assert cli_render(p, "--retake", "b") == 0
    assert lock(p)["b"]["take"] == 2
    plan = compile_project(load_project(p))
    state = BuildState(p)  # a library user holding state from before the pick
    assessments = assess(plan, state, ["a"])
    assert main(["pick", str(p), "b", "1"]) == 0

    async def go() -> Any:
        async with open_client(BackendOptions.from_env()) as client:
            return await render(plan, state, client, NoProgress(), RenderOptions(), assessments)

    asyncio.run(go())
    state.close()
    assert lock(p)["b"]["take"] == 1  # the pick stands
    assert lock(p)["a"]["take"] == 2  # the render's own work is written
