"""`status`, `takes` and `plan` take `--draft` like `render` and `pick` (hostile2 H17): on a
project rendered with `render --draft` they judge the draft takes as current, so they show what
an edit would redo instead of calling everything stale at full price."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_project

from storyboard.cli.main import main

BOARD = """\
title: D
model: google:3@3
defaults: {duration: 4}
scenes:
  - {id: a, prompt: A kite over the sea.}
  - {id: b, prompt: The kite lands.}
"""


def test_draft_views(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.delenv("RUNWARE_API_KEY", raising=False)
    p = write_project(tmp_path / "p", BOARD)
    fast = ["--emulator-latency", "0.05"]  # only for speed
    assert main(["render", str(p), "--draft", "--no-compose", "--quiet", *fast]) == 0
    capsys.readouterr()
    assert main(["status", str(p), "--draft"]) == 0
    assert "0 of 2 scenes stale" in capsys.readouterr().out
    assert main(["takes", str(p), "a", "--draft"]) == 0
    assert " current " in capsys.readouterr().out
    assert main(["plan", str(p), "--draft"]) == 0
    drafted = capsys.readouterr().out
    (p / "storyboard.yaml").write_text(BOARD.replace("The kite lands.", "It lands."))
    assert main(["plan", str(p), "--draft"]) == 0
    edited = capsys.readouterr().out

    def generated(out: str) -> list[str]:
        return [r.split()[0] for r in out.splitlines() if r.rstrip().endswith(" generate")]

    assert generated(drafted) == [] and generated(edited) == ["b"], (drafted, edited)
    assert main(["status", str(p)]) == 0  # without --draft: judged as a full render
    assert "2 of 2 scenes stale" in capsys.readouterr().out
