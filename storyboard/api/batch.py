"""Several films composed in one go (issue 20): in local processes, or as Ray tasks.

Generation never happens here: it stays in the caller's process, where the journal is (so
never-pay-twice holds unchanged). Composing is CPU work from the lock alone: the executor
(:mod:`storyboard.cut.executors`) runs each film's compose, and the chunk encodes inside it,
either on this machine or on a Ray cluster; the chunks are content-keyed, so every worker
writes into one cache and a chunk made for one film is reused by the next.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .events import CallbackProgress
from .results import ComposeResult

if TYPE_CHECKING:
    from .project import Project


def compose_films(
    films: list[Project],
    on: str | None,
    cache: str | Path | None,
    force: bool,
    wait: bool,
    progress: CallbackProgress,
) -> list[ComposeResult]:
    """Compose ``films`` on the executor ``on`` (None: this machine); results in order."""
    from storyboard.cut.executors import executor_for

    executor = executor_for(on)  # an unknown executor or a missing Ray: before anything runs
    if executor.local:
        out = []
        for film in films:
            progress.log(f"== {film.variant_name}")
            out.append(
                film.compose(wait=wait, progress=progress.callback, force=force, cache=cache)
            )
        return out
    from storyboard.cut.executors import RayExecutor

    from .remote import compose_remote

    assert isinstance(executor, RayExecutor)
    return compose_remote(films, executor, cache, force, wait, progress)
