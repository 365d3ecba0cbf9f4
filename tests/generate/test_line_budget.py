"""`render --budget` and the render's `planned` figure for short lines (hostile helper-64)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_project

import storyboard
from storyboard.cli.main import main
from storyboard.errors import BudgetError

SB = """
title: V
model: google:3@3
cast:
  wren: {description: an old woman, voice: {model: "xai:tts@0", voice: Eve}}
defaults: {duration: 4}
scenes:
  - id: a
    prompt: "an old woman stands"
    dialogue:
      - {who: wren, line: "First line."}
"""


@pytest.fixture
def reworded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Rendered, then the line re-worded to "Hi." ($0.0000126: `plan` says $0.00001)."""
    monkeypatch.delenv("RUNWARE_API_KEY", raising=False)
    monkeypatch.delenv("RUNWARE_BASE_URL", raising=False)
    p = write_project(tmp_path / "p", SB)
    assert storyboard.load(p).render(emulator_latency=0.05, draft=True).ok
    y = p / "storyboard.yaml"
    y.write_text(y.read_text().replace('"First line."', '"Hi."'))
    return p


def test_budget_below_a_short_lines_price_refuses_the_render(reworded: Path) -> None:
    """`render --budget 0.000001` when the only stale task is a line `plan` prices at
    $0.00001 (ten times the budget): the render goes ahead (`rendering 1 of 3 tasks ($0.00
    planned)`) and the line is bought. check_budget rounds the planned total to 4 places
    (0.0000126 -> 0.0) before comparing it with the budget. A budget under the price must
    refuse the render, spending nothing, as for any other price."""
    with pytest.raises(BudgetError):
        storyboard.load(reworded).render(emulator_latency=0.05, draft=True, budget=0.000001)


def test_render_never_says_a_short_lines_render_is_planned_at_zero(
    reworded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The render's first line says `rendering 1 of 3 tasks ($0.00 planned)` for a render that
    buys a $0.0000126 line (`plan`: $0.00001): the planned total is rounded to 4 places first,
    then written by `usd` as $0.00, which the README's money rule (hostile helpers 58, 61)
    says a price to pay never shows. Likewise the budget refusal writes a $0.0000714 line's
    render as `would cost $0.0001` beside the line's own `$0.00007`."""
    assert main(["render", str(reworded), "--draft"]) == 0
    out = capsys.readouterr()
    said = next(ln for ln in (out.out + out.err).splitlines() if "planned)" in ln)
    assert "($0.00 planned)" not in said, said
