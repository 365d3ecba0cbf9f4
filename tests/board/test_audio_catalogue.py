"""The audio catalogue (issue 18), cross-checked against Runware's SDK registry."""

from __future__ import annotations

from typing import Any

import pytest

from storyboard.board.audio_models import KINDS, audio_catalogue, default_model

task_map = pytest.importorskip("runware.types.task_map")
PROFILES = list(audio_catalogue().values())
TOP = {
    "taskType",
    "taskUUID",
    "model",
    "outputType",
    "outputFormat",
    "includeCost",
    "numberResults",
    "deliveryMethod",
    "uploadEndpoint",
    "webhookURL",
    "ttl",
    "outputQuality",
}


def sdk_fields(air: str) -> set[str]:
    for name in dir(task_map):
        cls = getattr(task_map, name)
        if name.endswith("Params") and f"curated model `{air}`" in (cls.__doc__ or ""):
            return set(cls.__annotations__)
    raise AssertionError(f"{air}: no Params type in the SDK")


@pytest.mark.parametrize("p", PROFILES, ids=[p.air for p in PROFILES])
def test_every_audio_model_is_in_the_sdk_with_its_task_type_and_fields(p: Any) -> None:
    entry = task_map.models.get(p.air)
    assert entry is not None and entry.task_type == p.task_type
    assert p.params <= sdk_fields(p.air) - TOP, p.params - sdk_fields(p.air)


@pytest.mark.parametrize("p", PROFILES, ids=[p.air for p in PROFILES])
def test_every_fact_has_a_source_and_missing_facts_are_marked(p: Any) -> None:
    assert p.kind in KINDS
    assert {"status", "params", "price"} <= set(p.sources)
    if not p.priced:
        assert "price" in p.unverified and p.cost(chars=1000, seconds=10) == 0.0
    for fact in p.unverified:
        assert fact in p.sources, f"{p.air}: unverified {fact} has no note"


def test_the_prices_the_issue_names() -> None:
    cat = audio_catalogue()
    assert cat["xai:tts@0"].cost(chars=1000) == pytest.approx(0.0042)
    assert cat["minimax:music@2.6"].cost() == pytest.approx(0.15)
    assert cat["sync:lipsync-2@1"].cost(seconds=10) == pytest.approx(0.44)
    assert default_model("speech").air == "xai:tts@0"  # type: ignore[union-attr]
    assert default_model("lipsync").air == "sync:lipsync-2@1"  # type: ignore[union-attr]


def test_listed_voices_are_matched_without_case_and_by_language() -> None:
    xai, inworld = audio_catalogue()["xai:tts@0"], audio_catalogue()["inworld:tts@2"]
    assert xai.voice_listed("eve") and xai.canonical_voice("eve") == "Eve"
    assert not xai.voice_listed("Sarah")
    assert inworld.voice_listed("Sarah", "en") and not inworld.voice_listed("Sarah", "ja")
    assert inworld.voice_listed("Asuka", "ja")
