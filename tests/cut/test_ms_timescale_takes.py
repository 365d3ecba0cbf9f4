"""Plain cuts of constant-rate takes whose MP4 keeps time in milliseconds (`timescale 1000`, as
many muxers and services write it) are now encoded in full.

At 24 fps such a take's frames last 41 or 42 ms by rounding; StreamLayout.constant_rate asks for
one duration exactly, so joins_whole says "its frames are not evenly timed" and the cut takes the
full path (288 of 288 frames encoded; the smart path copies none of them either). The commit
before joined the same takes on the audio-only path, nothing encoded: 288 frames, each within 0.4
ms of its k/24 s, a PNG export of 288 pictures, a clean decode. The check was meant for a frame
50 ms off the grid (test_odd_takes' variable frame rate take), not for a clock's rounding
(hostile helper-63)."""

from __future__ import annotations

from pathlib import Path

from helpers import write_project
from oddtakes import lock_takes, take

from storyboard.board.spec import load_project
from storyboard.cut.compose import compose_film

FPS = 24


def ms_take(path: Path, i: int) -> None:
    take(path, i, fps=FPS, after=("-video_track_timescale", "1000"))


def test_plain_cuts_of_millisecond_timed_takes_are_not_encoded(tmp_path: Path) -> None:
    scenes = "".join(f"  - {{id: s{i}, prompt: 'S {i}.', duration: 4}}\n" for i in range(3))
    p = write_project(
        tmp_path / "p",
        f"title: Odd\nscenes:\n{scenes}edit: {{transition: cut, loudness: 'off', captions: srt}}\n"
        f"output: {{fps: {FPS}, size: 128x72}}\n",
    )
    state = lock_takes(p, [lambda path, i: ms_take(path, i)] * 3)
    film = compose_film(load_project(p), state, log=lambda s: None)
    assert film.frames == 288
    assert film.route in ("copy", "audio-only"), f"{film.route}: {film.why}"
    assert film.frames_encoded == 0
