"""What `plan` and `status` say a short spoken line costs (hostile helper-61)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_project

from storyboard.cli.main import main

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
      - {who: wren, line: "Radio."}
"""


def test_plan_and_status_never_show_a_short_lines_price_as_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A six-character line on xai:tts@0 costs $0.0000252 ($0.0042 per 1,000 characters).
    helper-58's fix made the takes and render tables show its first digit ($0.00003, never
    $0.0000), but `plan`'s sound table still formats it with 4 places ($0.0000) and `status`
    with 2 (next cost $0.00): a price to pay shown as nothing."""
    monkeypatch.delenv("RUNWARE_API_KEY", raising=False)
    p = write_project(tmp_path / "p", SB)
    assert main(["plan", str(p)]) == 0
    row = next(r for r in capsys.readouterr().out.splitlines() if r.startswith("line:a/1"))
    assert "generate" in row and "$0.0000 " not in row + " ", row
    assert main(["status", str(p)]) == 0
    row = next(r for r in capsys.readouterr().out.splitlines() if r.startswith("line:a/1"))
    assert "stale" in row and not row.rstrip().endswith("$0.00"), row
