"""The model catalogue, cross-checked against Runware's own SDK registry (a dev dependency)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO

from storyboard.board import sdkregistry
from storyboard.board.models import PROFILES, SOURCED, catalogue
from storyboard.cli.main import main

task_map = pytest.importorskip("runware.types.task_map")

LIVE = [p for p in PROFILES.values() if p.live]
VIDEO = sorted(air for air, e in task_map.models.items() if e.task_type == "videoInference")
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


def test_the_generated_registry_is_current_with_the_installed_sdk() -> None:
    on_disk = (REPO / "storyboard" / "board" / "catalogue" / "registry.json").read_text("utf-8")
    assert on_disk == sdkregistry.dumps(sdkregistry.generate()), (
        "catalogue/registry.json is stale: run `python -m storyboard.board.sdkregistry`"
    )
    assert sdkregistry.main(["--check"]) == 0


def test_the_staleness_check_notices_a_new_model(tmp_path: Path) -> None:
    text = sdkregistry.task_map_path().read_text("utf-8")
    entry = '    "alibaba:wan@2.6": ModelEntry(task_type="videoInference", id="alibaba-wan2-6"),\n'
    assert entry in text
    grown = text.replace(entry, entry + entry.replace("wan@2.6", "wan@9.9"))
    doc = sdkregistry.build(grown, "1.8.0")
    assert "alibaba:wan@9.9" in doc["models"] and doc != sdkregistry.generate()
    out = tmp_path / "registry.json"
    out.write_text(sdkregistry.dumps(doc), "utf-8")
    assert sdkregistry.main(["--check", "--out", str(out)]) == 1


def test_the_catalogue_covers_every_video_model_of_the_registry() -> None:
    assert len(VIDEO) >= 90
    assert set(VIDEO) <= set(PROFILES)
    assert REQUIRED <= set(PROFILES)
    assert list(PROFILES.values()) == sorted(PROFILES.values(), key=lambda p: not p.live)


@pytest.mark.parametrize("profile", LIVE, ids=[p.air for p in LIVE])
def test_every_live_model_is_in_the_sdk_registry(profile: Any) -> None:
    entry = task_map.models.get(profile.air)
    assert entry is not None, f"{profile.air} is marked live but the SDK does not list it"
    assert entry.task_type == "videoInference"


@pytest.mark.parametrize("air", VIDEO)
def test_durations_and_fields_agree_with_the_sdk(air: str) -> None:
    profile = PROFILES[air]
    params = sdk_params(air) if not profile.status_note.startswith("the SDK's Params") else {}
    listed = sdk_literal(params.get("duration", ""))
    if listed is not None:  # the SDK gives the exact set: it must be ours
        assert profile.duration_set is not None
        assert sorted(profile.duration_set) == sorted(listed), profile.air
    elif "duration" not in params:
        assert profile.duration_kind == "none" or profile.overlay, air
    # the fields are exactly the SDK's, and so are the required ones
    if params:
        assert set(profile.params) == set(params), air
        required = {k for k, v in params.items() if not v.startswith("NotRequired[")}
        assert set(profile.required) == required - {"taskType", "taskUUID", "model"}, air
    res = sdk_literal(params.get("resolution", ""))
    if res is not None and profile.tiers:
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
    for entry in raw["models"]:  # every fact an overlay entry gives has its source
        missing = [f for f in SOURCED if f in entry and not entry["sources"].get(f)]
        assert not missing, (entry["id"], missing)
        assert {"id", "name", "status", "sources"} <= set(entry)
        for rule in entry.get("rules", ()):
            assert rule.get("id") and rule.get("source"), (entry["id"], rule)
        for kind, ref in (entry.get("references") or {}).items():
            assert ref.get("field") and ref.get("source"), (entry["id"], kind)
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
    live = {m["id"] for m in data if m["status"] == "live"}
    assert len(live) >= 90 and live <= set(task_map.models)
    assert set(VIDEO) <= live
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
    from storyboard.board.modeltable import readme_table

    text = (REPO / "README.md").read_text("utf-8")
    start = text.index("<!-- models-table:start -->")
    end = text.index("<!-- models-table:end -->")
    assert text[start:end].split("-->", 1)[1].strip() == readme_table().strip(), (
        "README's models table is out of date: paste `python -c 'from storyboard.board.modeltable "
        "import readme_table; print(readme_table())'`"
    )


def test_catalogue_json_is_shipped_as_package_data() -> None:
    pyproject = (REPO / "pyproject.toml").read_text("utf-8")
    assert '"catalogue/*.json"' in pyproject
    assert Path(REPO / "storyboard" / "board" / "catalogue" / "models.json").is_file()
