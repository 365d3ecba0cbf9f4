"""Progress of a render, as typed events passed to one callback.

``project.render(progress=print)`` prints each event as a line; a display (the CLI's live
table) matches on the event types instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from storyboard.money import usd


@dataclass(frozen=True)
class SceneUpdate:
    """A scene changed state: ``queued``, ``waiting``, ``submitted``, ``processing``,
    ``downloading``, ``resuming``, ``preparing``, ``cached``, ``done``, ``failed`` or
    ``skipped``."""

    scene: str
    state: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.scene}: {self.state}" + (f": {self.detail}" if self.detail else "")


@dataclass(frozen=True)
class Spent:
    """Money was spent on a task (US dollars). On the emulator nothing is: ``placeholder`` is
    true and ``usd`` is what the task would cost for real."""

    usd: float
    placeholder: bool = False

    def __str__(self) -> str:
        if self.placeholder:
            return f"spent $0 (would cost {usd(self.usd)})"
        return f"spent {usd(self.usd)}"


@dataclass(frozen=True)
class Note:
    """A remark about the result, e.g. an image that was cropped to the frame size."""

    text: str

    def __str__(self) -> str:
        return f"note: {self.text}"


@dataclass(frozen=True)
class Log:
    """What the library is doing, e.g. which backend it uses or which compose path it takes."""

    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Frames:
    """Compose progress: frames of the film's picture done (encoded or found in the chunk
    cache) out of ``total``."""

    done: int
    total: int

    def __str__(self) -> str:
        return f"compose: {self.done}/{self.total} frames"


Event = SceneUpdate | Spent | Note | Log | Frames
"""Everything a progress callback receives."""

ProgressCallback = Callable[[Event], object]
"""A function called with each :data:`Event` (during ``compose``, possibly from a worker thread)."""


class CallbackProgress:
    """Adapts a :data:`ProgressCallback` to the executor's ``Progress`` protocol."""

    def __init__(self, callback: ProgressCallback | None, placeholder: bool = False) -> None:
        self.callback = callback
        self.placeholder = placeholder  # the emulator: Spent says what it would cost

    def emit(self, event: Event) -> None:
        """Pass one event on (nothing when there is no callback)."""
        if self.callback is not None:
            self.callback(event)

    def update(self, scene: str, state: str, detail: str = "") -> None:
        """A scene's state changed."""
        self.emit(SceneUpdate(scene, state, detail))

    def add_cost(self, usd: float) -> None:
        """Money was spent."""
        self.emit(Spent(usd, self.placeholder))

    def note(self, text: str) -> None:
        """A remark for the user."""
        self.emit(Note(text))

    def log(self, text: str) -> None:
        """A line about what the library is doing."""
        self.emit(Log(text))

    def frames(self, done: int, total: int) -> None:
        """Compose progress."""
        self.emit(Frames(done, total))
