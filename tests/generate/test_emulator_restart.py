"""A task an emulator accepted, asked of another emulator (left alone in round 11, now decided).

Each keyless render starts its own emulator, and a standalone ``storyboard emulator`` may be
restarted: a task an earlier one accepted is unknown to the one that answers now, for good.
The service's "task not found" counts only after a grace period (a task just sent may not be
visible yet), so such a render waited 30 s before making the scene again. An emulator says when
it started (``/_emulator/hello``), and a task journaled before that is unknown for good at the
first "not found": the scene is made again at once (placeholders cost nothing).
"""

from __future__ import annotations

import time
from pathlib import Path

from helpers import write_project
from render_driver import Notes, fast_poll, lib_render

from storyboard.emulator import Emulator, EmulatorConfig
from storyboard.generate.state import BuildState

ONE = """
title: One
defaults: {duration: 4}
scenes:
  - {id: a, prompt: "Scene A: a kite in the wind."}
"""


def test_a_task_of_an_emulator_that_stopped_is_made_again_at_once(tmp_path: Path) -> None:
    p = write_project(tmp_path / "p", ONE)
    with Emulator(EmulatorConfig(latency=30.0, draft=True)) as first:
        # the render gives up waiting: the task stays in the journal, accepted
        stopped = lib_render(p, first.base_url, poll=fast_poll(timeout=0.5))
        assert [o.scene for o in stopped.failed] == ["a"]
        assert len(first.charges()) == 1
    st = BuildState(p)
    try:
        (jt,) = st.uncollected()
        assert jt.state == "submitted"
    finally:
        st.close()
    with Emulator(EmulatorConfig(latency=0.2, draft=True)) as second:
        notes = Notes()
        t0 = time.monotonic()
        # the service's own grace (30 s) kept: only the emulator's start decides
        again = lib_render(p, second.base_url, poll=fast_poll(not_found_grace=30.0), notes=notes)
        took = time.monotonic() - t0
        assert again.failed == [], [o.error for o in again.failed]
        assert took < 10.0, f"waited {took:.1f} s for a task the new emulator never had"
        assert len(second.charges()) == 1  # made again, by the emulator that answers now
    st = BuildState(p)
    try:
        assert st.uncollected() == []
        assert st.task(jt.task_uuid).state == "failed"  # type: ignore[union-attr]
    finally:
        st.close()


def test_a_task_the_answering_emulator_accepted_keeps_the_grace(tmp_path: Path) -> None:
    """The same emulator still running: "not found" of its own task is not final at once (it
    may be a glitch), so a task it accepted is collected, not made again."""
    p = write_project(tmp_path / "p", ONE)
    with Emulator(EmulatorConfig(latency=1.5, draft=True)) as emu:
        stopped = lib_render(p, emu.base_url, poll=fast_poll(timeout=0.3))
        assert [o.scene for o in stopped.failed] == ["a"]
        again = lib_render(p, emu.base_url, poll=fast_poll(not_found_grace=30.0))
        assert again.failed == []
        assert len(emu.charges()) == 1  # collected, not bought again


def test_an_unusable_start_time_is_no_answer() -> None:
    """hostile helper-49: a hello whose ``started`` was an integer too big for a float raised
    OverflowError in every resumed scene, render after render."""
    import asyncio

    import httpx

    from storyboard.generate.client import RunwareClient

    def answer(body: object) -> float | None:
        async def go() -> float | None:
            transport = httpx.MockTransport(lambda r: httpx.Response(200, json=body))
            async with httpx.AsyncClient(transport=transport) as http:
                api = RunwareClient(
                    http, api_key="k", base_url="http://127.0.0.1:9/v1", allow_loopback_http=True
                )
                return await api.emulator_started()

        return asyncio.run(go())

    hello = {"emulator": "storyboard", "draft": True}
    assert answer({**hello, "started": 10**400}) is None
    assert answer({**hello, "started": "soon"}) is None
    assert answer({**hello, "started": True}) is None
    assert answer({**hello, "started": 12.5}) == 12.5
    assert answer({"emulator": "other", "started": 12.5}) is None
