"""A take's sound keeps its place against its picture (hostile helper-57: a take whose sound
starts after its first frame played it early, by that much, on both the full and the
audio-only path: the film silently out of sync)."""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
from pathlib import Path

import numpy as np
import pytest
from test_aac_segments import decode, scenes
from test_compose import setup

from storyboard.cut.compose import compose_film
from storyboard.media.ffmpeg import ffmpeg_exe

RATE = 48000


def late_sound(take: Path, by: float) -> None:
    """``take`` remuxed with its sound starting ``by`` seconds after its picture."""
    tmp = take.with_name("late.mp4")
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-i", str(take), "-itsoffset", str(by)]
        + ["-i", str(take), "-map", "0:v", "-map", "1:a", "-c", "copy", str(tmp)],
        check=True,
    )
    tmp.replace(take)


CROSSFADE = "{loudness: 'off', transition: {type: crossfade, duration: 0.25}}"


@pytest.mark.parametrize("edit", ["{loudness: 'off'}", CROSSFADE])
def test_a_sound_that_starts_late_plays_at_its_time(tmp_path: Path, edit: str) -> None:
    sc = scenes(2, 2.0)
    project, state = setup(tmp_path, sc, edit=edit)
    rel = state.lock["s1"].file
    take = project.root / rel
    late_sound(take, 0.5)
    data = take.read_bytes()
    state.lock["s1"] = dataclasses.replace(
        state.lock["s1"], size=len(data), sha256=hashlib.sha256(data).hexdigest()
    )
    state.write_lock(["s0", "s1"])
    film = compose_film(project, state, log=lambda s: None)
    sound = decode(film.path)
    assert film.route == ("audio-only" if "crossfade" not in edit else "full"), film.route
    s1 = 2.0 if "crossfade" not in edit else 1.75  # where scene s1 starts in the film
    quiet = sound[round((s1 + 0.28) * RATE) : round((s1 + 0.45) * RATE)]  # after s0's
    loud = sound[round((s1 + 0.6) * RATE) : round((s1 + 1.2) * RATE)]
    assert np.abs(quiet).max() < 0.003, "s1's sound plays before its time"
    assert np.abs(loud).max() > 0.015, "s1's sound is missing"


def test_a_muted_scene_does_not_silence_the_next_ones_sound_in_a_crossfade(
    tmp_path: Path,
) -> None:
    """Hostile helper-58: `native_audio: mute` on a scene was applied to the film's clip
    sound over the scene's whole stretch, the crossfade into the next scene included, so
    the next take's sound was silent there (and a muted scene leaked ~70 ms past a cut)."""
    sc = scenes(2, 3.0)
    sc[0]["native_audio"] = "mute"
    sc[1]["transition"] = "{type: crossfade, duration: 1.0}"
    project, state = setup(tmp_path, sc, edit="{loudness: 'off'}")
    sound = decode(compose_film(project, state, log=lambda s: None).path)
    muted = sound[round(0.2 * RATE) : round(1.8 * RATE)]
    incoming = sound[round(2.5 * RATE) : round(2.95 * RATE)]  # b fading in, a muted
    after = sound[round(3.2 * RATE) : round(4.5 * RATE)]
    assert np.abs(muted).max() < 0.001
    assert np.abs(incoming).max() > 0.01, "the next scene's sound is silenced in the crossfade"
    assert np.abs(after).max() > 0.015
