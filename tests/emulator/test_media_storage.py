"""The emulator speaks mediaStorage (upload, delete) and the deprecated imageUpload."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import httpx
import pytest
from helpers import png_bytes

from storyboard.emulator import Emulator, EmulatorConfig


def post(emu: Emulator, task: dict[str, Any]) -> httpx.Response:
    return httpx.post(emu.base_url, json=[task], headers={"Authorization": "Bearer k"}, timeout=10)


def uri(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


@pytest.fixture
def emu() -> Any:
    with Emulator(EmulatorConfig(latency=0.05, draft=True, identify=False)) as e:
        yield e


def test_upload_serve_and_delete(emu: Emulator) -> None:
    image = png_bytes()
    tid = str(uuid.uuid4())
    r = post(emu, {"taskType": "mediaStorage", "taskUUID": tid, "operation": "upload",
                   "media": uri(image)})  # fmt: skip
    assert r.status_code == 200, r.text
    (item,) = r.json()["data"]
    assert item["taskUUID"] == tid and item["operation"] == "upload"
    assert httpx.get(item["mediaURL"], timeout=10).content == image
    audio = post(emu, {"taskType": "mediaStorage", "taskUUID": str(uuid.uuid4()),
                       "operation": "upload", "media": uri(b"ID3", "audio/mpeg")})  # fmt: skip
    assert audio.status_code == 200 and audio.json()["data"][0]["mediaUUID"]
    gone = post(emu, {"taskType": "mediaStorage", "taskUUID": str(uuid.uuid4()),
                      "operation": "delete", "media": item["mediaUUID"]})  # fmt: skip
    assert gone.json()["data"][0] == {
        "taskType": "mediaStorage",
        "taskUUID": gone.json()["data"][0]["taskUUID"],
        "operation": "delete",
        "mediaUUID": item["mediaUUID"],
    }
    assert httpx.get(item["mediaURL"], timeout=10).status_code == 404


@pytest.mark.parametrize(
    ("over", "code"),
    [
        ({"operation": "upload"}, "missingMedia"),
        ({"operation": "copy", "media": "x"}, "invalidOperation"),
        ({"operation": "upload", "media": "data:image/png;base64,AAA", "image": "x"},
         "unknownParameter"),
        ({"operation": "delete", "media": str(uuid.uuid4())}, "invalidMedia"),
    ],
)  # fmt: skip
def test_bad_media_storage_tasks_are_refused(
    emu: Emulator, over: dict[str, Any], code: str
) -> None:
    r = post(emu, {"taskType": "mediaStorage", "taskUUID": str(uuid.uuid4()), **over})
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == code


def test_image_upload_still_works_and_media_storage_can_be_switched_off() -> None:
    with Emulator(EmulatorConfig(latency=0.05, identify=False, media_storage=False)) as emu:
        r = post(emu, {"taskType": "mediaStorage", "taskUUID": str(uuid.uuid4()),
                       "operation": "upload", "media": uri(png_bytes())})  # fmt: skip
        assert r.status_code == 400 and r.json()["errors"][0]["parameter"] == "taskType"
        r = post(emu, {"taskType": "imageUpload", "taskUUID": str(uuid.uuid4()),
                       "image": uri(png_bytes())})  # fmt: skip
        assert r.status_code == 200 and r.json()["data"][0]["imageUUID"]
