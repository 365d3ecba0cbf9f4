"""N13: a sound whose model has no published price (every generated effect: mirelo is the
catalogue's only effect model) counted as $0 under ``render --budget``, so a budget never held
it. Now it is refused like an unpriced scene, naming the node and where the storyboard takes
its ``price:`` (USD per second you expect); with one, plan and budget count it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import write_project

from storyboard.board.spec import load_project
from storyboard.cli.main import main
from storyboard.plan.compile import compile_project

BOARD = """
title: T
size: 1280x720
defaults: {duration: 4}
scenes:
  - id: a
    prompt: A lighthouse door at night.
    sounds:
      - {prompt: "a heavy door creaks open", at: 1.0, duration: 1.5%s}
"""


def _plan(p: Path) -> Any:
    return compile_project(load_project(p))


def test_an_unpriced_effect_is_refused_under_a_budget(tmp_path: Path, capsys: Any) -> None:
    p = write_project(tmp_path / "p", BOARD % "")
    plan = _plan(p)
    assert plan.unpriced == ["sfx:a/1"]
    assert main(["render", str(p), "--budget", "100"]) != 0
    err = capsys.readouterr().err
    assert "no source gives the price of sfx:a/1 (mirelo:1@1)" in err
    assert "set `price:` (USD per second you expect) on scene a's sound 1" in err
    assert "nothing was spent" in err and "Traceback" not in err
    assert not (p / "storyboard.lock").exists() and not (p / "build" / "takes").exists()
    # plan still shows it, as not published, and says how to price it
    assert main(["plan", str(p)]) == 0
    out = capsys.readouterr().out
    assert "not published" in out and "set `price:`" in out


def test_a_priced_effect_is_counted_and_held_by_the_budget(tmp_path: Path, capsys: Any) -> None:
    p = write_project(tmp_path / "p", BOARD % ", price: 0.2")
    plan = _plan(p)
    sfx = plan.node("sfx:a/1")
    assert not plan.unpriced and sfx.price_known and sfx.cost == pytest.approx(0.3)
    clip = plan.node("a").cost
    assert main(["plan", str(p)]) == 0
    out = capsys.readouterr().out
    assert "$0.30" in out and "mirelo:1@1; the total" not in out
    # a budget that covers the clip but not the clip and the effect is refused
    assert main(["render", str(p), "--budget", f"{clip + 0.1:.2f}"]) != 0
    err = capsys.readouterr().err
    assert f"this render would cost ${clip + 0.3:.2f}, over the --budget" in err
    assert "nothing was spent" in err


def test_unpriced_music_and_voices_name_where_their_price_goes(tmp_path: Path, capsys: Any) -> None:
    board = """
title: T
size: 1280x720
defaults: {duration: 4}
narrator: {model: "inworld:tts@2", voice: Ashley, language: en%s}
edit:
  music: {prompt: "a slow cello", model: "runware:ace-step@v1.5-base"%s}
scenes:
  - id: a
    prompt: A lighthouse at dusk.
    narration: ["She lit the lamp."]
"""
    p = write_project(tmp_path / "p", board % ("", ""))
    plan = _plan(p)
    assert sorted(plan.unpriced) == ["line:a/1", "music"]
    assert main(["render", str(p), "--budget", "100"]) != 0
    err = capsys.readouterr().err
    assert "on the voice speaking line:a/1, edit.music" in err and "nothing was spent" in err
    p = write_project(tmp_path / "p", board % (", price: 0.01", ", price: 0.002"))
    plan = _plan(p)
    assert not plan.unpriced
    assert plan.node("music").cost > 0 and plan.node("line:a/1").cost > 0


def test_a_price_on_a_sound_file_is_refused_with_its_line(tmp_path: Path, capsys: Any) -> None:
    generated = 'prompt: "a heavy door creaks open", at: 1.0, duration: 1.5%s'
    board = BOARD.replace(generated, "file: door.wav, at: 1.0, price: 0.2")
    p = write_project(tmp_path / "p", board)
    (p / "door.wav").write_bytes(b"RIFF")
    assert main(["plan", str(p)]) != 0
    err = capsys.readouterr().err
    assert "storyboard.yaml:8" in err and "'price' are for generated sounds" in err
    assert "Traceback" not in err
