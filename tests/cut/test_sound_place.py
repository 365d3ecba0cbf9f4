"""The native track is placed in Python (numpy), sample for sample what ffmpeg's amix made
(issue 19: a process and a pass over every input for the whole film saved on every edit)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_aac_segments import decode, scenes
from test_compose import setup

from storyboard.cut import audio, sound
from storyboard.cut.compose import compose_film


def placed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sc: list[dict]) -> tuple:
    calls: list[tuple] = []

    def spy(tl, tracks, dest, gains=None):  # type: ignore[no-untyped-def]
        calls.append((tl, tracks))
        return audio.place_segments(tl, tracks, dest, gains)

    monkeypatch.setattr(sound, "place_segments", spy)
    project, state = setup(tmp_path, sc, edit="{loudness: 'off'}")
    compose_film(project, state, log=lambda s: None)
    assert len(calls) == 1
    return calls[0]


def test_the_placed_track_is_what_amix_makes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sc = scenes(5, 3.0)
    sc[2]["transition"] = "{type: crossfade, duration: 0.7}"  # two sounds overlap
    sc[3]["clip"] = {"audio": False}  # silence
    sc[4]["clip"] = {"tone": 900, "volume": 0.9}
    tl, tracks = placed(tmp_path, monkeypatch, sc)
    ours = decode(audio.place_segments(tl, tracks, tmp_path / "ours.wav"))
    theirs = decode(audio._place_with_ffmpeg(tl, tracks, tmp_path / "amix.wav"))
    assert len(ours) == len(theirs) == round(tl.duration * 48000)
    assert np.array_equal(ours, theirs)
    assert np.abs(ours).max() > 0.1  # the sound is there, not silence compared with silence
    # each scene's native_audio gain on its own sound (hostile helper-58), both ways alike
    gains = [1.0, 0.0, 0.316228, 1.0, 0.5]
    ours = decode(audio.place_segments(tl, tracks, tmp_path / "g.wav", gains))
    theirs = decode(audio._place_with_ffmpeg(tl, tracks, tmp_path / "ga.wav", gains))
    assert np.abs(ours - theirs).max() < 2e-4


def test_many_blocks_and_a_track_in_another_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sc = scenes(3, 2.0)
    sc[1]["transition"] = "{type: crossfade, duration: 0.5}"
    tl, tracks = placed(tmp_path, monkeypatch, sc)
    monkeypatch.setattr(audio, "PLACE_BLOCK", 10007)  # blocks that cut every track
    ours = decode(audio.place_segments(tl, tracks, tmp_path / "ours.wav"))
    theirs = decode(audio._place_with_ffmpeg(tl, tracks, tmp_path / "amix.wav"))
    assert np.array_equal(ours, theirs)
    # a track that is 16-bit (not what segment_track writes): placed by ffmpeg, not misread
    import subprocess

    from storyboard.media.ffmpeg import ffmpeg_exe

    s16 = tmp_path / "s16.wav"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-i", str(tracks[1]), "-c:a", "pcm_s16le", str(s16)],
        check=True,
    )
    mixed = decode(audio.place_segments(tl, [tracks[0], s16, tracks[2]], tmp_path / "m.wav"))
    assert len(mixed) == len(theirs)
    assert np.abs(mixed - theirs).max() < 1e-3
