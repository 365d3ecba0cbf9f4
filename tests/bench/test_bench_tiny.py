"""Every bench under bench/ runs in its tiny mode (a few frames, seconds), so a bench that
breaks fails the suite instead of rotting unseen. A new bench is found here by itself, and
must have a ``--tiny`` mode."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
BENCHES = sorted(
    p for p in BENCH.glob("*.py") if 'if __name__ == "__main__"' in p.read_text(encoding="utf-8")
)
# what each bench must print when it ran through: its ratios
EXPECT = {
    "compose.py": ["ours / hand", "ours / moviepy", "of its frames encoded", "cuts only:"],
    "iterate.py": ["ratios: prompt edit", "no-op", "floor of a one-scene edit"],
    "render.py": ["8 independent scenes", "no-op re-render"],
    "client.py": ["ratio vs baseline", "clip rendering"],
    "plan.py": ["ratio 40/20"],
    "aac_joins.py": ["pre-roll", "after the joins", "ratio"],
}


def test_every_bench_is_known() -> None:
    assert {p.name for p in BENCHES} >= set(EXPECT)


@pytest.mark.parametrize("bench", BENCHES, ids=[p.stem for p in BENCHES])
def test_bench_runs_in_its_tiny_mode(bench: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("RUNWARE_API_KEY", "RUNWARE_BASE_URL")}
    env["TMPDIR"] = str(tmp_path)
    proc = subprocess.run(
        [sys.executable, str(bench), "--tiny"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    for text in EXPECT.get(bench.name, ["ratio"]):
        assert text in proc.stdout, proc.stdout
