"""Fault injection for the emulator: per run (config) or per request, and the wire log.

Per request: ``POST /_emulator/faults`` with a JSON fault or list of faults. ``GET
/_emulator/faults`` answers the active faults and the log of what happened on the wire: each
fault that fired (its kind, the request's task type, before or after processing, the prompt),
each ``conflictTaskUUID`` answer, and the sha256 of each file served (the whole file, even when
a fault cuts the body short), so a test can
prove a fault struck in the phase it names and compare a take with the bytes the emulator sent.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("latency", "status", "cut", "drop", "truncate", "slow", "error", "nsfw")


@dataclass
class Fault:
    """One injected fault.

    kind:
      latency   add ``delay`` seconds before answering
      status    answer HTTP ``status`` (429 sends ``Retry-After: retry_after``), do nothing else
      cut       close the TCP connection without an answer before the request is processed
                (nothing is accepted or charged; for a download, before any byte is sent)
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
        self._log: list[dict[str, Any]] = []

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
                self._log.append(
                    {
                        "event": "fault",
                        "kind": f.kind,
                        "task_type": task_type,
                        "after": after or f.kind == "drop",  # drop only strikes after
                        "prompt": (prompt or "")[:80],
                        "at": time.monotonic(),
                    }
                )
                return f
        return None

    def note_conflicts(self, body: Any) -> None:
        """Log each ``conflictTaskUUID`` answer in a response body (a retry met its task)."""
        errors = body.get("errors") if isinstance(body, dict) else None
        with self._lock:
            for e in errors or []:
                if isinstance(e, dict) and e.get("code") == "conflictTaskUUID":
                    self._log.append(
                        {"event": "conflict", "taskUUID": e.get("taskUUID"), "at": time.monotonic()}
                    )

    def note_served(self, name: str, data: bytes) -> None:
        """Log the sha256 of a file the emulator serves (the bytes a take must match)."""
        digest = hashlib.sha256(data).hexdigest()
        with self._lock:
            self._log.append(
                {"event": "served", "file": name, "sha256": digest, "at": time.monotonic()}
            )

    def log(self) -> list[dict[str, Any]]:
        """What happened on the wire, in order (``GET /_emulator/faults`` answers it too)."""
        with self._lock:
            return [dict(e) for e in self._log]

    def to_json(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_json() for f in self._faults]

    def fired(self) -> int:
        """How many times the active faults fired in all (tests wait on this)."""
        with self._lock:
            return sum(f.fired for f in self._faults)
