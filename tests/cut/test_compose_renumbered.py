"""`compose` and `export` right after a line is inserted above others, before a render (hostile
helper-61)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import write_project
from speechsignal import band_energy, decode

import storyboard
from storyboard.emulator.audio import voice_pitch

SB = """
title: V
model: google:3@3
cast:
  wren: {description: an old woman, voice: {model: "xai:tts@0", voice: Eve}}
  coast: {voice: {model: "xai:tts@0", voice: Rex}}
defaults: {duration: 4}
scenes:
  - id: a
    prompt: "an old woman stands"
    dialogue:
      - {who: wren, line: "First line.", at: 0.5}
      - {who: wren, line: "Second line.", at: 2.2}
"""


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNWARE_API_KEY", raising=False)
    monkeypatch.delenv("RUNWARE_BASE_URL", raising=False)


def _level(samples: np.ndarray, hz: float, start: float, end: float) -> float:
    e = band_energy(samples, hz - 60, hz + 60)
    return float(e[int(start * 100) : int(end * 100)].mean())


def test_compose_after_an_insert_plays_each_line_with_its_own_take(
    no_key: None, tmp_path: Path
) -> None:
    """Rendered and composed; then a radio line (another voice) inserted above the two lines
    and `storyboard compose` run, as the README's loop allows (the lines' takes all exist:
    `status` says `line:a/2 reuse line:a/1 take 1`, `line:a/3 reuse line:a/2 take 1`).

    Found: the compose reads the lock by the old numbers: wren's "First line." take plays at
    0.1 s under the caption "coast: Radio.", "Second line."'s take at 0.5 s under "wren: First
    line.", and at 2.2 s, where "Second line." is captioned, there is silence, with the false
    warning "line:a/3 has no take yet; the film is made without it". Each line should be
    played from its words' take at its own time (a free copy, as render and pick make), or
    the compose should refuse / name the renumbered lines; never another line's voice under a
    caption."""
    p = write_project(tmp_path / "p", SB)
    project = storyboard.load(p)
    assert project.render(emulator_latency=0.05, draft=True).ok
    storyboard.load(p).compose()
    y = p / "storyboard.yaml"
    y.write_text(
        y.read_text().replace(
            "    dialogue:\n", '    dialogue:\n      - {who: coast, line: "Radio.", at: 0.1}\n'
        )
    )
    status = {s.scene: s for s in storyboard.load(p).status(draft=True).scenes}
    assert status["line:a/3"].action.startswith("reuse line:a/2"), status["line:a/3"]
    done = storyboard.load(p).compose()
    assert not any("line:a/3 has no take" in w for w in done.warnings), done.warnings
    sound = decode(done.film)
    eve = voice_pitch("Eve")
    # "Second line." (wren) is captioned from 2.2 s: its sound must be there
    assert _level(sound, eve, 2.3, 2.9) > 10 * _level(sound, eve, 3.6, 3.9) + 1e-9
    # 0.1-0.45 s is coast's line alone: wren's voice must not be heard there
    assert _level(sound, eve, 0.15, 0.45) < 0.1 * _level(sound, eve, 0.7, 1.2)


def test_export_after_an_insert_names_each_line_with_its_own_take(
    no_key: None, tmp_path: Path
) -> None:
    """The same for an exported timeline: each line's sound clip is its words' take."""
    import opentimelineio as otio

    p = write_project(tmp_path / "p", SB)
    assert storyboard.load(p).render(emulator_latency=0.05, draft=True).ok
    import yaml

    before = yaml.safe_load((p / "storyboard.lock").read_text())["scenes"]
    y = p / "storyboard.yaml"
    y.write_text(
        y.read_text().replace(
            "    dialogue:\n", '    dialogue:\n      - {who: coast, line: "Radio.", at: 0.1}\n'
        )
    )
    out = storyboard.load(p).export("otio", tmp_path / "cut.otio")
    tl = otio.adapters.read_from_file(str(out))
    sounds = {
        c.name: c.media_reference.target_url
        for t in tl.tracks
        if t.kind == otio.schema.TrackKind.Audio
        for c in t.find_clips()
        if c.name.startswith("line:")
    }
    assert set(sounds) == {"line:a/2", "line:a/3"}, sounds
    assert sounds["line:a/2"].endswith(before["line:a/1"]["file"]), sounds
    assert sounds["line:a/3"].endswith(before["line:a/2"]["file"]), sounds
