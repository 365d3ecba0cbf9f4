"""The model catalogue, cross-checked against Runware's own SDK registry (a dev dependency)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO

from storyboard.board.models import COMMON_PARAMS, PROFILES, SOURCED, catalogue
from storyboard.cli.main import main

task_map = pytest.importorskip("runware.types.task_map")

LIVE = [p for p in PROFILES.values() if p.live]
REQUIRED = {
    "openai:3@1",  # Sora 2
    "openai:3@2",  # Sora 2 Pro
    "google:3@3",  # Veo 3.1 Fast
    "bytedance:seedance@2.5",
    "klingai:kling-video@3-pro",
    "alibaba:wan@2.6",
    "alibaba:wan@2.6-flash",
    "bfl:flux@3-video",  # a live model of the reference that extends a prior clip
}


def sdk_params(air: str) -> dict[str, str]:
    """The SDK's parameter annotations (as text) of one model's ``...Params`` TypedDict."""
    for name in dir(task_map):
        cls = getattr(task_map, name)
        doc = getattr(cls, "__doc__", None) or ""
        if name.endswith("Params") and f"curated model `{air}`" in doc:
            return {k: v.__forward_arg__ for k, v in cls.__annotations__.items()}
    raise AssertionError(f"{air}: no Params type in the SDK")


def sdk_literal(annotation: str) -> list[Any] | None:
    m = re.search(r"Literal\[([^\]]*)\]", annotation)
    return list(ast.literal_eval(f"[{m.group(1)}]")) if m else None


def test_the_catalogue_covers_the_models_the_issue_names() -> None:
    assert REQUIRED <= set(PROFILES)
    assert list(PROFILES.values()) == sorted(PROFILES.values(), key=lambda p: not p.live)


@pytest.mark.parametrize("profile", LIVE, ids=[p.air for p in LIVE])
def test_every_live_model_is_in_the_sdk_registry(profile: Any) -> None:
    entry = task_map.models.get(profile.air)
    assert entry is not None, f"{profile.air} is marked live but the SDK does not list it"
    assert entry.task_type == "videoInference"


@pytest.mark.parametrize("profile", LIVE, ids=[p.air for p in LIVE])
def test_durations_and_fields_agree_with_the_sdk(profile: Any) -> None:
    params = sdk_params(profile.air)
    listed = sdk_literal(params.get("duration", ""))
    if listed is not None:  # the SDK gives the exact set: it must be ours
        assert profile.duration_set is not None
        assert sorted(profile.duration_set) == sorted(listed), profile.air
    else:
        assert "int" in params["duration"] or "float" in params["duration"]
    # the fields beyond the common ones are exactly the SDK's
    extra = set(params) - COMMON_PARAMS - {"routing"}
    assert set(profile.params) == extra, profile.air
    res = sdk_literal(params.get("resolution", ""))
    if res is not None and "resolution" in profile.params:
        assert set(profile.tiers) <= set(res), profile.air


def test_models_gone_from_the_sdk_are_not_live() -> None:
    for p in PROFILES.values():
        if p.air not in task_map.models:
            assert not p.live, p.air
    sora = PROFILES["openai:3@1"]
    assert sora.status == "deprecated" and sora.deactivated == "2026-09-24"
    assert sora.deactivated_by() and not PROFILES["google:3@3"].deactivated_by()


def test_every_fact_has_a_source() -> None:
    raw = json.loads(
        (REPO / "storyboard" / "board" / "catalogue" / "models.json").read_text("utf-8")
    )
    for entry in raw["models"]:
        missing = [f for f in SOURCED if not entry["sources"].get(f)]
        assert not missing, (entry["id"], missing)
        assert set(entry) >= set(SOURCED) - {"status"} | {"id", "name", "status"}
    assert catalogue() is catalogue()  # loaded once


def test_sora_2_stays_exactly_as_its_page_says() -> None:
    p = PROFILES["openai:3@1"]
    assert p.sizes == ((1280, 720), (720, 1280))
    assert p.duration_set == (4, 8, 12, 16, 20)
    assert p.prompt_chars == (2, 6000) and p.number_results == (1, 4)
    assert p.price(1280, 720) == 0.10
    assert p.extend is not None and p.extend.input == "videoId"
    assert p.frames.first and not p.frames.last
    assert p.continuity == {"cut", "extend", "last_frame"}


def test_models_json_prints_the_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [m["id"] for m in data] == list(PROFILES)
    for m in data:
        assert {"id", "name", "status", "durations", "sizes", "continuity", "sources"} <= set(m)
    seedance = next(m for m in data if m["id"] == "bytedance:seedance@2.5")
    assert seedance["continuity"] == ["cut", "end_frame", "extend", "last_frame"]
    assert seedance["durations"] == {"range": [4, 30]}


def test_models_lists_live_first_with_price_and_continuity(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line for line in lines[2:] if re.match(r"^\S+:\S", line)]
    status = [("live" if " live " in r else "deprecated") for r in rows]
    assert status == sorted(status, key=lambda s: s != "live")
    wan = next(r for r in rows if r.startswith("alibaba:wan@2.6 "))
    assert "$0.10/s 720p, $0.15/s 1080p" in wan and wan.rstrip().endswith("last_frame")
    sora = next(r for r in rows if r.startswith("openai:3@1 "))
    assert "deprecated 2026-09-24" in sora and "extend, last_frame" in sora


def test_readme_models_table_matches_the_catalogue() -> None:
    from storyboard.board.models import readme_table

    text = (REPO / "README.md").read_text("utf-8")
    start = text.index("<!-- models-table:start -->")
    end = text.index("<!-- models-table:end -->")
    assert text[start:end].split("-->", 1)[1].strip() == readme_table().strip(), (
        "README's models table is out of date: paste `python -c 'from storyboard.board.models "
        "import readme_table; print(readme_table())'`"
    )


def test_catalogue_json_is_shipped_as_package_data() -> None:
    pyproject = (REPO / "pyproject.toml").read_text("utf-8")
    assert '"catalogue/*.json"' in pyproject
    assert Path(REPO / "storyboard" / "board" / "catalogue" / "models.json").is_file()
