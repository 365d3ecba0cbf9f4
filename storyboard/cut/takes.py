"""What the cut needs of a chosen take and of the build state, as protocols.

``generate.state.Take`` and ``BuildState`` have these shapes; the cut reads them without
importing the generation package (imports go one way: generate and cut both sit on plan/board).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class ChosenTake(Protocol):
    """The take of a scene that makes the cut (a line of ``storyboard.lock``)."""

    @property
    def n(self) -> int: ...
    @property
    def file(self) -> str: ...  # relative to the project folder
    @property
    def sha256(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def duration(self) -> float | None: ...
    @property
    def offset(self) -> float: ...  # seconds into the file where the scene's footage starts
    @property
    def media_key(self) -> str: ...


class LockSource(Protocol):
    """Anything holding the chosen takes, scene id -> take (the project's build state)."""

    @property
    def lock(self) -> Mapping[str, ChosenTake]: ...

    # Any: the state checks its own takes (those of its lock), not any object of this shape
    def file_ok(self, take: Any) -> bool:
        """The take's file is inside the project, on disk, and its bytes match its hash."""
        ...


class LockView:
    """A build state read through another lock (the lock as the cut reads it before a render:
    ``generate.staleness.cut_lock``); its files are checked by the state. ``left_out``: the
    nodes that lock leaves out on purpose, each with why (the compose says so)."""

    def __init__(
        self,
        source: LockSource,
        lock: Mapping[str, ChosenTake],
        left_out: Mapping[str, str] | None = None,
    ) -> None:
        self._source, self._lock = source, lock
        self.left_out = dict(left_out or {})

    @property
    def lock(self) -> Mapping[str, ChosenTake]:
        return self._lock

    def file_ok(self, take: Any) -> bool:
        return self._source.file_ok(take)
