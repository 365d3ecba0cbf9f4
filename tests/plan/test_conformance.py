"""Conformance with the SDK: every live model compiles, its request fits the SDK's typed
parameters, and the emulator accepts it; every overlay "must not" rule is refused by both."""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path
from typing import Any

import pytest
from helpers import png_bytes, write_project

from storyboard.board.models import PROFILES, ModelProfile
from storyboard.board.spec import load_project
from storyboard.emulator.rules import ApiError, validate_video
from storyboard.plan.compile import compile_project
from storyboard.plan.request import check_request

task_map = pytest.importorskip("runware.types.task_map")

LIVE = [p for p in PROFILES.values() if p.live]
NOT_SENT = {"taskType", "taskUUID", "model"}


def sdk_fields(air: str) -> tuple[set[str], set[str]]:
    """(every field, the required ones) of the model's Params in the installed SDK."""
    for name in dir(task_map):
        cls = getattr(task_map, name)
        doc = getattr(cls, "__doc__", None) or ""
        if name.endswith("Params") and f"curated model `{air}`" in doc:
            ann = {k: v.__forward_arg__ for k, v in cls.__annotations__.items()}
            req = {k for k, v in ann.items() if not v.startswith("NotRequired[")}
            return set(ann), req
    # a union of variant classes (vidu:4@2): the variants' fields, plus what every class has
    alias = next(
        getattr(task_map, n)
        for n in dir(task_map)
        if n.endswith("Params")
        and air.split(":")[0] in n.lower()
        and "|" in str(getattr(task_map, n, ""))
    )
    fields: set[str] = set()
    for member in alias.__args__:
        fields |= set(member.__annotations__)
    return fields, set()


def one_scene(p: ModelProfile) -> str:
    w, h = p.sizes[0] if p.sizes else (1280, 720)
    if p.duration_set:
        d = p.duration_set[0]
    elif p.duration_range:
        d = p.duration_range[0]
    else:
        d = 5
    scene = f"{{id: a, prompt: A lighthouse at dusk., duration: {d:g}"
    if p.frames.required or "inputs" in p.required:
        scene += ", first_frame: first.png"
    return f"title: T\nmodel: {p.air}\nsize: {w}x{h}\nscenes:\n  - {scene}}}\n"


@pytest.mark.parametrize("air", [p.air for p in LIVE])
def test_every_live_model_compiles_to_what_the_sdk_types_and_the_emulator_accepts(
    tmp_path: Path, air: str
) -> None:
    profile = PROFILES[air]
    write_project(tmp_path / "p", one_scene(profile), {"first.png": png_bytes()})
    (task,) = compile_project(load_project(tmp_path / "p")).tasks
    fields, required = sdk_fields(air)
    if profile.status_note.startswith("the SDK's Params"):  # no fields: the platform's assumed
        fields |= set(profile.params)
    assert set(task.request) <= fields, (air, set(task.request) - fields)
    assert required <= set(task.request), (air, required - set(task.request))
    validate_video(copy.deepcopy(task.request), lambda _: None)  # the emulator accepts it


def test_the_live_models_are_the_registry_s() -> None:
    video = {a for a, e in task_map.models.items() if e.task_type == "videoInference"}
    assert {p.air for p in LIVE} == video and len(video) >= 90


BASE: dict[str, dict[str, Any]] = {  # a valid request per model, broken by each case below
    "google:3@3": {"positivePrompt": "x" * 10, "duration": 4, "width": 1280, "height": 720},
    "klingai:kling-video@3-pro": {"positivePrompt": "x" * 10, "duration": 5, "width": 1920,
                                  "height": 1080},
    "alibaba:wan@2.6": {"positivePrompt": "x" * 10, "duration": 5, "resolution": "720p"},
    "bytedance:seedance@2.5": {"positivePrompt": "x" * 10, "duration": 5, "resolution": "720p"},
    "bfl:flux@3-video": {"positivePrompt": "x" * 10, "duration": 5, "resolution": "720p"},
    "klingai:kling@o1": {"positivePrompt": "x" * 10, "duration": 5, "width": 1920,
                         "height": 1080},
    "klingai:kling@o1-standard": {"positivePrompt": "x" * 10, "duration": 5, "width": 1280,
                                  "height": 720},
}  # fmt: skip
FRAME = {"frameImages": [{"image": "https://h/a.png", "frame": "first"}]}
NO_SIZE = {"width": None, "height": None}
# rule id -> (model, what is added to the model's valid request to break exactly that rule)
RULE_CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "veo31fast-frames-xor-size": ("google:3@3", {"inputs": FRAME}),
    "veo31fast-video-no-seed-size": ("google:3@3", {"inputs": {"video": "v"}, "seed": 3,
                                                    "width": None, "height": None, "duration": 7}),
    "kling3pro-frames-xor-size": ("klingai:kling-video@3-pro", {"inputs": FRAME}),
    "kling3pro-elements-need-frames": ("klingai:kling-video@3-pro",
                                       {"inputs": {"elements": [{"id": "e"}]}}),
    "kling3pro-reference-videos-need-provider-settings": (
        "klingai:kling-video@3-pro", {"inputs": {"referenceVideos": ["https://h/v.mp4"]}}),
    "kling3pro-provider-settings-need-reference-images": (
        "klingai:kling-video@3-pro", {"providerSettings": {"klingai": {}}}),
    "wan26-frames-not-with-reference-videos": (
        "alibaba:wan@2.6", {"inputs": {**FRAME, "referenceVideos": ["https://h/v.mp4"]}}),
    "seedance25-frames-not-with-references": (
        "bytedance:seedance@2.5", {"inputs": {**FRAME, "referenceImages": ["https://h/r.png"]}}),
    "seedance25-video-no-size": ("bytedance:seedance@2.5",
                                 {"inputs": {"video": "v"}, "resolution": None, "width": 1280,
                                  "height": 720, "settings": {"operation": "extend"}}),
    "flux3-frames-not-with-video": ("bfl:flux@3-video", {"inputs": {**FRAME, "video": "v"}}),
    "kling-o1-frames-xor-references": ("klingai:kling@o1", {
        "inputs": {**FRAME, "referenceImages": ["https://h/r"]}, **NO_SIZE}),
    "kling-o1-frames-xor-size": ("klingai:kling@o1", {"inputs": FRAME}),
    "kling-o1-frames-duration": ("klingai:kling@o1", {"inputs": FRAME, "duration": 7,
                                                      **NO_SIZE}),
    "kling-o1-references-duration": ("klingai:kling@o1", {
        "inputs": {"referenceImages": ["https://h/r"]}, "duration": 12, **NO_SIZE}),
    "kling-o1-standard-frames-xor-references": ("klingai:kling@o1-standard", {
        "inputs": {**FRAME, "referenceImages": ["https://h/r"]}, **NO_SIZE}),
    "kling-o1-standard-frames-xor-size": ("klingai:kling@o1-standard", {"inputs": FRAME}),
    "kling-o1-standard-frames-duration": ("klingai:kling@o1-standard", {
        "inputs": FRAME, "duration": 7, **NO_SIZE}),
    "kling-o1-standard-references-duration": ("klingai:kling@o1-standard", {
        "inputs": {"referenceImages": ["https://h/r"]}, "duration": 2, **NO_SIZE}),
}  # fmt: skip


def request(model: str, over: dict[str, Any]) -> dict[str, Any]:
    t: dict[str, Any] = {
        "taskType": "videoInference",
        "taskUUID": "0" * 8 + "-0000-4000-8000-" + "0" * 12,
        "model": model,
        "outputFormat": "MP4",
        **BASE[model],
    }
    t.update(over)
    return {k: v for k, v in t.items() if v is not None}


def test_every_must_not_rule_has_a_case() -> None:
    rules = {r["id"] for p in PROFILES.values() for r in p.rules}
    assert rules and rules == set(RULE_CASES)


@pytest.mark.parametrize("model", sorted(BASE))
def test_the_base_requests_are_valid(model: str) -> None:
    problems: list[str] = []
    check_request(request(model, {}), PROFILES[model], lambda f, m: problems.append(m))
    assert problems == []
    validate_video(request(model, {}), lambda _: (1280, 720))


@pytest.mark.parametrize("rule", sorted(RULE_CASES))
def test_each_must_not_rule_is_refused_by_validate_and_by_the_emulator(rule: str) -> None:
    model, over = RULE_CASES[rule]
    body = request(model, over)
    problems: list[str] = []
    check_request(body, PROFILES[model], lambda f, m: problems.append(m))
    assert any(f"[{rule}]" in m for m in problems), problems
    with pytest.raises(ApiError) as e:
        validate_video(body, lambda _: (1280, 720))
    assert f"[{rule}]" in e.value.message, e.value.message


def write(tmp: Path, text: str) -> Path:
    files = {"first.png": png_bytes(), "ref.png": png_bytes(), "v.mp4": b"\0" * 64}
    return write_project(tmp / "p", textwrap.dedent(text), files)


@pytest.mark.parametrize(
    ("rule", "board"),
    [
        (
            "veo31fast-video-no-seed-size",
            """
            title: T
            model: google:3@3
            size: 1280x720
            scenes:
              - {id: a, prompt: A lighthouse at dusk., duration: 4}
              - {id: b, prompt: The lamp turns., duration: 7, continuity: extend, seed: 3}
        """,
        ),
        (
            "wan26-frames-not-with-reference-videos",
            """
            title: T
            model: alibaba:wan@2.6
            size: 1280x720
            scenes:
              - {id: a, prompt: A lighthouse., duration: 5, first_frame: first.png,
                 references: {videos: [v.mp4]}}
        """,
        ),
        (
            "kling-o1-frames-duration",
            """
            title: T
            model: klingai:kling@o1
            scenes:
              - {id: a, prompt: A lighthouse., duration: 7, first_frame: first.png}
        """,
        ),
        (
            "seedance25-frames-not-with-references",
            """
            title: T
            model: bytedance:seedance@2.5
            size: 1280x720
            scenes:
              - {id: a, prompt: A lighthouse., duration: 5, first_frame: first.png,
                 references: {images: [ref.png]}}
        """,
        ),
    ],
    ids=lambda v: v if not v.startswith("\n") else "",
)
def test_a_storyboard_breaking_a_rule_is_an_error_at_its_line(
    tmp_path: Path, rule: str, board: str
) -> None:
    from storyboard.errors import PlanError

    write(tmp_path, board)
    with pytest.raises(PlanError) as e:
        compile_project(load_project(tmp_path / "p"))
    text = str(e.value)
    assert f"[{rule}]" in text and "storyboard.yaml:" in text, text
