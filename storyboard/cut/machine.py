"""How much of the machine a compose may use: the CPUs this process may run on (affinity and
the cgroup's CPU quota), the memory it may still take (the cgroup's limit and the kernel's
available memory), and the cap a user sets for a shared machine (``STORYBOARD_JOBS``).

From those, the picture's pool: how many chunks are encoded at once and how many x264 threads
each gets, so the CPUs are full but not oversubscribed and memory stays within bounds.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from storyboard.errors import StoryboardError

JOBS_ENV = "STORYBOARD_JOBS"
MAX_JOBS = 1024  # more than any machine this runs on has
CGROUP = Path("/sys/fs/cgroup")
MEMORY_SHARE = 0.5  # of the memory available, what the picture's encoders may take
MAX_THREADS = 8  # x264 frame threads per chunk beyond which a second chunk does better


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None


def cgroup_cpu_quota(root: Path = CGROUP) -> float | None:
    """CPUs the cgroup's quota allows (v2 ``cpu.max``, v1 ``cfs_quota/period``), None if
    unlimited."""
    v2 = _read(root / "cpu.max")
    if v2:
        quota, _, period = v2.partition(" ")
        if quota != "max":
            try:
                return max(0.01, int(quota) / int(period or "100000"))
            except ValueError:
                return None
        return None
    q = _read(root / "cpu" / "cpu.cfs_quota_us") or _read(root / "cpu.cfs_quota_us")
    p = _read(root / "cpu" / "cpu.cfs_period_us") or _read(root / "cpu.cfs_period_us")
    try:
        if q is not None and p is not None and int(q) > 0:
            return max(0.01, int(q) / int(p))
    except ValueError:
        pass
    return None


def cgroup_memory_left(root: Path = CGROUP) -> int | None:
    """Bytes the cgroup may still take (limit minus usage), None if unlimited."""
    for limit_f, usage_f in (
        ("memory.max", "memory.current"),
        ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes"),
    ):
        limit, usage = _read(root / limit_f), _read(root / usage_f)
        if limit is None:
            continue
        if limit == "max" or not limit.isdigit() or int(limit) >= 1 << 60:
            return None
        used = int(usage) if usage and usage.isdigit() else 0
        return max(0, int(limit) - used)
    return None


def available_memory(meminfo: Path = Path("/proc/meminfo"), root: Path = CGROUP) -> int | None:
    """Bytes this process can still use: the kernel's MemAvailable and the cgroup's room."""
    found: list[int] = []
    text = _read(meminfo)
    if text:
        for line in text.splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
    left = cgroup_memory_left(root)
    if left is not None:
        found.append(left)
    return min(found) if found else None


def jobs_cap(environ: dict[str, str] | None = None) -> int | None:
    """The user's cap on CPUs for encoding (``STORYBOARD_JOBS``), None when unset."""
    raw = (environ if environ is not None else os.environ).get(JOBS_ENV, "").strip()
    if not raw:
        return None
    shown = repr(raw) if len(raw) <= 40 else f"{raw[:20]!r}... ({len(raw)} characters)"
    digits = raw.isascii() and raw.isdigit()  # not "1_0" or full-width digits (hostile5 Q9)
    figure = raw.lstrip("0") or "0"
    if digits and (len(figure) > 6 or int(figure) > MAX_JOBS):  # hostile F8: not clamped
        raise StoryboardError(f"{JOBS_ENV}={shown}: at most {MAX_JOBS} CPUs")
    n = int(figure) if digits else 0
    if n < 1:
        raise StoryboardError(
            f"{JOBS_ENV}={shown}: expected a whole number of CPUs, 1 or more "
            f"(e.g. {JOBS_ENV}=2 on a shared machine)"
        )
    return n


def usable_cpus() -> int:
    """Whole CPUs this process may use: affinity, then the cgroup's quota."""
    try:
        cpus = float(len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        cpus = float(os.cpu_count() or 1)
    quota = cgroup_cpu_quota()
    if quota is not None:
        cpus = min(cpus, quota)
    return max(1, math.floor(cpus + 1e-9))


def allowed_cpus() -> int:
    """The CPUs this process may use, capped by ``STORYBOARD_JOBS``."""
    cpus = usable_cpus()
    return max(1, min(cpus, jobs_cap() or cpus))


@dataclass(frozen=True)
class PoolPlan:
    """How the picture's chunks are encoded: ``workers`` at once, ``threads`` x264 threads each."""

    workers: int
    threads: int
    cpus: int
    memory: int | None  # bytes available when planned (None: unknown)

    def describe(self) -> str:
        mem = f", {self.memory / 2**30:.1f} GiB free" if self.memory is not None else ""
        return (
            f"{self.workers} chunk(s) at once x {self.threads} encoder thread(s) "
            f"({self.cpus} CPU(s){mem})"
        )


def chunk_memory(width: int, height: int, threads: int) -> int:
    """A generous estimate of one chunk encode's memory: its decoders and moviepy frames, and
    x264's lookahead and frame threads (each holds frames of the film's size)."""
    frame = width * height * 3 // 2
    return 80 * 2**20 + frame * (40 + 8 * threads)


def plan_pool(
    width: int,
    height: int,
    chunks: int,
    cpus: int | None = None,
    memory: int | None = None,
    cap: int | None = None,
) -> PoolPlan:
    """Chunks at once and x264 threads per chunk for this machine.

    Independent chunks scale better than threads inside one encoder, so there are as many
    workers as CPUs (or chunks, or what memory allows) and each gets the CPUs left over as
    threads: ``workers * threads <= cpus``. The sound steps (one ffmpeg at a time, light)
    run beside them.
    """
    cpus = usable_cpus() if cpus is None else cpus
    if cap is not None:
        cpus = min(cpus, cap)
    cpus = max(1, cpus)
    workers = max(1, min(cpus, chunks))
    if memory is not None:
        room = int(memory * MEMORY_SHARE)
        while workers > 1 and workers * chunk_memory(width, height, 1) > room:
            workers -= 1
    threads = max(1, min(MAX_THREADS, cpus // workers))
    return PoolPlan(workers, threads, cpus, memory)


def machine_pool(width: int, height: int, chunks: int) -> PoolPlan:
    """:func:`plan_pool` for this process, with ``STORYBOARD_JOBS`` and the memory available."""
    return plan_pool(width, height, chunks, memory=available_memory(), cap=jobs_cap())
