"""Render progress: one line per scene with its state, elapsed time and dollars spent.

On a terminal a live table (rich); otherwise plain timestamped lines, one per change.
"""

from __future__ import annotations

import sys
import time
from typing import IO, Any

DONE_STATES = ("cached", "done", "failed", "skipped")


class Reporter:
    """Collects per-scene states; prints them live or line by line (to stderr)."""

    def __init__(
        self,
        scenes: list[str],
        stream: IO[str] | None = None,
        live: bool | None = None,
        quiet: bool = False,
    ):
        self.stream = stream or sys.stderr
        self.scenes = scenes
        self.state: dict[str, str] = {s: "queued" for s in scenes}
        self.detail: dict[str, str] = {s: "" for s in scenes}
        self.started: dict[str, float] = {}
        self.ended: dict[str, float] = {}
        self.spent = 0.0
        self.t0 = time.monotonic()
        self.quiet = quiet
        self.live_mode = (self.stream.isatty() if live is None else live) and not quiet
        self._live: Any = None
        self.notes: list[str] = []

    def __enter__(self) -> Reporter:
        if self.live_mode:
            from rich.console import Console
            from rich.live import Live

            self._live = Live(
                self._table(),
                console=Console(file=self.stream),
                refresh_per_second=8,
                transient=False,
            )
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.update(self._table())
            self._live.__exit__(None, None, None)
            self._live = None

    def update(self, scene: str, state: str, detail: str = "") -> None:
        now = time.monotonic()
        if state not in ("queued", "waiting") and scene not in self.started:
            self.started[scene] = now
        if state in DONE_STATES:
            self.ended[scene] = now
        if self.state.get(scene) == state and self.detail.get(scene) == detail:
            return
        self.state[scene], self.detail[scene] = state, detail
        if self._live is not None:
            self._live.update(self._table())
        elif not self.quiet:
            extra = f": {detail}" if detail else ""
            if state == "done":
                extra += f" (${self.spent:.2f} spent so far)"
            print(f"[{now - self.t0:6.1f}s] {scene}: {state}{extra}", file=self.stream, flush=True)

    def add_cost(self, usd: float) -> None:
        self.spent += usd
        if self._live is not None:
            self._live.update(self._table())

    def note(self, text: str) -> None:
        """A one-line remark (printed at once in plain mode, after the table when live)."""
        self.notes.append(text)
        if self._live is not None:
            self._live.console.print(f"note: {text}")
        elif not self.quiet:
            print(f"note: {text}", file=self.stream, flush=True)

    def elapsed(self, scene: str) -> float:
        if scene not in self.started:
            return 0.0
        return self.ended.get(scene, time.monotonic()) - self.started[scene]

    def _table(self) -> Any:
        from rich.table import Table

        colours = {"done": "green", "cached": "cyan", "failed": "red", "skipped": "yellow"}
        table = Table(title=f"spent ${self.spent:.2f}", title_justify="right", expand=False)
        for col in ("scene", "state", "", "time"):
            table.add_column(col)
        for s in self.scenes:
            st = self.state[s]
            c = colours.get(st, "white")
            table.add_row(s, f"[{c}]{st}[/{c}]", self.detail[s][:70], f"{self.elapsed(s):5.1f}s")
        return table
