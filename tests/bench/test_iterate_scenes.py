"""bench/iterate.py works for any number of scenes (it once edited "Shot 6" by name)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from helpers import REPO


def iterate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_iterate", REPO / "bench" / "iterate.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_iterate", mod)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("scenes", [1, 2, 5, 6, 12])
def test_the_prompt_edit_finds_its_scene_in_a_film_of_any_length(
    tmp_path: Path, scenes: int
) -> None:
    bench = iterate()
    p = bench.make_project(tmp_path, scenes)
    k = bench.edit_one_prompt(p, scenes)
    assert k == (scenes + 1) // 2
    prompts = [s["prompt"] for s in yaml.safe_load((p / "storyboard.yaml").read_text())["scenes"]]
    assert len(prompts) == scenes
    assert [i for i, t in enumerate(prompts, 1) if "empty harbour" in t] == [k]
