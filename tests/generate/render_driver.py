"""Render a project through the library with test-speed retry, poll and timeout policies."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from storyboard.board.spec import load_project
from storyboard.generate.backend import BackendOptions, open_client
from storyboard.generate.client import PollPolicy, RetryPolicy
from storyboard.generate.execute import RenderOptions, RenderResult, render
from storyboard.generate.staleness import assess
from storyboard.generate.state import BuildState
from storyboard.plan.compile import compile_project

FAST_RETRY = RetryPolicy(max_retries=2, base=0.01, cap=0.05)


def fast_poll(**kw: Any) -> PollPolicy:
    return PollPolicy(
        **{
            "initial_delay": 0.05,
            "interval": 0.05,
            "factor": 1.0,
            "max_interval": 0.05,
            "timeout": 30.0,
            "not_found_grace": 0.3,
            **kw,
        }
    )


class Notes:
    """A Progress that keeps the notes and the last state of each scene."""

    def __init__(self) -> None:
        self.notes: list[str] = []
        self.states: dict[str, tuple[str, str]] = {}

    def update(self, scene: str, state: str, detail: str = "") -> None:
        self.states[scene] = (state, detail)

    def add_cost(self, usd: float) -> None:
        pass

    def note(self, text: str) -> None:
        self.notes.append(text)


def lib_render(
    project: Path,
    base_url: str,
    *,
    retake: list[str] | None = None,
    poll: PollPolicy | None = None,
    retry: RetryPolicy | None = None,
    timeout: float = 10.0,
    notes: Notes | None = None,
    boards: bool = False,
) -> RenderResult:
    """One render through the library (holding the writer lock), like ``storyboard render``
    (``boards``: like ``render --boards``: the cast sheets and every board, no clip)."""
    plan = compile_project(load_project(project))
    state = BuildState(project, writer="render")
    try:
        backend = BackendOptions(
            api_key="test-key",
            base_url=base_url,
            poll=poll or fast_poll(),
            retry=retry or FAST_RETRY,
            http_timeout=timeout,
        )
        assessments = assess(plan, state, retake, False, backend.maker)

        async def go() -> RenderResult:
            async with open_client(backend) as client:
                return await render(
                    plan,
                    state,
                    client,
                    notes or Notes(),
                    RenderOptions(
                        retake=retake or [],
                        made_by=backend.made_by,
                        only=plan.wanted(True) if boards else None,
                    ),
                    assessments,
                )

        return asyncio.run(go())
    finally:
        state.close()
