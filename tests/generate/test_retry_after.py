"""Retry-After under hostile values: capped, parsed as seconds or an HTTP-date, reported."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import Clock, write_project
from render_driver import Notes, lib_render

from storyboard.emulator import Emulator, EmulatorConfig, Fault
from storyboard.errors import TransientError
from storyboard.generate.client import RetryPolicy, RunwareClient

KEY = "sk-secret-key-1234"
U1 = "11111111-1111-4111-8111-111111111111"
ONE = """
title: One
defaults: {duration: 4}
scenes:
  - {id: a, prompt: "A kite in the wind."}
"""
TASK = {"taskType": "videoInference", "taskUUID": U1, "positivePrompt": "x"}


def limited(retry_after: str, then_ok: bool = True, times: int = 1) -> Any:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] <= times or not then_ok:
            return httpx.Response(
                429,
                json={"errors": [{"code": "rateLimitExceeded", "message": "slow down"}]},
                headers={"Retry-After": retry_after},
            )
        return httpx.Response(200, json={"data": [{"taskType": "videoInference", "taskUUID": U1}]})

    return handler


def client(handler: Any, clock: Clock, **kw: Any) -> RunwareClient:
    return RunwareClient(
        httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        api_key=KEY,
        sleep=clock.sleep,
        clock=clock,
        rng=lambda: 0.5,
        retry=kw.pop("retry", RetryPolicy(max_retries=3, base=1)),
        **kw,
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        ("86400", 60.0),
        ("Fri, 31 Dec 2100 23:59:59 GMT", 60.0),  # an HTTP-date far ahead: capped
        ("Sat, 01 Jan 2000 00:00:00 GMT", 0.0),  # an HTTP-date in the past: go now
        ("nan", 0.5),  # not a number: ordinary backoff (rng 0.5 * 1 s)
        ("inf", 0.5),
        ("-5", 0.0),
        ("soon", 0.5),
        ("1e400", 0.5),
    ],
)
def test_retry_after_is_parsed_and_capped(value: str, expected: float) -> None:
    clock = Clock()
    asyncio.run(client(limited(value), clock).submit(TASK, scene="dusk"))
    assert clock.sleeps == [expected]
    assert all(math.isfinite(s) for s in clock.sleeps)


def test_the_cap_is_a_documented_policy_field() -> None:
    clock = Clock()
    c = client(limited("86400"), clock, retry=RetryPolicy(max_retries=3, max_retry_after=5))
    asyncio.run(c.submit(TASK, scene="dusk"))
    assert clock.sleeps == [5.0]


def test_a_rate_limit_that_never_ends_gives_up_naming_the_scene_and_the_429() -> None:
    clock = Clock()
    c = client(limited("86400", then_ok=False), clock)
    with pytest.raises(TransientError) as e:
        asyncio.run(c.submit(TASK, scene="dusk"))
    assert clock.sleeps == [60.0, 60.0, 60.0]  # the retry budget (3), each wait capped
    assert str(e.value) == (
        "scene 'dusk', HTTP 429, rateLimitExceeded: slow down "
        "(still rate limited after 4 attempts over 180 s; render again later)"
    )


def test_each_wait_is_reported_for_its_scene() -> None:
    clock = Clock()
    seen: list[tuple[str, str]] = []
    c = client(limited("86400", times=2), clock)
    c.on_wait = lambda scene, detail: seen.append((scene, detail))
    asyncio.run(c.submit(TASK, scene="dusk"))
    assert seen == [
        ("dusk", "waiting 60 s (rate limited)"),
        ("dusk", "waiting 60 s (rate limited)"),
    ]


class Waits(Notes):
    """Keeps every retry wait the executor reports."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[tuple[str, str, str]] = []

    def update(self, scene: str, state: str, detail: str = "") -> None:
        super().update(scene, state, detail)
        if detail.startswith("waiting"):
            self.waits.append((scene, state, detail))


def test_the_render_shows_the_rate_limited_wait_of_its_scene(tmp_path: Path) -> None:
    p = write_project(tmp_path, ONE)
    waits = Waits()
    with Emulator(EmulatorConfig(latency=0.05, draft=True)) as emu:
        emu.add_fault(
            Fault("status", task_type="videoInference", status=429, retry_after=86400, times=1)
        )
        # a 0.01 s cap so the test waits for nothing; the default cap is 60 s
        retry = RetryPolicy(max_retries=2, base=0.01, cap=0.05, max_retry_after=0.01)
        lib_render(p, emu.url, retry=retry, notes=waits)
    assert waits.waits == [("a", "retrying", "waiting 0 s (rate limited)")]
    assert waits.states["a"][0] == "done"
