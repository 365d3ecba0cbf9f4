"""Bench: the Runware client against the emulator (issue 3).

For 20 tasks at 2 s emulated latency it reports requests per task (polls included) and the mean
delay between a task finishing on the server and the client noticing, for our client (batched
polls, backoff) and for a baseline client measured in the same run (one getResponse request per
task every second, the naive loop). It also reports the emulator's clip-rendering speed at
1280x720 (seconds of video per wall second) against a bare ffmpeg encode of a test pattern with
the same encoder settings.

    python bench/client.py [--tasks 20] [--latency 2]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from storyboard.emulator import Emulator, EmulatorConfig
from storyboard.emulator.clips import ClipSpec, _codec_args, render_clip
from storyboard.generate.client import PollPolicy, RunwareClient
from storyboard.generate.protocol import get_response_task
from storyboard.media.ffmpeg import run_ffmpeg


def _task() -> dict[str, Any]:
    return {
        "taskType": "videoInference",
        "taskUUID": str(uuid.uuid4()),
        "model": "openai:3@1",
        "positivePrompt": "A red kite over a grey sea, bench run.",
        "width": 1280,
        "height": 720,
        "duration": 4,
        "numberResults": 1,
        "includeCost": True,
        "deliveryMethod": "async",
    }


async def ours(emu: Emulator, n: int, poll: PollPolicy) -> dict[str, float]:
    async with httpx.AsyncClient(timeout=30) as http:
        c = RunwareClient(
            http, api_key="bench", base_url=emu.base_url, poll=poll, allow_loopback_http=True
        )
        before = emu.requests
        await asyncio.gather(*(c.run(_task()) for _ in range(n)))
        return {"requests_per_task": (emu.requests - before) / n}


async def naive(emu: Emulator, n: int) -> dict[str, float]:
    async with httpx.AsyncClient(timeout=30) as http:
        headers = {"Authorization": "Bearer bench"}
        before = emu.requests

        async def one() -> None:
            t = _task()
            await http.post(emu.base_url, json=[t], headers=headers)
            while True:
                await asyncio.sleep(1.0)
                r = await http.post(
                    emu.base_url, json=[get_response_task(t["taskUUID"])], headers=headers
                )
                if any(d.get("status") == "success" for d in r.json().get("data", [])):
                    return

        await asyncio.gather(*(one() for _ in range(n)))
        return {"requests_per_task": (emu.requests - before) / n}


def notice_delay(emu: Emulator, uuids_before: set[str]) -> float:
    delays = [
        t["noticed_at"] - t["finished_at"]
        for t in emu.timings()
        if t["taskUUID"] not in uuids_before and t["noticed_at"] is not None
    ]
    return statistics.mean(delays)


def measure(label: str, emu: Emulator, coro: Any) -> dict[str, float]:
    seen = {t["taskUUID"] for t in emu.timings()}
    t0 = time.perf_counter()
    out = asyncio.run(coro)
    out["wall_s"] = time.perf_counter() - t0
    out["notice_delay_s"] = notice_delay(emu, seen)
    print(
        f"  {label:34} requests/task {out['requests_per_task']:5.2f}   "
        f"notice delay {out['notice_delay_s'] * 1000:7.1f} ms   wall {out['wall_s']:5.2f} s"
    )
    return out


def render_speed(seconds: float = 8.0) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as d:
        spec = ClipSpec(
            "A lighthouse on a cliff at dusk, the lamp turning. " * 4,
            1280,
            720,
            seconds,
            30,
            "MP4",
            95,
            7,
        )
        t0 = time.perf_counter()
        render_clip(spec, Path(d) / "a.mp4", "bench")
        ours_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        run_ffmpeg(
            [
                "-f",
                "lavfi",
                "-i",
                f"testsrc2=s=1280x720:r=30:d={seconds}",
                "-f",
                "lavfi",
                "-i",
                f"sine=f=220:r=48000:d={seconds}",
                *_codec_args("MP4", 95, False),
                str(Path(d) / "b.mp4"),
            ],
            what="baseline encode",
        )
        base_s = time.perf_counter() - t0
    return seconds / ours_s, seconds / base_s


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=20)
    ap.add_argument("--latency", type=float, default=2.0)
    ap.add_argument("--tiny", action="store_true", help="3 tasks, 0.2 s latency (smoke test)")
    args = ap.parse_args()
    if args.tiny:
        args.tasks, args.latency = 3, 0.2
    print(f"{args.tasks} tasks, {args.latency:g} s emulated latency (draft clips)")
    emulator_poll = PollPolicy(
        initial_delay=min(1.0, args.latency * 0.5),
        interval=0.25,
        factor=1.3,
        max_interval=1.0,
        batch_window=0.05,
    )
    api_poll = PollPolicy()  # the defaults used against the real API
    with Emulator(EmulatorConfig(latency=args.latency, draft=True, render_workers=2)) as emu:
        base = measure("baseline (1 s fixed, unbatched)", emu, naive(emu, args.tasks))
        api = measure("ours, real-API poll policy", emu, ours(emu, args.tasks, api_poll))
        fast = measure("ours, emulator poll policy", emu, ours(emu, args.tasks, emulator_poll))
    for label, r in (("real-API policy", api), ("emulator policy", fast)):
        print(
            f"  ratio vs baseline, {label}: requests/task "
            f"{r['requests_per_task'] / base['requests_per_task']:.2f}x, notice delay "
            f"{r['notice_delay_s'] / base['notice_delay_s']:.2f}x"
        )
    ours_speed, base_speed = render_speed(0.5 if args.tiny else 8.0)
    print(
        f"clip rendering at 1280x720: {ours_speed:.2f} s of video per s "
        f"(bare ffmpeg test-pattern encode: {base_speed:.2f}; ratio {ours_speed / base_speed:.2f})"
    )


if __name__ == "__main__":
    main()
