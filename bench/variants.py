"""Bench: N variants of one film composed by local processes vs as Ray tasks (issue 20).

One project of S scenes (test-pattern clips with sound, linked in as takes) with N variants
that each need the full compose path and share no chunk (each its own crop focus): every film
is composed from an empty chunk cache twice in the same run,

* locally: `compose_variants("all")`, the films one after another, each with its own pool of
  two chunk encodes (ffmpeg processes), as `storyboard compose --variant all` does;
* on a local Ray instance started here (`num_cpus` = the usable CPUs, loopback, no
  dashboard): `compose_variants("all", on="ray")`, each film's compose a Ray task and each
  chunk encode a Ray task inside it;

and prints the ratio Ray / local, Ray's start-up, and Ray's overhead per task (measured two
ways: the round trip of an empty task, and the extra wall time of the Ray side divided by the
tasks it ran).

    python bench/variants.py [--variants 4] [--scenes 6] [--seconds 4] [--tiny]

``--tiny`` (2 variants of 2 scenes of 1 s at 320x180) is run by the test suite; its figures
mean nothing. Without Ray installed it measures the local side and says so.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.fixtures import make_clips, tiny_project  # noqa: E402
from storyboard.cut.executors import start_local_ray  # noqa: E402


def variants_project(tmp: Path, n: int, scenes: int, seconds: float, size: tuple[int, int]) -> Path:
    """A project whose N variants are crops of the same takes at N focus points."""
    clips = make_clips(tmp, scenes, seconds, size)
    root = tiny_project(
        tmp / "films", clips, size, "{transition: crossfade, loudness: 'off', captions: 'off'}"
    )
    w, h = size
    vw = (h * 9 // 16) // 2 * 2  # a 9:16 crop of the 16:9 takes
    lines = ["variants:"]
    for i in range(n):
        fx = round((i + 0.5) / n, 3)
        lines.append(f"  v{i}: {{size: {vw}x{h}, reframe: crop, focus: [{fx}, 0.5]}}")
    with open(root / "storyboard.yaml", "a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    lock = root / "storyboard.lock"
    for i in range(n):  # the crops use the main film's takes: the same lock
        shutil.copy(lock, root / f"storyboard.v{i}.lock")
    return root


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", type=int, default=4)
    ap.add_argument("--scenes", type=int, default=6)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--tiny", action="store_true", help="2 variants, 2 scenes of 1 s (smoke test)")
    args = ap.parse_args()
    size = (1280, 720)
    if args.tiny:
        args.variants, args.scenes, args.seconds, size = 2, 2, 1.0, (320, 180)
    cpus = len(os.sched_getaffinity(0))
    print(
        f"{cpus} CPUs usable; {args.variants} variants of {args.scenes} scenes x {args.seconds:g} s"
    )
    import storyboard

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        root = variants_project(tmp, args.variants, args.scenes, args.seconds, size)
        project = storyboard.load(root)
        names = project.variants  # the crops only: every film needs the full path
        t0 = time.monotonic()
        local = project.compose_variants(names, cache=tmp / "local-chunks", force=True)
        t_local = time.monotonic() - t0
        chunks = sum(f.encoded for f in local)
        print(f"local processes: {t_local:.2f} s ({len(local)} films, {chunks} chunks encoded)")
        try:
            import ray
        except ImportError:
            print("ratio ray/local: not measured (Ray is not installed: pip install -e '.[ray]')")
            return
        t0 = time.monotonic()
        session = start_local_ray(cpus)
        t_start = time.monotonic() - t0
        try:

            @ray.remote
            def nothing() -> None:
                return None

            ray.get([nothing.remote() for _ in range(cpus)])  # workers up
            trips = []
            for _ in range(20 if not args.tiny else 5):
                t0 = time.monotonic()
                ray.get(nothing.remote())
                trips.append(time.monotonic() - t0)
            t0 = time.monotonic()
            on_ray = project.compose_variants(names, on="ray", cache=tmp / "ray-chunks", force=True)
            t_ray = time.monotonic() - t0
        finally:
            ray.shutdown()
            shutil.rmtree(session, ignore_errors=True)
        tasks = len(on_ray) + sum(f.encoded for f in on_ray)
        print(f"ray start-up: {t_start:.2f} s (not in the ratio)")
        print(
            f"ray: {t_ray:.2f} s ({tasks} tasks: {len(on_ray)} composes, and {tasks - len(on_ray)}"
            " chunks encoded in them: picture chunks as tasks, sound steps inside the compose)"
        )
        print(f"ratio ray/local: {t_ray / t_local:.2f}x")
        print(
            f"ray overhead per task: {statistics.median(trips) * 1000:.1f} ms (empty task round "
            f"trip, median); {(t_ray - t_local) / tasks * 1000:+.0f} ms per task (wall time "
            "over local, spread over the tasks)"
        )


if __name__ == "__main__":
    main()
