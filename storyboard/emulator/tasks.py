"""The emulator's task desk: accepting and charging a checked task, the ledger, and
``getResponse`` (the same for every kind of task; only checking and rendering differ)."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from .faults import FaultBook
from .rules import ApiError, require_uuid

__all__ = ["EmTask", "TaskDesk"]


@dataclass
class EmTask:
    uuid: str
    request: dict[str, Any]
    cost: float
    accepted_at: float
    ready_at: float
    render: Future[list[dict[str, Any]]] | None = None
    error: dict[str, Any] | None = None
    nsfw: bool = False
    priced: bool = True  # False: no source gives the model's price; results carry no cost
    finished_at: float | None = None
    noticed_at: float | None = None
    rendered_at: float | None = None
    polls: int = 0

    def seed(self, k: int) -> int:
        """The seed of result ``k``: derived from the task, so the same task answers alike."""
        return int(hashlib.sha256(f"{self.uuid}:{k}".encode()).hexdigest()[:8], 16)


def wait_for(job: Future[Any]) -> None:
    try:
        job.result()
    except Exception:  # noqa: BLE001, S110 - reported by _finish as the provider's error
        pass


class TaskDesk:
    """Mixed into ``server.Emulator``: what every task kind shares."""

    tasks: dict[str, EmTask]
    ledger: list[dict[str, Any]]
    log: list[dict[str, Any]]  # every inference task accepted, as it was sent (issue 17)
    balance: float | None
    faults: FaultBook
    _lock: threading.RLock
    _pool: ThreadPoolExecutor

    @property
    def _latency(self) -> float:
        return float(self.config.latency)  # type: ignore[attr-defined]

    @property
    def _held(self) -> int | None:
        return self.config.hold_until_accepted  # type: ignore[attr-defined, no-any-return]

    def ledger_json(self) -> dict[str, Any]:
        """A consistent snapshot of the charges and the balance (``GET /_emulator/ledger``)."""
        with self._lock:
            return {"charges": [dict(c) for c in self.ledger], "balance": self.balance}

    def charges(self) -> dict[str, int]:
        """taskUUID -> how many times it was charged (refunds excluded)."""
        out: dict[str, int] = {}
        with self._lock:
            for c in self.ledger:
                if not c.get("refunded"):
                    out[c["taskUUID"]] = out.get(c["taskUUID"], 0) + 1
        return out

    def _new_uuid(self, task: dict[str, Any]) -> str:
        uid = str(task.get("taskUUID") or "")
        require_uuid(uid)
        with self._lock:
            if uid in self.tasks:
                raise ApiError(
                    400,
                    "conflictTaskUUID",
                    f"a task with taskUUID {uid} already exists",
                    "taskUUID",
                )
        return uid

    def _accept(
        self,
        task: dict[str, Any],
        uid: str,
        cost: float | None,
        render: Callable[[EmTask], list[dict[str, Any]]],
    ) -> dict[str, Any]:
        """Charge a checked task, note it in the ledger and start making its result.
        ``cost`` None: no source gives the model's price; it is charged nothing, and its
        results carry no ``cost`` (a figure the emulator does not have: M4)."""
        priced = cost is not None
        cost = cost or 0.0
        kind = str(task.get("taskType"))
        prompt = str(task.get("positivePrompt") or (task.get("speech") or {}).get("text"))
        with self._lock:
            if uid in self.tasks:  # re-check under the lock
                raise ApiError(
                    400,
                    "conflictTaskUUID",
                    f"a task with taskUUID {uid} already exists",
                    "taskUUID",
                )
            if self.balance is not None and self.balance < cost:
                raise ApiError(
                    402,
                    "insufficientCredits",
                    f"insufficient credits: this task costs ${cost:.2f}, the "
                    f"balance is ${self.balance:.2f}",
                )
            if self.balance is not None:
                self.balance = round(self.balance - cost, 6)
            now = time.monotonic()
            em = EmTask(uid, task, cost, now, now + self._latency, priced=priced)
            fault = self.faults.take(("error",), kind, prompt)
            if fault is not None:
                em.error = {"code": fault.code, "message": fault.message}
            em.nsfw = self.faults.take(("nsfw",), kind, prompt) is not None
            self.tasks[uid] = em
            self.log.append(dict(task))
            self.ledger.append(
                {
                    "taskUUID": uid,
                    "taskType": kind,
                    "model": task.get("model"),
                    "cost": cost,
                    "duration": task.get("duration"),
                    "numberResults": task.get("numberResults", 1),
                    "prompt": prompt[:80],
                    "at": time.time(),
                }
            )
        if em.error is None:
            em.render = self._pool.submit(render, em)
        return {"taskType": kind, "taskUUID": uid}

    def _get_response(self, task: dict[str, Any]) -> list[dict[str, Any]]:
        return self._finish(str(task.get("taskUUID") or ""))

    def _finish(self, uid: str, wait: bool = False) -> list[dict[str, Any]]:
        """A task's results, or its progress; ``wait``: made now (``deliveryMethod: sync``)."""
        with self._lock:
            em = self.tasks.get(uid)
        if em is None:
            raise ApiError(404, "taskNotFound", f"no task with taskUUID {uid}", "taskUUID")
        em.polls += 1
        now = time.monotonic()
        if wait:
            em.ready_at = now
            if em.render is not None:
                wait_for(em.render)
        done = now >= em.ready_at and (em.render is None or em.render.done())
        held = self._held
        if held is not None:
            with self._lock:
                done = done and len(self.tasks) >= held
        if not done:
            progress = min(
                99, int(100 * (now - em.accepted_at) / max(1e-6, em.ready_at - em.accepted_at))
            )
            return [
                {
                    "taskType": em.request.get("taskType", "videoInference"),
                    "taskUUID": uid,
                    "status": "processing",
                    "progress": progress,
                }
            ]
        if em.finished_at is None:
            finished = em.ready_at
            if em.rendered_at is not None:
                finished = max(finished, em.rendered_at)
            em.finished_at = finished
        if em.noticed_at is None:
            em.noticed_at = now
        if em.error is not None:
            with self._lock:
                for c in self.ledger:
                    if c["taskUUID"] == uid:
                        c["refunded"] = True
            raise ApiError(200, em.error["code"], em.error["message"])
        assert em.render is not None
        try:
            return em.render.result()
        except Exception as e:  # noqa: BLE001 - a render failure is a provider error
            raise ApiError(500, "inferenceError", f"the emulator failed to render: {e}") from None

    def timings(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {
                    "taskUUID": e.uuid,
                    "finished_at": e.finished_at,
                    "noticed_at": e.noticed_at,
                    "polls": e.polls,
                    "accepted_at": e.accepted_at,
                }
                for e in self.tasks.values()
            ]
