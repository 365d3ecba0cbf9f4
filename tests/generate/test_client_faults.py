"""The client under faults: temp names, batched-poll errors, Retry-After, plain http."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import Clock

from storyboard.errors import GenerationError, TaskNotFound, TransientError
from storyboard.generate.client import PollPolicy, RetryPolicy, RunwareClient

KEY = "sk-secret-key-1234"
U1 = "11111111-1111-4111-8111-111111111111"
U2 = "22222222-2222-4222-8222-222222222222"


def client_for(handler: Any, clock: Clock | None = None, **kw: Any) -> RunwareClient:
    clock = clock or Clock()
    return RunwareClient(
        httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        api_key=KEY,
        sleep=clock.sleep,
        clock=clock,
        rng=lambda: 0.5,
        poll=kw.pop("poll", PollPolicy(initial_delay=0, batch_window=0)),
        retry=kw.pop("retry", RetryPolicy(max_retries=2, base=1)),
        **kw,
    )


def test_concurrent_downloads_to_one_file_never_mix_their_bytes(tmp_path: Path) -> None:
    bodies = {"/a.mp4": b"A" * 300_000, "/b.mp4": b"B" * 300_000}

    async def chunks(data: bytes) -> AsyncIterator[bytes]:
        for i in range(0, len(data), 50_000):
            await asyncio.sleep(0)
            yield data[i : i + 50_000]

    def handler(request: httpx.Request) -> httpx.Response:
        data = bodies[request.url.path]
        return httpx.Response(200, content=chunks(data), headers={"Content-Length": str(len(data))})

    dest = tmp_path / "take-1.mp4"

    async def go() -> list[Any]:
        c = client_for(handler)
        return await asyncio.gather(
            c.download("https://x.test/a.mp4", dest), c.download("https://x.test/b.mp4", dest)
        )

    results = asyncio.run(go())
    final = dest.read_bytes()
    assert final in bodies.values()
    assert hashlib.sha256(final).hexdigest() in {r.sha256 for r in results}
    assert [p.name for p in tmp_path.iterdir()] == ["take-1.mp4"]  # no temp file left


def test_download_with_an_expected_hash_keeps_the_old_file_on_mismatch(tmp_path: Path) -> None:
    dest = tmp_path / "take-1.mp4"
    dest.write_bytes(b"old")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=httpx.ByteStream(b"other bytes"))

    c = client_for(handler)
    with pytest.raises(GenerationError, match="do not match the expected sha256"):
        asyncio.run(c.download("https://x.test/a.mp4", dest, sha256="0" * 64))
    assert dest.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["take-1.mp4"]


def test_errors_on_a_batched_poll_go_to_their_own_task_and_scene() -> None:
    """Both polled tasks fail, differently, in one getResponse request (HTTP 400 overall)."""

    def handler(request: httpx.Request) -> httpx.Response:
        ids = [t["taskUUID"] for t in json.loads(request.content)]
        assert ids == [U1, U2]  # one batch
        errs = [
            {"code": "invalidPrompt", "message": "prompt of a refused", "taskUUID": U1},
            {"code": "timeoutProvider", "message": "b timed out", "taskUUID": U2},
        ]
        return httpx.Response(400, json={"errors": errs})

    async def go() -> list[BaseException]:
        c = client_for(handler, poll=PollPolicy(initial_delay=0, batch_window=0.01))
        got = await asyncio.gather(
            c.wait(U1, scene="a"), c.wait(U2, scene="b"), return_exceptions=True
        )
        return [g for g in got if isinstance(g, BaseException)]

    a, b = asyncio.run(go())
    assert str(a) == "scene 'a', HTTP 400, invalidPrompt: prompt of a refused"
    assert str(b) == "scene 'b', HTTP 400, timeoutProvider: b timed out"
    assert isinstance(a, GenerationError) and isinstance(b, GenerationError)
    assert (a.task_uuid, b.task_uuid) == (U1, U2) and a.final and b.final


def test_a_failed_batched_poll_gives_each_waiter_its_own_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"errors": [{"code": "serverError", "message": "down"}]})

    async def go() -> list[BaseException]:
        c = client_for(handler, poll=PollPolicy(initial_delay=0, batch_window=0.01))
        got = await asyncio.gather(
            c.wait(U1, scene="a"), c.wait(U2, scene="b"), return_exceptions=True
        )
        return [g for g in got if isinstance(g, BaseException)]

    a, b = asyncio.run(go())
    assert isinstance(a, TransientError) and isinstance(b, TransientError) and a is not b
    assert (a.scene, a.task_uuid, b.scene, b.task_uuid) == ("a", U1, "b", U2)
    assert not a.final and not b.final  # an outage says nothing about the tasks


def test_not_found_counts_only_after_the_grace_period() -> None:
    replies = [404, 404, 200]
    success = {
        "taskType": "videoInference",
        "taskUUID": U1,
        "status": "success",
        "videoUUID": "v1",
        "videoURL": "https://x.test/v1.mp4",
    }

    def handler(request: httpx.Request) -> httpx.Response:
        if replies.pop(0) == 404:
            err = {"code": "taskNotFound", "message": "no such task", "taskUUID": U1}
            return httpx.Response(404, json={"errors": [err]})
        return httpx.Response(200, json={"data": [success]})

    poll = PollPolicy(initial_delay=1, interval=1, factor=1, not_found_grace=5)
    (r,) = asyncio.run(client_for(handler, poll=poll).wait(U1))
    assert r.video_uuid == "v1"

    def never(request: httpx.Request) -> httpx.Response:
        err = {"code": "taskNotFound", "message": "no such task", "taskUUID": U1}
        return httpx.Response(404, json={"errors": [err]})

    clock = Clock()
    with pytest.raises(TaskNotFound) as e:
        asyncio.run(client_for(never, clock, poll=poll).wait(U1))
    assert e.value.final and clock.now == 6  # polled at 1..6 s: unknown for 5 s


@pytest.mark.parametrize(
    "url", ["http://api.example.com/v1", "http://10.0.0.5:8765/v1", "ftp://127.0.0.1/v1"]
)
def test_plain_http_to_a_remote_host_is_refused_before_the_key_is_sent(url: str) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"data": []})

    with pytest.raises(GenerationError) as e:
        client_for(handler, base_url=url)
    assert str(e.value) == (
        f"insecureBaseURL: refusing RUNWARE_BASE_URL {url}: the API key would travel in clear "
        "text; use https (plain http only to 127.0.0.0/8, ::1 or localhost)"
    )
    assert sent == []


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:1/v1", "http://127.9.9.9/v1", "http://[::1]:8/v1", "http://localhost/v1"],
)
def test_plain_http_to_loopback_is_allowed(url: str) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"data": []})

    client = client_for(handler, base_url=url)
    asyncio.run(client.post([{"taskType": "ping"}]))
    assert [str(r.url) for r in sent] == [url]
    assert sent[0].headers["Authorization"] == f"Bearer {KEY}"
