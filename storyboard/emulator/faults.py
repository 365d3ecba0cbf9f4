"""Fault injection for the emulator: per run (config) or per request.

Per request: ``POST /_emulator/faults`` with a JSON fault or list of faults.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("latency", "status", "drop", "truncate", "slow", "error", "nsfw")


@dataclass
class Fault:
    """One injected fault.

    kind:
      latency   add ``delay`` seconds before answering
      status    answer HTTP ``status`` (429 sends ``Retry-After: retry_after``), do nothing else
      drop      accept and process the request, then close the connection without an answer
      truncate  (downloads) send half the file, then close
      slow      (downloads) send at ``rate`` bytes per second
      error     the task ends in an ``error`` result with ``code``
      nsfw      the task succeeds with ``NSFWContent: true``
    task_type: ``videoInference``, ``getResponse``, ``imageUpload``, ``download`` or None (any)
    after: ``status`` and ``latency`` act after the request was processed (a task is accepted
    and charged, then the answer is lost or late) instead of before
    times: how many times it fires (None: every time); prompt_contains: only tasks whose prompt
    contains this text.
    """

    kind: str
    task_type: str | None = None
    times: int | None = 1
    status: int = 503
    retry_after: float | None = None
    delay: float = 1.0
    rate: int = 200_000
    code: str = "timeoutProvider"
    message: str = "injected fault"
    prompt_contains: str | None = None
    after: bool = False
    fired: int = field(default=0)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r} (one of {', '.join(KINDS)})")

    @classmethod
    def parse(cls, text: str) -> Fault:
        """Parse ``429:times=3,retry_after=1``, ``drop:task_type=videoInference``, ..."""
        head, _, rest = text.partition(":")
        kw: dict[str, Any] = {}
        if head.isdigit():
            kw["kind"], kw["status"] = "status", int(head)
        else:
            kw["kind"] = head
        for part in filter(None, rest.split(",")):
            k, _, v = part.partition("=")
            if k == "after":
                kw[k] = v.lower() in ("1", "true", "yes")
            elif k in ("times", "status", "rate"):
                kw[k] = None if v in ("", "always", "none") else int(v)
            elif k in ("retry_after", "delay"):
                kw[k] = float(v)
            else:
                kw[k] = v
        return cls(**kw)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class FaultBook:
    """The active faults; thread-safe ``take`` fires a fault at most ``times`` times."""

    def __init__(self, faults: list[Fault] | None = None):
        self._faults = list(faults or [])
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(
        self,
        kinds: tuple[str, ...],
        task_type: str | None,
        prompt: str | None = None,
        after: bool = False,
    ) -> Fault | None:
        with self._lock:
            for f in self._faults:
                if f.kind not in kinds or f.after != after:
                    continue
                if f.task_type is not None and f.task_type != task_type:
                    continue
                if f.prompt_contains is not None and (
                    prompt is None or f.prompt_contains not in prompt
                ):
                    continue
                if f.times is not None and f.fired >= f.times:
                    continue
                f.fired += 1
                return f
        return None

    def to_json(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_json() for f in self._faults]

    def fired(self) -> int:
        """How many times the active faults fired in all (tests wait on this)."""
        with self._lock:
            return sum(f.fired for f in self._faults)
