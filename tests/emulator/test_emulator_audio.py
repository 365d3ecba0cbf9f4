"""The emulator's audioInference (speech, music, effects) and lip sync, over a real socket."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from speechsignal import band_energy, decode, speech_spans

from storyboard.board.audio_models import audio_catalogue, estimated_speech_seconds
from storyboard.emulator import Emulator, EmulatorConfig
from storyboard.emulator.audio import voice_pitch
from storyboard.media.probe import media_duration


@pytest.fixture
def emu() -> Any:
    with Emulator(EmulatorConfig(latency=0.05, draft=True)) as e:
        yield e


def post(emu: Emulator, *tasks: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        emu.base_url, json=list(tasks), headers={"Authorization": "Bearer k"}, timeout=30
    )


def speech(text: str, voice: str = "Eve", model: str = "xai:tts@0", **over: Any) -> dict:
    t: dict[str, Any] = {
        "taskType": "audioInference",
        "taskUUID": str(uuid.uuid4()),
        "model": model,
        "speech": {"text": text, "voice": voice},
        "outputFormat": "WAV",
        "includeCost": True,
    }
    t.update(over)
    return t


def fetch(url: str, dest: Path) -> Path:
    dest.write_bytes(httpx.get(url, timeout=30).content)
    return dest


def result_of(emu: Emulator, ack: dict[str, Any]) -> dict[str, Any]:
    for _ in range(400):
        body = post(emu, {"taskType": "getResponse", "taskUUID": ack["taskUUID"]}).json()
        item = body["data"][0]
        if item.get("status") == "success":
            return dict(item)
        time.sleep(0.02)
    raise AssertionError("never finished")


def test_speech_length_follows_the_text_and_is_priced_from_the_catalogue(
    emu: Emulator, tmp_path: Path
) -> None:
    short, long = "Quadratics?", "Forty-one years I kept this light, and not one night dark."
    body = post(emu, speech(short), speech(long, "Leo")).json()
    assert "errors" not in body, body
    a, b = body["data"]  # sync delivery (the default): results in the answer
    fa, fb = fetch(a["audioURL"], tmp_path / "a.wav"), fetch(b["audioURL"], tmp_path / "b.wav")
    assert media_duration(fa) == pytest.approx(estimated_speech_seconds(short), abs=0.02)
    assert media_duration(fb) == pytest.approx(estimated_speech_seconds(long), abs=0.02)
    assert media_duration(fb) > media_duration(fa) + 2
    assert a["cost"] == pytest.approx(0.0042 * len(short) / 1000)
    charged = {c["taskUUID"]: c["cost"] for c in emu.ledger_json()["charges"]}
    assert charged[b["taskUUID"]] == pytest.approx(0.0042 * len(long) / 1000)


def test_placeholder_speech_sits_where_clip_sound_and_music_do_not(
    emu: Emulator, tmp_path: Path
) -> None:
    line = post(emu, speech("Forty-one years.")).json()["data"][0]
    music = post(
        emu,
        {
            "taskType": "audioInference",
            "taskUUID": str(uuid.uuid4()),
            "model": "minimax:music@2.6",
            "positivePrompt": "slow strings under a storm",
        },
    ).json()["data"][0]
    fl = fetch(line["audioURL"], tmp_path / "l.wav")
    fm = fetch(music["audioURL"], tmp_path / "m.mp3")
    spans = speech_spans(fl)
    assert len(spans) == 1 and spans[0][0] < 0.02
    assert spans[0][1] == pytest.approx(media_duration(fl), abs=0.05)
    assert speech_spans(fm) == []
    hi, lo = band_energy(decode(fm), 900, 2300).sum(), band_energy(decode(fm), 50, 700).sum()
    assert hi < lo * 0.001
    assert media_duration(fm) == pytest.approx(30, abs=0.1)
    assert voice_pitch("Eve") != voice_pitch("Leo")


def test_async_audio_is_acknowledged_then_polled(emu: Emulator, tmp_path: Path) -> None:
    ack = post(emu, speech("Ready.", deliveryMethod="async")).json()["data"][0]
    assert set(ack) == {"taskType", "taskUUID"}
    item = result_of(emu, ack)
    assert item["taskType"] == "audioInference" and item["audioUUID"]
    assert media_duration(fetch(item["audioURL"], tmp_path / "x.wav")) > 0.3


def effect(**over: Any) -> dict[str, Any]:
    """A 2 s mirelo effect task (a model no source prices)."""
    t: dict[str, Any] = {
        "taskType": "audioInference",
        "taskUUID": str(uuid.uuid4()),
        "model": "mirelo:1@1",
        "positivePrompt": "a door slams",
        "duration": 2,
        "outputFormat": "WAV",
    }
    return t | over


def test_effect_duration_is_honoured_and_checked(emu: Emulator, tmp_path: Path) -> None:
    fx = effect()
    item = post(emu, fx).json()["data"][0]
    assert media_duration(fetch(item["audioURL"], tmp_path / "fx.wav")) == pytest.approx(2)
    bad = post(emu, {**fx, "taskUUID": str(uuid.uuid4()), "duration": 30}).json()
    assert bad["errors"][0]["parameter"] == "duration"


def test_an_effect_whose_price_no_source_gives_carries_no_cost(emu: Emulator) -> None:
    """M4: the emulator knows no price for mirelo (none is published) and used to answer
    ``cost: 0``, which made its placeholders "would cost $0.00". It now gives no figure it does
    not have; a priced model's results still carry the catalogue's."""
    fx = effect(includeCost=True)
    assert not audio_catalogue()["mirelo:1@1"].priced
    item = post(emu, fx).json()["data"][0]
    assert item["audioUUID"] and "cost" not in item
    spoken = post(emu, speech("Hello there.")).json()["data"][0]
    assert spoken["cost"] > 0


@pytest.mark.parametrize(
    "over, parameter",
    [
        ({"speech": {"voice": "Eve"}}, "speech.text"),
        ({"speech": None}, "speech"),
        ({"speech": {"text": "hi", "voice": "Nobody"}}, "speech.voice"),
        ({"speech": {"text": "hi", "voice": "Eve", "language": "en"}}, "speech.language"),
        ({"positivePrompt": "x"}, "positivePrompt"),
        ({"audioSettings": {"bitrate": 64}}, "audioSettings"),  # not with WAV
        ({"outputFormat": "AAC"}, "outputFormat"),
        ({"model": "xai:nope@0"}, "model"),
    ],
    ids=[
        "no-text",
        "no-speech",
        "unlisted-voice-xai",
        "language",
        "unknown-field",
        "settings-wav",
        "format",
        "model",
    ],
)
def test_bad_speech_requests_are_refused_with_the_parameter(
    emu: Emulator, over: dict[str, Any], parameter: str
) -> None:
    t = speech("Hello there.")
    t.update(over)
    if t.get("speech") is None:
        del t["speech"]
    body = post(emu, t).json()
    assert body["errors"][0]["parameter"] == parameter, body
    assert emu.ledger_json()["charges"] == []


def test_a_voice_the_catalogue_lists_only_in_part_is_accepted(emu: Emulator) -> None:
    t = speech("Hello.", "SomeNewVoice", "inworld:tts@2")
    t["speech"]["language"] = "fr"
    assert "errors" not in post(emu, t).json()
    assert audio_catalogue()["inworld:tts@2"].voices_complete is False


def test_lip_sync_puts_the_line_under_the_clip(emu: Emulator, tmp_path: Path) -> None:
    clip = {
        "taskType": "videoInference",
        "taskUUID": str(uuid.uuid4()),
        "model": "openai:3@1",
        "positivePrompt": "A keeper speaks in the lamp room.",
        "width": 1280,
        "height": 720,
        "duration": 4,
        "deliveryMethod": "async",
    }
    video = result_of(emu, post(emu, clip).json()["data"][0])
    line = post(emu, speech("Forty-one years.")).json()["data"][0]
    sync = {
        "taskType": "videoInference",
        "taskUUID": str(uuid.uuid4()),
        "model": "sync:lipsync-2@1",
        "deliveryMethod": "async",
        "includeCost": True,
        "inputs": {
            "video": video["videoUUID"],
            "audios": [{"id": "line-1", "source": line["audioUUID"]}],
        },
    }
    out = result_of(emu, post(emu, sync).json()["data"][0])
    f = fetch(out["videoURL"], tmp_path / "synced.mp4")
    assert media_duration(f) == pytest.approx(4, abs=0.1)
    start, _ = speech_spans(f)[0]
    assert start < 0.1
    secs = estimated_speech_seconds("Forty-one years.")
    assert out["cost"] == pytest.approx(0.044 * secs, abs=0.001)
    bad = post(
        emu,
        {
            **sync,
            "taskUUID": str(uuid.uuid4()),
            "inputs": {"video": video["videoUUID"], "audios": [{"id": "x", "source": "nope"}]},
        },
    ).json()
    assert bad["errors"][0]["parameter"] == "inputs.audios[0].source"
