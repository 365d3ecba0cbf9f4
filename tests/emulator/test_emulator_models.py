"""The emulator follows the catalogue: per-model fields, frames, extensions, prices, errors."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from helpers import png_bytes, write_project

from storyboard.cli.main import main
from storyboard.emulator import Emulator, EmulatorConfig


@pytest.fixture
def emu() -> Any:
    with Emulator(EmulatorConfig(latency=0.05, draft=True, identify=False)) as e:
        yield e


def post(emu: Emulator, tasks: list[dict[str, Any]], key: str | None = "k") -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.post(emu.base_url, json=tasks, headers=headers, timeout=10)


def video(model: str, **over: Any) -> dict[str, Any]:
    t: dict[str, Any] = {
        "taskType": "videoInference",
        "taskUUID": str(uuid.uuid4()),
        "model": model,
        "positivePrompt": "A red kite over a grey sea.",
        "width": 1280,
        "height": 720,
        "duration": 5,
        "includeCost": True,
    }
    t.update(over)
    return {k: v for k, v in t.items() if v is not None}


def error(r: httpx.Response) -> dict[str, Any]:
    return dict(r.json()["errors"][0])


@pytest.mark.parametrize(
    ("model", "field", "value"),
    [
        ("alibaba:wan@2.6", "seed", 7),
        ("alibaba:wan@2.6", "negativePrompt", "blur"),
        ("alibaba:wan@2.6", "providerSettings", {"alibaba": {}}),
        ("google:3@3", "seed", 7),
        ("bytedance:seedance@2.5", "settings", {"audio": False}),
        ("lightricks:ltx@2.3", "seed", 7),
    ],
)
def test_fields_a_model_accepts_are_accepted(
    emu: Emulator, model: str, field: str, value: Any
) -> None:
    size = {"width": 1920, "height": 1080, "duration": 6} if "ltx" in model else {}
    if model == "google:3@3":
        size = {"duration": 4}
    r = post(emu, [video(model, **size, **{field: value})])
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("model", "over", "code", "parameter"),
    [
        ("openai:3@1", {"seed": 7, "duration": 4}, "unknownParameter", "seed"),
        ("klingai:kling-video@3-pro", {"seed": 1, "width": 1920, "height": 1080},
         "unknownParameter", "seed"),
        ("alibaba:wan@2.6", {"duration": 6}, "invalidDuration", "duration"),
        ("alibaba:wan@2.6", {"resolution": "720p"}, "incompatibleParameters", "resolution"),
        ("bytedance:seedance@2.5", {"duration": 31}, "invalidDuration", "duration"),
        ("bytedance:seedance@2.5", {"settings": {"operation": "extend"}}, "missingVideo",
         "settings.operation"),
        ("alibaba:wan@2.6-flash", {}, "missingParameter", "inputs"),  # the SDK requires inputs
        ("google:3@3", {"width": 1920, "height": 1088, "duration": 4}, "invalidDimensions",
         "width"),
    ],
    ids=["sora-seed", "kling-seed", "wan-duration", "wan-res-and-size", "seedance-31s",
         "operation-without-video", "flash-needs-image", "veo-size"],
)  # fmt: skip
def test_model_rules_are_enforced(
    emu: Emulator, model: str, over: dict[str, Any], code: str, parameter: str
) -> None:
    r = post(emu, [video(model, **over)])
    assert r.status_code == 400
    assert error(r)["code"] == code and error(r)["parameter"] == parameter


def test_first_and_last_frame_by_resolution_and_price_follow_the_catalogue(emu: Emulator) -> None:
    img = base64.b64encode(png_bytes(1280, 720)).decode()
    frames = [{"image": img, "frame": "first"}, {"image": img, "frame": "last"}]
    t = video("google:3@3", width=None, height=None, resolution="720p", duration=4,
              inputs={"frameImages": frames})  # fmt: skip
    assert post(emu, [t]).status_code == 200
    assert emu.ledger[-1]["cost"] == pytest.approx(0.60)  # $0.15/s
    only_last = video("google:3@3", inputs={"frameImages": frames[1:]}, width=None, height=None,
                      resolution="720p", duration=4)  # fmt: skip
    assert error(post(emu, [only_last]))["message"] == (
        "at least one frame image must not be the last frame"
    )
    sora = video("openai:3@1", duration=4, width=None, height=None,
                 inputs={"frameImages": frames})  # fmt: skip
    assert error(post(emu, [sora]))["code"] == "invalidFrameImages"


def test_401_body_matches_the_real_one() -> None:
    with Emulator(EmulatorConfig(latency=0.05, api_key="right")) as emu:
        r = post(emu, [video("alibaba:wan@2.6")], key="wrong")
    assert r.status_code == 401
    assert r.json() == {
        "errors": [
            {
                "code": "invalidApiKey",
                "message": "Invalid API key. Get one at runware.ai",
                "parameter": "apiKey",
                "taskType": "authentication",
            }
        ]
    }


def test_uploaded_images_are_served_at_their_image_url(emu: Emulator) -> None:
    data = png_bytes(64, 36)
    up = {
        "taskType": "imageUpload",
        "taskUUID": str(uuid.uuid4()),
        "image": base64.b64encode(data).decode(),
    }
    (item,) = post(emu, [up]).json()["data"]
    got = httpx.get(item["imageURL"], timeout=10)
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-type"] == "image/png"
    missing = item["imageURL"].replace(item["imageUUID"], str(uuid.uuid4()))
    assert httpx.get(missing, timeout=10).status_code == 404
    by_url = {**up, "taskUUID": str(uuid.uuid4()), "image": "https://example.com/a.png"}
    assert post(emu, [by_url]).json()["data"][0]["imageURL"] == "https://example.com/a.png"


SEEDANCE = """
title: T
model: bytedance:seedance@2.5
size: 1280x720
defaults: {duration: 4}
scenes:
  - {id: a, prompt: "A harbour at dawn."}
  - {id: b, prompt: "The boat keeps going.", continuity: extend}
  - {id: c, prompt: "The open sea.", continuity: last_frame, end_frame: end.png}
"""


def test_render_extends_by_inputs_video_and_pins_the_end(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("RUNWARE_API_KEY", "k")
    monkeypatch.setenv("RUNWARE_BASE_URL", emu.base_url)
    p = write_project(tmp_path / "p", SEEDANCE, {"end.png": png_bytes(1280, 720)})
    assert main(["render", str(p), "--no-compose", "-q"]) == 0
    lock = yaml.safe_load((p / "storyboard.lock").read_text())["scenes"]
    sent = {em.request["positivePrompt"].split(".")[0]: em.request for em in emu.tasks.values()}
    b = sent["The boat keeps going"]
    assert b["inputs"] == {"video": lock["a"]["video_uuid"]}
    assert lock["a"]["video_id"] is None  # only Sora's results carry outputs.videoId
    assert b["settings"] == {"operation": "extend"} and "width" not in b
    c = sent["The open sea"]
    assert [f["frame"] for f in c["inputs"]["frameImages"]] == ["first", "last"]
    assert c["resolution"] == "720p"
    # the emulator charged what the plan said: 4 s at ~$0.234/s, the extension at ~$0.7283/s
    costs = sorted(round(c["cost"], 4) for c in emu.ledger)
    assert costs == [0.936, 0.936, 2.9132]
    out = capsys.readouterr().out
    assert "spent $4.79" in out


def test_no_clip_is_delivered_free_or_for_a_wrongly_typed_field(emu: Emulator) -> None:
    """Hostile finding F5: ``"duration": "4"`` on Sora 2 (typed int, not ``int | str``) was
    accepted and charged $0; ``numberResults: true`` was taken as 1."""
    sora = video("openai:3@1", duration="4")
    assert error(post(emu, [sora]))["code"] == "invalidDuration"
    flag = video("openai:3@1", duration=4, numberResults=True)
    assert error(post(emu, [flag]))["code"] == "invalidNumberResults"
    assert emu.ledger == []
    ok = video("openai:3@1", duration=4)
    assert post(emu, [ok]).status_code == 200
    assert emu.ledger[-1]["cost"] == pytest.approx(0.40)
