"""Opt-in live check against the real Runware API: ``pytest -m live`` with ``RUNWARE_API_KEY``.

Renders one shortest clip on the cheapest live model whose price is exact (per second, from its
model page), under ``--budget 0.60``; checks the billed cost equals the plan, then composes it.
Deselected by default (``-m 'not live'`` in pyproject) and skipped without a key or under CI.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from helpers import write_project

from storyboard.board.models import PROFILES, ModelProfile
from storyboard.cli.main import main

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        not os.environ.get("RUNWARE_API_KEY") or bool(os.environ.get("CI")),
        reason="live check: needs RUNWARE_API_KEY (and never runs in CI)",
    ),
    pytest.mark.timeout(1200),
]
BUDGET = 0.60


def cheapest() -> tuple[ModelProfile, tuple[int, int], float]:
    """The live, exactly priced, text-to-video model with the cheapest shortest clip."""
    best: list[tuple[float, ModelProfile, tuple[int, int], float]] = []
    for p in PROFILES.values():
        if not p.live or not p.exact_price or p.frames.required:
            continue
        shortest = min(p.duration_set) if p.duration_set else None
        if shortest is None and p.duration_range is not None:
            shortest = p.duration_range[0]
        if shortest is None:
            continue
        for size in p.sizes:
            best.append((p.price(*size) * shortest, p, size, float(shortest)))
    cost, profile, size, seconds = min(best, key=lambda b: b[0])
    assert cost <= BUDGET, f"the cheapest clip costs ${cost:.2f}, over ${BUDGET:.2f}"
    return profile, size, seconds


def test_one_real_clip_costs_what_the_plan_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile, (w, h), seconds = cheapest()
    p = write_project(
        tmp_path / "live",
        f"""
        title: Live check
        model: {profile.air}
        size: {w}x{h}
        scenes:
          - {{id: one, prompt: "A red kite over a grey sea, slow pan.", duration: {seconds:g}}}
        """,
    )
    assert main(["plan", str(p)]) == 0
    planned = round(seconds * profile.price(w, h), 4)
    assert f"${planned:.2f}" in capsys.readouterr().out
    assert main(["render", str(p), "--budget", f"{BUDGET}", "-q"]) == 0
    out = capsys.readouterr().out
    lock = yaml.safe_load((p / "storyboard.lock").read_text())["scenes"]["one"]
    assert lock["made_by"].startswith("runware ")
    assert lock["cost"] == pytest.approx(planned, abs=0.005), (lock["cost"], planned)
    assert (p / lock["file"]).stat().st_size == lock["size"]
    film = next(line.split("film: ", 1)[1] for line in out.splitlines() if "film: " in line)
    assert Path(film).is_file() and Path(film).stat().st_size > 0
