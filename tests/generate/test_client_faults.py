"""The client under faults: temp names, batched-poll errors, Retry-After, plain http."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from storyboard.errors import GenerationError
from storyboard.generate.client import PollPolicy, RetryPolicy, RunwareClient

KEY = "sk-secret-key-1234"
U1 = "11111111-1111-4111-8111-111111111111"
U2 = "22222222-2222-4222-8222-222222222222"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.now += s
        await asyncio.sleep(0)


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
