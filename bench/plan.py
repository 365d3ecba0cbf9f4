"""Bench: planning a long continuity chain (issue 8). Each scene continues from the one
before it (``continuity: last_frame``), so the graph check walks the longest chain there is.

Measured in the same run: ``storyboard plan`` (load, validate, compile, staleness, table) of a
2000-scene chain against a 200-scene chain. Linear work gives a ratio of about 10; the old
quadratic graph check gave several hundred.

    python bench/plan.py [--small 200] [--large 2000]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import tempfile
import time
from pathlib import Path

from storyboard.cli.main import main


def write_chain(folder: Path, n: int) -> Path:
    lines = ["title: Chain", "defaults: {duration: 4}", "scenes:"]
    lines.append("  - {id: s0, prompt: A kite over the sea.}")
    for i in range(1, n):
        lines.append(
            f'  - {{id: s{i}, prompt: "The kite climbs, shot {i}.", continuity: last_frame}}'
        )
    folder.mkdir(parents=True)
    (folder / "storyboard.yaml").write_text("\n".join(lines) + "\n")
    return folder


def plan_seconds(folder: Path) -> float:
    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(["plan", str(folder)])
    took = time.perf_counter() - start
    assert code == 0, out.getvalue()
    return took


def main_bench() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--large", type=int, default=2000)
    parser.add_argument("--tiny", action="store_true", help="20 and 40 scenes (smoke test)")
    args = parser.parse_args()
    if args.tiny:
        args.small, args.large = 20, 40
    with tempfile.TemporaryDirectory() as d:
        small = write_chain(Path(d) / "small", args.small)
        large = write_chain(Path(d) / "large", args.large)
        os.environ.pop("RUNWARE_API_KEY", None)
        plan_seconds(small)  # warm up imports
        t_small = min(plan_seconds(small) for _ in range(3))
        t_large = min(plan_seconds(large) for _ in range(3))
    print(f"plan {args.small:5d} scenes: {t_small:7.3f} s")
    print(f"plan {args.large:5d} scenes: {t_large:7.3f} s")
    print(
        f"ratio {args.large}/{args.small}: {t_large / t_small:.1f}x "
        f"(linear = {args.large / args.small:.0f}x)"
    )


if __name__ == "__main__":
    main_bench()
