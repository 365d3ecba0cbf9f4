"""Progress where the time goes: per scene during generation, per frame during compose.

On a terminal a live table (rich) whose timers tick (each scene's, and the overall clock), then
a progress bar with frames and ETA while the film is composed; otherwise plain timestamped
lines, one per change (and one per tenth of the film while composing).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import IO, Any

from storyboard.money import usd

DONE_STATES = ("cached", "done", "failed", "skipped")


class Reporter:
    """Collects per-scene states; prints them live or line by line (to stderr)."""

    def __init__(
        self,
        scenes: list[str],
        stream: IO[str] | None = None,
        live: bool | None = None,
        quiet: bool = False,
        clock: Callable[[], float] = time.monotonic,
        placeholder: bool = False,
    ):
        self.stream = stream or sys.stderr
        self.clock = clock
        self.scenes = scenes
        self.state: dict[str, str] = {s: "queued" for s in scenes}
        self.detail: dict[str, str] = {s: "" for s in scenes}
        self.started: dict[str, float] = {}
        self.ended: dict[str, float] = {}
        self.spent = 0.0
        self.placeholder = placeholder  # emulator work: nothing is paid, it "would cost"
        self.t0 = clock()
        self.quiet = quiet
        self.live_mode = (self.stream.isatty() if live is None else live) and not quiet
        self._live: Any = None
        self.notes: list[str] = []
        self.finished: float | None = None

    def __enter__(self) -> Reporter:
        if self.live_mode:
            from rich.console import Console
            from rich.live import Live

            # the Live renders this object at every refresh (__rich__): the timers tick even
            # while no scene changes state (a real generation takes minutes)
            self._live = Live(
                self,
                console=Console(file=self.stream),
                refresh_per_second=8,
                transient=False,
            )
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self.finished = self.clock()
            self._live.refresh()
            self._live.__exit__(None, None, None)
            self._live = None

    def __rich__(self) -> Any:
        return self._table()

    def update(self, scene: str, state: str, detail: str = "") -> None:
        """A scene changed state (its timer starts when it leaves ``queued``/``waiting``)."""
        now = self.clock()
        if state not in ("queued", "waiting") and scene not in self.started:
            self.started[scene] = now
        if state in DONE_STATES:
            self.ended[scene] = now
        if self.state.get(scene) == state and self.detail.get(scene) == detail:
            return
        self.state[scene], self.detail[scene] = state, detail
        if self._live is not None:
            self._live.refresh()
        elif not self.quiet:
            extra = f": {detail}" if detail else ""
            if state == "done":
                extra += f" ({self._money('{} spent')} so far)"
            print(f"[{now - self.t0:6.1f}s] {scene}: {state}{extra}", file=self.stream, flush=True)

    def _money(self, paid: str) -> str:
        """The money so far: ``paid`` filled with the amount, or the placeholder's words."""
        if self.placeholder:
            return f"$0 (would cost {usd(self.spent)})"
        return paid.format(usd(self.spent))

    def add_cost(self, usd: float) -> None:
        """Money spent on a task."""
        self.spent += usd
        if self._live is not None:
            self._live.refresh()

    def note(self, text: str) -> None:
        """A one-line remark (printed at once in plain mode, after the table when live)."""
        self.notes.append(text)
        if self._live is not None:
            self._live.console.print(f"note: {text}")
        elif not self.quiet:
            print(f"note: {text}", file=self.stream, flush=True)

    def elapsed(self, scene: str) -> float:
        """Seconds the scene has been (or was) in work."""
        if scene not in self.started:
            return 0.0
        end = self.ended.get(scene, self.finished if self.finished is not None else self.clock())
        return end - self.started[scene]

    def total(self) -> float:
        """The overall clock."""
        return (self.finished if self.finished is not None else self.clock()) - self.t0

    def _table(self) -> Any:
        from rich.table import Table

        colours = {"done": "green", "cached": "cyan", "failed": "red", "skipped": "yellow"}
        title = f"{_clock(self.total())} elapsed, {self._money('spent {}')}"
        table = Table(title=title, title_justify="right", expand=False)
        for col in ("scene", "state", "detail", "time"):
            table.add_column(col)
        for s in self.scenes:
            st = self.state[s]
            c = colours.get(st, "white")
            table.add_row(s, f"[{c}]{st}[/{c}]", self.detail[s][:70], f"{self.elapsed(s):5.1f}s")
        return table


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m}:{s:02d}"


class ComposeBar:
    """The compose progress: a bar with frames and ETA on a terminal; else a line per tenth."""

    def __init__(
        self,
        stream: IO[str] | None = None,
        live: bool | None = None,
        quiet: bool = False,
        clock: Callable[[], float] = time.monotonic,
        placeholder: bool = False,
    ):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.live_mode = (self.stream.isatty() if live is None else live) and not quiet
        self.clock = clock
        self.t0 = clock()
        self._bar: Any = None
        self._task: Any = None
        self._next_line = 0.0
        self._first: tuple[float, int] | None = None  # (time, frames) of the first report

    def __enter__(self) -> ComposeBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def frames(self, done: int, total: int) -> None:
        """``done`` of ``total`` frames of the film's picture are made."""
        if self.quiet or total <= 0:
            return
        if self.live_mode:
            if self._bar is None:
                from rich.console import Console
                from rich.progress import (
                    BarColumn,
                    MofNCompleteColumn,
                    Progress,
                    TextColumn,
                    TimeElapsedColumn,
                    TimeRemainingColumn,
                )

                self._bar = Progress(
                    TextColumn("compose"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TextColumn("frames"),
                    TimeElapsedColumn(),
                    TextColumn("ETA"),
                    TimeRemainingColumn(),
                    console=Console(file=self.stream),
                    transient=False,
                )
                self._bar.start()
                self._task = self._bar.add_task("compose", total=total)
            self._bar.update(self._task, completed=done, total=total)
            return
        share = done / total
        now = self.clock()
        if self._first is None:
            self._first = (now, done)  # the rate counts from here, not from the render's start
        if share + 1e-9 >= self._next_line or done == total:
            spent = now - self.t0
            t1, d1 = self._first
            rate = (done - d1) / (now - t1) if now > t1 and done > d1 else 0.0
            eta = f", ETA {(total - done) / rate:.0f} s" if rate > 0 and 0 < share < 1 else ""
            print(
                f"[{spent:6.1f}s] compose: {done}/{total} frames ({share:.0%}){eta}",
                file=self.stream,
                flush=True,
            )
            self._next_line = share + 0.1
            if done == total:
                self._next_line = 2.0  # printed once
