"""Bench: rendering on the emulator (issue 4).

* 8 independent 8 s scenes at 1 s emulated latency with --jobs 8, against one scene alone measured
  in the same run (ratio; 8 would mean no parallelism at all);
* the same story's wall time against its critical-path lower bound (longest chain x latency);
* a 6-scene story with an extend chain (3 -> 4 -> 5) against its critical path;
* a no-op re-render (nothing changed): wall time, and tasks charged (must be 0).

    python bench/render.py [--latency 1] [--full-size] [--tiny]

``--tiny``: 0.1 s latency, 4 s scenes, one no-op re-render (the test suite runs it; its figures
mean nothing).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from storyboard.emulator import Emulator, EmulatorConfig


def project(root: Path, name: str, scenes: str) -> Path:
    p = root / name
    p.mkdir()
    (p / "storyboard.yaml").write_text(textwrap.dedent(scenes).lstrip())
    return p


def render(p: Path, emu: Emulator, *extra: str) -> float:
    env = {**os.environ, "RUNWARE_API_KEY": "bench", "RUNWARE_BASE_URL": emu.base_url}
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "storyboard", "render", str(p), "--no-compose", "--quiet", *extra],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=float, default=1.0)
    ap.add_argument("--full-size", action="store_true", help="1280x720 clips instead of drafts")
    ap.add_argument(
        "--tiny", action="store_true", help="0.1 s latency, 4 s scenes, one no-op (smoke test)"
    )
    args = ap.parse_args()
    secs, noops = 8, 3
    if args.tiny:
        args.latency, args.full_size, secs, noops = 0.1, False, 4, 1
    lat = args.latency
    with (
        tempfile.TemporaryDirectory() as d,
        Emulator(EmulatorConfig(latency=lat, draft=not args.full_size, render_workers=2)) as emu,
    ):
        root = Path(d)
        one = project(
            root,
            "one",
            """
            title: one
            scenes:
              - {id: only, prompt: "A single shot.", duration: SECS}
        """.replace("SECS", str(secs)),
        )
        eight_src = "title: eight\nscenes:\n" + "".join(
            f"  - {{id: s{i}, prompt: 'Independent shot number {i}.', duration: {secs}}}\n"
            for i in range(8)
        )
        eight = project(root, "eight", eight_src)
        six = project(
            root,
            "six",
            """
            title: six
            defaults: {duration: SECS}
            scenes:
              - {id: s1, prompt: "Shot one."}
              - {id: s2, prompt: "Shot two."}
              - {id: s3, prompt: "Shot three."}
              - {id: s4, prompt: "Shot four.", continuity: extend}
              - {id: s5, prompt: "Shot five.", continuity: last_frame}
              - {id: s6, prompt: "Shot six."}
        """.replace("SECS", str(secs)),
        )
        single = render(one, emu)
        par = render(eight, emu, "--jobs", "8")
        chain = render(six, emu, "--jobs", "8")
        n = len(emu.ledger)
        noop = min(render(eight, emu) for _ in range(noops))
        charged = len(emu.ledger) - n
    print(f"emulated latency {lat:g} s, {secs} s {'1280x720' if args.full_size else 'draft'} clips")
    print(f"one scene alone:                {single:6.2f} s")
    print(
        f"8 independent scenes, --jobs 8: {par:6.2f} s  = {par / single:4.2f}x one scene "
        f"(8.00x would be serial); critical path {lat:g} s -> ratio {par / lat:4.2f}"
    )
    print(
        f"6 scenes, chain 3->4->5:        {chain:6.2f} s  = {chain / single:4.2f}x one scene; "
        f"critical path {3 * lat:g} s -> ratio {chain / (3 * lat):4.2f}"
    )
    print(
        f"no-op re-render (8 scenes):     {noop:6.2f} s (process start included), "
        f"{charged} tasks charged"
    )


if __name__ == "__main__":
    main()
