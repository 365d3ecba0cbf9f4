"""The Python API's arguments checked where they come in: one :class:`StoryboardError` naming
the argument and what it got, not a ``TypeError`` from deep inside (hostile helper-45).

A scene id given as one string is that one scene: ``retake="abc"`` used to be read letter by
letter, retaking scenes ``a``, ``b`` and ``c``.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from storyboard.errors import StoryboardError


def _bad(name: str, want: str, got: object) -> StoryboardError:
    return StoryboardError(f"{name}: expected {want}, got {got!r}")


def path_arg(path: object, name: str = "path") -> Path:
    """A folder or file path (text or ``os.PathLike``)."""
    if isinstance(path, str):
        return Path(path)
    if isinstance(path, os.PathLike):
        return Path(os.fspath(path))
    raise _bad(name, "a folder or file path", path)


def scene_ids(retake: object, name: str = "retake") -> list[str]:
    """Scene ids: one as text, or several in any iterable of text."""
    if isinstance(retake, str):
        return [retake]
    if retake is None or not isinstance(retake, Iterable):
        raise _bad(name, "scene ids (text)", retake)
    ids = list(retake)
    for s in ids:
        if not isinstance(s, str):
            raise _bad(name, "scene ids (text)", s)
    return ids


def scene_id(scene: object, name: str = "scene") -> str:
    if not isinstance(scene, str):
        raise _bad(name, "a scene id (text)", scene)
    return scene


def dollars(budget: object, name: str = "budget") -> float | None:
    """None, or a number (its range is the budget check's: a clear message of its own)."""
    if budget is None:
        return None
    if isinstance(budget, bool) or not isinstance(budget, numbers.Real):
        raise _bad(name, "an amount of dollars (a number)", budget)
    return float(budget)


def whole(n: object, name: str, want: str) -> int:
    """A whole number (numpy's too), never a bool."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise _bad(name, want, n)
    return int(n)


def seconds(x: object, name: str = "emulator_latency", most: float = 60.0) -> float:
    """A finite number of seconds from 0 to ``most`` (NaN or 1e9 hung a render: helper-46)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not 0 <= float(x) <= most:
        raise _bad(name, f"seconds (a number from 0 to {most:g})", x)
    return float(x)


def text_arg(v: object, name: str, what: str) -> str | None:
    """None, or text (a key or an endpoint of another type failed deep in a render)."""
    if v is None or isinstance(v, str):
        return v
    raise _bad(name, f"text ({what})", v)


def jobs_arg(jobs: object) -> int:
    return whole(jobs, "jobs", "a whole number of 1 or more")


def take_number(n: object) -> int:
    return whole(n, "take", "a take number (a whole number)")


def callback(progress: object) -> Callable[..., object] | None:
    if progress is None or callable(progress):
        return progress
    raise _bad("progress", "a function that takes each event", progress)


def not_in_a_loop(what: str) -> None:
    """``asyncio.run`` cannot start inside a running loop: say what to call instead."""
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise StoryboardError(
        f"{what}() runs its own event loop: inside a running one (async code, Jupyter), "
        f"use `await project.{what}_async(...)`"
    )
