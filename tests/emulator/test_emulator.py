"""The real client against the emulator over a real loopback socket, faults included."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import Clock, png_bytes

from storyboard.emulator import Emulator, EmulatorConfig, Fault
from storyboard.errors import AuthError, CreditsError, InvalidRequest, ProviderError, TaskNotFound
from storyboard.generate.client import PollPolicy, RetryPolicy, RunwareClient
from storyboard.media.frames import first_frame_png, last_frame_png
from storyboard.media.probe import probe

FAST = PollPolicy(
    initial_delay=0.05, interval=0.05, factor=1.5, max_interval=0.3, timeout=60, batch_window=0.01
)


def task(**over: Any) -> dict[str, Any]:
    t = {
        "taskType": "videoInference",
        "taskUUID": str(uuid.uuid4()),
        "model": "openai:3@1",
        "positivePrompt": "A red kite over a grey sea.",
        "width": 1280,
        "height": 720,
        "duration": 4,
        "numberResults": 1,
        "includeCost": True,
        "deliveryMethod": "async",
    }
    t.update(over)
    return t


@pytest.fixture
def emu() -> Any:
    with Emulator(EmulatorConfig(latency=0.2, draft=True)) as e:
        yield e


async def _with_client(emu: Emulator, fn: Any, key: str = "any-key") -> Any:
    async with httpx.AsyncClient(timeout=10) as http:
        client = RunwareClient(
            http,
            api_key=key,
            base_url=emu.base_url,
            poll=FAST,
            retry=RetryPolicy(max_retries=5, base=0.02, cap=0.2),
            allow_loopback_http=True,
        )
        return await fn(client)


def go(emu: Emulator, fn: Any, key: str = "any-key") -> Any:
    return asyncio.run(_with_client(emu, fn, key))


def test_text_to_video_round_trip(emu: Emulator, tmp_path: Path) -> None:
    t = task()

    async def fn(c: RunwareClient) -> Any:
        (r,) = await c.run(t)
        d = await c.download(r.video_url, tmp_path / "a.mp4")
        return r, d

    r, d = go(emu, fn)
    assert r.cost == pytest.approx(0.4) and r.video_id and r.video_id.startswith("video_")
    info = probe(d.path)
    assert info.duration == pytest.approx(4, abs=0.15) and info.has_audio
    assert (info.width, info.height) == (320, 180)  # draft: a quarter of the size
    assert emu.charges() == {t["taskUUID"]: 1}


def test_full_size_clip_matches_the_request(tmp_path: Path) -> None:
    with Emulator(EmulatorConfig(latency=0.0)) as emu:
        t = task(width=720, height=1280, outputFormat="WEBM")

        async def fn(c: RunwareClient) -> Any:
            (r,) = await c.run(t)
            return await c.download(r.video_url, tmp_path / "a.webm")

        d = go(emu, fn)
    info = probe(d.path)
    assert (info.width, info.height, round(info.duration)) == (720, 1280, 4)
    assert d.path.read_bytes()[:4] == b"\x1aE\xdf\xa3"  # EBML: a real WEBM


def test_first_frame_image_is_the_first_frame(emu: Emulator, tmp_path: Path) -> None:
    image = png_bytes(320, 180, (10, 200, 30))

    async def fn(c: RunwareClient) -> Any:
        ref = await c.upload_image(image)
        t = task(inputs={"frameImages": [{"image": ref, "frame": "first"}]})
        (r,) = await c.run(t)
        return await c.download(r.video_url, tmp_path / "a.mp4")

    d = go(emu, fn)
    import io

    from PIL import Image

    px = Image.open(io.BytesIO(first_frame_png(d.path))).convert("RGB").getpixel((160, 90))
    assert abs(px[0] - 10) < 12 and abs(px[1] - 200) < 12 and abs(px[2] - 30) < 12


@pytest.mark.parametrize("mode", ["new", "whole"])
def test_extend_continues_from_the_source_last_frame(mode: str, tmp_path: Path) -> None:
    with Emulator(EmulatorConfig(latency=0.05, draft=True, extend_returns=mode)) as emu:

        async def fn(c: RunwareClient) -> Any:
            (a,) = await c.run(task())
            da = await c.download(a.video_url, tmp_path / "a.mp4")
            (b,) = await c.run(
                {
                    k: v
                    for k, v in task(inputs={"videoId": a.video_id}).items()
                    if k not in ("width", "height")
                }
            )
            db = await c.download(b.video_url, tmp_path / "b.mp4")
            return da, db

        da, db = go(emu, fn)
    expected = 4 if mode == "new" else 8
    assert probe(db.path).duration == pytest.approx(expected, abs=0.2)
    if mode == "new":
        import io

        import numpy as np
        from PIL import Image

        last = np.asarray(Image.open(io.BytesIO(last_frame_png(da.path))).convert("RGB"), int)
        first = np.asarray(Image.open(io.BytesIO(first_frame_png(db.path))).convert("RGB"), int)
        assert np.abs(last - first).mean() < 6


@pytest.mark.parametrize(
    "over,parameter",
    [
        ({"width": 1920, "height": 1080}, "width"),
        ({"duration": 10}, "duration"),
        ({"positivePrompt": "x"}, "positivePrompt"),
        ({"numberResults": 5}, "numberResults"),
        ({"outputQuality": 10}, "outputQuality"),
        ({"outputFormat": "AVI"}, "outputFormat"),
        ({"ttl": 30}, "ttl"),
        ({"seed": 3}, "seed"),
        ({"inputs": {"videoId": "video_x"}}, "inputs.videoId"),
        ({"inputs": {"frameImages": ["a", "b"]}}, "inputs.frameImages"),
    ],
    ids=[
        "size",
        "duration",
        "prompt",
        "results",
        "quality",
        "format",
        "ttl",
        "unknown",
        "videoId+size",
        "two-frames",
    ],
)
def test_model_page_rules_are_enforced_with_400(emu: Emulator, over: dict, parameter: str) -> None:
    async def fn(c: RunwareClient) -> Any:
        await c.submit(task(**over))

    with pytest.raises(InvalidRequest) as e:
        go(emu, fn)
    assert e.value.status == 400 and e.value.parameter == parameter
    assert emu.charges() == {}


def test_width_without_height_is_refused(emu: Emulator) -> None:
    t = task()
    del t["height"]
    with pytest.raises(InvalidRequest, match="together"):
        go(emu, lambda c: c.submit(t))


def test_authentication_task_form_is_accepted() -> None:
    with Emulator(EmulatorConfig(latency=0, draft=True, api_key="right")) as emu:
        body = [
            {"taskType": "authentication", "apiKey": "right"},
            {
                "taskType": "imageUpload",
                "taskUUID": str(uuid.uuid4()),
                "image": "data:image/png;base64,"
                + __import__("base64").b64encode(png_bytes()).decode(),
            },
        ]
        r = httpx.post(emu.base_url, json=body)
        assert r.status_code == 200
        assert [d["taskType"] for d in r.json()["data"]] == ["authentication", "imageUpload"]
        r = httpx.post(emu.base_url, json=body[1:])
        assert r.status_code == 401 and r.json()["errors"][0]["code"] == "invalidApiKey"


def test_wrong_key_is_401_and_never_echoed() -> None:
    with Emulator(EmulatorConfig(latency=0, draft=True, api_key="right")) as emu:
        with pytest.raises(AuthError) as e:
            go(emu, lambda c: c.submit(task()), key="wrong-secret-key")
    assert "wrong-secret-key" not in str(e.value)


def test_insufficient_credits_is_402() -> None:
    with Emulator(EmulatorConfig(latency=0, draft=True, credits=0.5)) as emu:
        with pytest.raises(CreditsError) as e:
            go(emu, lambda c: c.submit(task(duration=8)))
        assert e.value.status == 402 and emu.charges() == {}


def test_unknown_task_is_not_found(emu: Emulator) -> None:
    """A task the service never had is "not found" once the grace period ran out (time passes
    on an injected clock)."""
    clock = Clock()

    async def fn() -> Any:
        async with httpx.AsyncClient(timeout=10) as http:
            client = RunwareClient(
                http,
                api_key="k",
                base_url=emu.base_url,
                poll=PollPolicy(initial_delay=1.0, interval=1.0, factor=1.0, max_interval=1.0),
                allow_loopback_http=True,
                sleep=clock.sleep,
                clock=clock,
            )
            return await client.wait(str(uuid.uuid4()))

    with pytest.raises(TaskNotFound) as e:
        asyncio.run(fn())
    assert e.value.final
    grace = PollPolicy().not_found_grace
    assert grace <= clock.now <= grace + 2.0  # it asked until the grace ran out, then stopped


def test_reused_task_uuid_is_a_conflict_not_a_second_charge(emu: Emulator) -> None:
    t = task()

    async def fn(c: RunwareClient) -> Any:
        await c.submit(t)
        await c.submit(t)  # conflictTaskUUID: already there, not an error
        return await c.wait(t["taskUUID"])

    go(emu, fn)
    assert emu.charges() == {t["taskUUID"]: 1}
    r = httpx.post(emu.base_url, json=[t], headers={"Authorization": "Bearer k"})
    assert r.json()["errors"][0]["code"] == "conflictTaskUUID"


@pytest.mark.parametrize(
    "fault",
    [
        Fault("status", status=429, retry_after=0.05, times=2),
        Fault("status", status=500, times=2),
        Fault("status", status=502, times=1),
        Fault("status", status=503, times=2, task_type="getResponse"),
        Fault("status", status=504, times=1),
        Fault("latency", delay=0.3, times=2),
        Fault("drop", task_type="videoInference", times=1),
        Fault("drop", task_type="getResponse", times=2),
        Fault("truncate", task_type="download", times=2),
        Fault("slow", task_type="download", rate=400_000, times=1),
        Fault("status", status=503, task_type="download", times=1),
    ],
    ids=lambda f: f"{f.kind}-{f.status if f.kind == 'status' else ''}-{f.task_type or 'any'}",
)
def test_faults_are_survived_and_nothing_is_charged_twice(
    fault: Fault, emu: Emulator, tmp_path: Path
) -> None:
    emu.add_fault(fault)
    tasks = [task(), task()]

    async def fn(c: RunwareClient) -> Any:
        async def one(t: dict) -> Any:
            (r,) = await c.run(t)
            return await c.download(r.video_url, tmp_path / f"{t['taskUUID']}.mp4")

        return await asyncio.gather(*(one(t) for t in tasks))

    downloads = go(emu, fn)
    assert fault.fired >= 1
    assert emu.charges() == {t["taskUUID"]: 1 for t in tasks}
    for d in downloads:
        assert probe(d.path).duration == pytest.approx(4, abs=0.15)


def test_error_result_fault(emu: Emulator) -> None:
    emu.add_fault(
        Fault(
            "error",
            prompt_contains="storm",
            code="timeoutProvider",
            message="The provider timed out",
            times=None,
        )
    )
    with pytest.raises(ProviderError, match="provider timed out"):
        go(emu, lambda c: c.run(task(positivePrompt="A storm at sea.")))
    (charge,) = emu.ledger
    assert charge.get("refunded") is True


def test_nsfw_fault_flags_the_result(emu: Emulator) -> None:
    emu.add_fault(Fault("nsfw"))
    (r,) = go(emu, lambda c: c.run(task()))
    assert r.nsfw is True


def test_ledger_and_faults_over_http(emu: Emulator) -> None:
    r = httpx.post(f"{emu.url}/_emulator/faults", json={"kind": "status", "status": 503})
    assert r.json()["faults"][0]["status"] == 503
    httpx.delete(f"{emu.url}/_emulator/faults")
    go(emu, lambda c: c.run(task()))
    ledger = httpx.get(f"{emu.url}/_emulator/ledger").json()
    assert len(ledger["charges"]) == 1 and ledger["charges"][0]["cost"] == pytest.approx(0.4)


def test_a_cut_closes_the_connection_before_the_task_is_processed(emu: Emulator) -> None:
    t = task()
    headers = {"Authorization": "Bearer k"}
    emu.add_fault(Fault("cut", task_type="videoInference", times=1))
    with pytest.raises(httpx.TransportError):
        httpx.post(emu.base_url, json=[t], headers=headers)
    assert emu.charges() == {}  # never processed
    emu.add_fault(Fault("drop", task_type="videoInference", times=1))
    with pytest.raises(httpx.TransportError):
        httpx.post(emu.base_url, json=[t], headers=headers)
    assert emu.charges() == {t["taskUUID"]: 1}  # processed and charged, then the answer lost
    r = httpx.post(emu.base_url, json=[t], headers=headers)
    assert r.json()["errors"][0]["code"] == "conflictTaskUUID"
    log = httpx.get(f"{emu.url}/_emulator/faults").json()["log"]
    assert [(e["event"], e.get("kind"), e.get("after")) for e in log] == [
        ("fault", "cut", False),
        ("fault", "drop", True),
        ("conflict", None, None),
    ]
    assert log[0]["task_type"] == "videoInference" and log[0]["prompt"] == t["positivePrompt"]
    assert log[2]["taskUUID"] == t["taskUUID"]


def test_the_wire_log_has_the_hash_of_each_file_served(emu: Emulator, tmp_path: Path) -> None:
    (r,) = go(emu, lambda c: c.run(task()))
    emu.add_fault(Fault("truncate", task_type="download", times=1))
    with pytest.raises(httpx.TransportError):
        httpx.get(r.video_url).raise_for_status()
    data = httpx.get(r.video_url).content
    served = [e for e in emu.faults.log() if e["event"] == "served"]
    name = r.video_url.rsplit("/", 1)[-1]
    digest = hashlib.sha256(data).hexdigest()
    assert [(e["file"], e["sha256"]) for e in served] == [(name, digest), (name, digest)]


def test_fault_spec_parsing() -> None:
    f = Fault.parse("429:times=3,retry_after=1")
    assert (f.kind, f.status, f.times, f.retry_after) == ("status", 429, 3, 1.0)
    assert Fault.parse("error:prompt_contains=storm,times=always").times is None
    with pytest.raises(ValueError):
        Fault.parse("explode")


def test_emulator_command_line_help(capsys) -> None:
    from storyboard.cli.main import main

    with pytest.raises(SystemExit):
        main(["emulator", "--help"])
    assert "--fault" in capsys.readouterr().out


def test_a_client_gone_mid_answer_prints_no_traceback(capfd: pytest.CaptureFixture[str]) -> None:
    """A render stopped by Ctrl-C resets its connections: the socket server printed a
    traceback for each under the render's one-line message (hostile helper-28)."""
    with Emulator(EmulatorConfig(latency=0.1)) as emu:
        server = emu._server
        assert server is not None
        for gone in (ConnectionResetError(104, "reset"), BrokenPipeError(32, "broken pipe")):
            try:
                raise gone
            except ConnectionError:
                server.handle_error(None, ("127.0.0.1", 9))
        assert capfd.readouterr().err == ""
        try:
            raise ValueError("a fault of the emulator's own")
        except ValueError:
            server.handle_error(None, ("127.0.0.1", 9))
        assert "ValueError: a fault of the emulator's own" in capfd.readouterr().err


def test_a_file_gone_while_its_download_waits_is_not_found(emu: Emulator) -> None:
    """A download delayed by a latency fault whose file went meanwhile (the emulator stopping
    under a client) is answered 404, not a traceback from the request's thread and a dropped
    connection."""

    async def fn(c: RunwareClient) -> Any:
        (res,) = await c.run(task())
        return res.video_url

    url = go(emu, fn)
    name = url.rsplit("/", 1)[-1]
    emu.add_fault(Fault("latency", delay=0.5, task_type="download", times=1))
    result: dict[str, httpx.Response] = {}
    getter = threading.Thread(target=lambda: result.update(r=httpx.get(url, timeout=10)))
    getter.start()
    time.sleep(0.2)
    (emu.workdir / "videos" / name).unlink()
    getter.join(10)
    assert result["r"].status_code == 404
    assert result["r"].json()["errors"][0]["code"] == "notFound"
