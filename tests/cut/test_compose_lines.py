"""What `compose` and `export` play right after spoken lines were inserted, swapped, taken out,
moved or re-worded, before a render (hostile helpers 61 and 64)."""

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
      - {who: coast, line: "Second line.", at: 2.2}
"""
WREN = '      - {who: wren, line: "First line.", at: 0.5}\n'
COAST = '      - {who: coast, line: "Second line.", at: 2.2}\n'
SWAPPED = (
    '      - {who: coast, line: "Second line.", at: 0.5}\n'
    '      - {who: wren, line: "First line.", at: 2.2}\n'
)


WREN_TWICE = SB.replace(COAST, COAST.replace("coast", "wren"))  # both lines wren's


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNWARE_API_KEY", raising=False)
    monkeypatch.delenv("RUNWARE_BASE_URL", raising=False)


def _level(samples: np.ndarray, hz: float, start: float, end: float) -> float:
    e = band_energy(samples, hz - 60, hz + 60)
    return float(e[int(start * 100) : int(end * 100)].mean())


def _rendered(tmp_path: Path, text: str = SB) -> Path:
    p = write_project(tmp_path / "p", text)
    assert storyboard.load(p).render(emulator_latency=0.05, draft=True).ok
    storyboard.load(p).compose()
    return p


def _edit(p: Path, old: str, new: str) -> None:
    y = p / "storyboard.yaml"
    assert old in y.read_text()
    y.write_text(y.read_text().replace(old, new))


def test_compose_after_swapping_two_lines_plays_both(no_key: None, tmp_path: Path) -> None:
    """Two lines (wren at 0.5 s, coast at 2.2 s) swapped in the storyboard, then `compose`.
    `status` says `line:a/1 reuse line:a/2 take 1`, `line:a/2 reuse line:a/1 take 1`, yet the
    compose warns `line:a/1 has no take yet; the film is made without it` and coast's line,
    captioned at 0.5 s, is silent: cut_lock aligns the lines with difflib, which matches only
    one of two swapped lines, and the other line's number loses its take. Each line should play
    its words' take (both exist), as the render that follows copies them for nothing."""
    p = _rendered(tmp_path)
    _edit(p, WREN + COAST, SWAPPED)
    status = {s.scene: s for s in storyboard.load(p).status(draft=True).scenes}
    assert status["line:a/1"].action.startswith("reuse line:a/2"), status["line:a/1"]
    done = storyboard.load(p).compose()
    assert not any("has no take" in w for w in done.warnings), done.warnings
    sound = decode(done.film)
    rex, eve = voice_pitch("Rex"), voice_pitch("Eve")
    assert _level(sound, rex, 0.6, 1.0) > 10 * _level(sound, rex, 3.6, 3.9) + 1e-9
    assert _level(sound, eve, 2.3, 2.8) > 10 * _level(sound, eve, 3.6, 3.9) + 1e-9


def test_edl_after_swapping_two_lines_names_both(no_key: None, tmp_path: Path) -> None:
    """The same swap, then `export --format edl`: the EDL names only one line's sound
    (`* SOUND dialogue ... line:a/2 ...`); coast's line, which has a take, is left out without
    a word. Both lines' takes should be named."""
    p = _rendered(tmp_path)
    _edit(p, WREN + COAST, SWAPPED)
    edl = storyboard.load(p).export("edl", tmp_path / "cut.edl").read_text()
    sounds = [ln for ln in edl.splitlines() if ln.startswith("* SOUND dialogue")]
    assert len(sounds) == 2, edl


def test_compose_after_taking_a_line_out_is_the_film_status_describes(
    no_key: None, tmp_path: Path
) -> None:
    """The first line taken out, then `compose` (the remaining line plays its take: holds).
    `status` then says `film: stale (trim, transition or dialogue of 'a' changed)`, and the
    render that buys nothing composes the film again: the compose hashed the lock's leftover
    `line:a/2` entry (a line no longer in the storyboard) into the film's key, status does not.
    After the compose, status should call the film up to date, and a render that buys nothing
    should leave it as it is."""
    p = _rendered(tmp_path)
    _edit(p, WREN, "")
    storyboard.load(p).compose()
    film = storyboard.load(p).status(draft=True).film
    assert film is not None
    assert film.up_to_date, film.reasons
    assert storyboard.load(p).render(emulator_latency=0.05, draft=True).ok
    assert storyboard.load(p).compose().up_to_date


def test_compose_after_a_line_is_reworded_does_not_play_the_old_words_silently(
    no_key: None, tmp_path: Path
) -> None:
    """`line:a/1`'s words changed (`status`: stale, speech changed), then `compose`. The
    compose plays the old words' take under the new caption (`wren: First line, now
    longer.`, timed to the old take's length) and warns nothing. cut_lock's own rule is that
    `a number whose words are new plays nothing, not the take of the line that had that
    number` (it does so when a line is inserted above): a line re-worded in place should
    likewise not play the old words, or at least the compose should name it as stale."""
    p = _rendered(tmp_path)
    _edit(p, '"First line."', '"First line, now longer."')
    done = storyboard.load(p).compose()
    eve = voice_pitch("Eve")
    sound = decode(done.film)
    played_old = _level(sound, eve, 0.6, 1.0) > 10 * _level(sound, eve, 3.6, 3.9) + 1e-9
    named = any("line:a/1" in w for w in done.warnings)
    assert named or not played_old, done.warnings


def test_compose_after_a_line_moves_to_the_next_scene_plays_it(
    no_key: None, tmp_path: Path
) -> None:
    """coast's line moved from scene a to the start of scene b (whose own line stays), then
    `compose`. `status` says `line:b/1 reuse line:a/2 take 1` (free), but the compose warns
    `line:b/1 has no take yet` and the line is silent under its caption: cut_lock looks for a
    line's words only among its own scene's old lines."""
    two = SB + (
        '  - id: b\n    prompt: "a boat"\n    dialogue:\n'
        '      - {who: wren, line: "Third line.", at: 2.0}\n'
    )
    p = _rendered(tmp_path, two)
    _edit(p, COAST, "")
    _edit(
        p,
        '    dialogue:\n      - {who: wren, line: "Third line."',
        '    dialogue:\n      - {who: coast, line: "Second line.", at: 0.5}\n'
        '      - {who: wren, line: "Third line."',
    )
    status = {s.scene: s for s in storyboard.load(p).status(draft=True).scenes}
    assert status["line:b/1"].action.startswith("reuse line:a/2"), status["line:b/1"]
    done = storyboard.load(p).compose()
    assert not any("has no take" in w for w in done.warnings), done.warnings
    sound = decode(done.film)
    rex = voice_pitch("Rex")
    assert _level(sound, rex, 4.6, 5.0) > 10 * _level(sound, rex, 7.6, 7.9) + 1e-9


def test_compose_right_after_a_pick_over_renumbered_lines_plays_the_pick(
    no_key: None, tmp_path: Path
) -> None:
    """A radio line inserted above wren's two lines; then `pick line:a/1 1` (the take that
    number had: the user's choice, which `pick` confirms: `line:a/1: take 1 is in the cut`,
    and `status` then calls line:a/1 up to date with take 1). The compose right after warns
    `line:a/1 has no take yet; the film is made without it` and plays nothing there:
    cut_lock drops the picked take because its words moved to line:a/2. The README: a
    `compose` right after a pick builds the film `status` describes."""
    p = _rendered(tmp_path)
    _edit(p, "    dialogue:\n", '    dialogue:\n      - {who: coast, line: "Radio.", at: 0.1}\n')
    storyboard.load(p).pick("line:a/1", 1)
    st = {s.scene: s for s in storyboard.load(p).status(draft=True).scenes}
    assert st["line:a/1"].take == 1 and not st["line:a/1"].stale, st["line:a/1"]
    done = storyboard.load(p).compose()
    assert not any("line:a/1 has no take" in w for w in done.warnings), done.warnings


def test_compose_after_a_line_changes_speaker_does_not_play_the_old_voice_silently(
    no_key: None, tmp_path: Path
) -> None:
    """`who: wren` of line 1 changed to `who: coast` (same words), then `compose`: wren's
    voice (Eve's pitch) plays under the caption `coast: First line.`, with no warning."""
    p = _rendered(tmp_path)
    _edit(p, WREN, WREN.replace("wren", "coast"))
    done = storyboard.load(p).compose()
    eve = voice_pitch("Eve")
    sound = decode(done.film)
    played_old = _level(sound, eve, 0.6, 1.0) > 10 * _level(sound, eve, 3.6, 3.9) + 1e-9
    named = any("line:a/1" in w for w in done.warnings)
    assert named or not played_old, done.warnings


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
    p = write_project(tmp_path / "p", WREN_TWICE)
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

    p = write_project(tmp_path / "p", WREN_TWICE)
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
