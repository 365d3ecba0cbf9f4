"""A film's compose as a job another process (a Ray worker) can run: plain data in, plain
data out. The driver keeps the project's writer lock and checks every take before sending the
job; the worker composes from that snapshot of the lock, writing the film into the project
folder and the chunks into the shared, content-keyed cache."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storyboard.board.spec import Project

from .compose import ComposeResult, compose_film
from .picture import ChunkRunner


@dataclass
class LockSnapshot:
    """The chosen takes of one film, already checked against their hashes by the driver."""

    root: Path
    lock: dict[str, Any]

    def file_ok(self, take: Any) -> bool:
        """The take is still there with its size (the driver checked its hash)."""
        try:
            return (self.root / take.file).stat().st_size == take.size
        except OSError:
            return False


@dataclass
class ComposeJob:
    """Everything a worker needs to compose one film."""

    spec: Project
    lock: dict[str, Any]
    cache_dir: Path
    force: bool = False
    runner: ChunkRunner | None = None  # where its chunks are encoded (None: in the worker)


@dataclass
class ComposeDone:
    """What a worker sends back: the result and the lines it would have printed."""

    result: ComposeResult
    logs: list[str] = field(default_factory=list)


def compose_job(job: ComposeJob) -> ComposeDone:
    """Compose one film from a snapshot of its lock (run by a worker)."""
    logs: list[str] = []
    res = compose_film(
        job.spec,
        LockSnapshot(job.spec.root, job.lock),
        log=logs.append,
        force=job.force,
        cache_dir=job.cache_dir,
        runner=job.runner,
        evict=False,  # several composes share the cache: the driver trims it once at the end
    )
    return ComposeDone(res, logs)
