"""What the executor tells whoever watches a render (the CLI's display, the API's callback)."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Receives per-scene state changes, money spent and notes during a render."""

    def update(self, scene: str, state: str, detail: str = "") -> None: ...
    def add_cost(self, usd: float) -> None: ...
    def note(self, text: str) -> None: ...


class NoProgress:
    """A :class:`Progress` that ignores everything."""

    def update(self, scene: str, state: str, detail: str = "") -> None:
        pass

    def add_cost(self, usd: float) -> None:
        pass

    def note(self, text: str) -> None:
        pass
