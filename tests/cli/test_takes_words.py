"""`takes` and the render table say what they know (hostile2 H13e): a spoken line's or the
music's take has its real length (it was shown as 0.0 s), a picture has none (`-`); a price
under a cent is not rounded to $0.00; a cached row in the render table costs nothing (`-`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_project

from storyboard.api.results import money_words, placeholder_words
from storyboard.cli.main import main

BOARD = """\
title: M
model: google:3@3
image_model: bfl:6@1
cast:
  wren: {description: "Wren, an old keeper"}
defaults: {duration: 4}
scenes:
  - {id: a, prompt: "Wren waits by the lamp.", cast: [wren]}
edit:
  music: {prompt: "slow piano"}
"""


def test_a_price_under_a_cent_is_not_zero() -> None:
    assert money_words(0.0003) == "$0.0003"
    assert money_words(0.000042) == "$0.00004"  # not $0.0000 (hostile helper-58)
    assert money_words(0.0049) == "$0.0049" and money_words(0.005) == "$0.01"
    assert placeholder_words(0.0003) == "$0 (would cost $0.0003)"
    assert money_words(1.2) == "$1.20" and placeholder_words(0.6) == "$0 (would cost $0.60)"


def test_takes_durations_and_cached_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.delenv("RUNWARE_API_KEY", raising=False)
    p = write_project(tmp_path / "p", BOARD)
    fast = ["--emulator-latency", "0.05"]  # only for speed
    assert main(["render", str(p), "--draft", "--no-compose", "--quiet", *fast]) == 0
    capsys.readouterr()
    assert main(["takes", str(p), "music"]) == 0
    music = capsys.readouterr().out.splitlines()[2]
    assert " 0.0 s" not in music and " s " in music, music
    assert main(["takes", str(p), "cast:wren"]) == 0
    sheet = capsys.readouterr().out.splitlines()[2]
    assert " 0.0 s" not in sheet and " -  " in sheet, sheet
    assert main(["render", str(p), "--draft", "--no-compose"]) == 0
    rows = [r for r in capsys.readouterr().out.splitlines() if " cached " in r]
    assert rows and all("would cost" not in r for r in rows), rows
