"""The decode-time check added by "odd takes in the cut" (check_frames / _retime_decode) breaks
every WEBM film whose frame duration is not a whole number of milliseconds (24 or 30 fps:
Matroska's 1 ms time base gives frame steps of 41/42 or 33/34 ms).

Those steps are uneven by rounding, so _uneven_decode returns 0 ("decode times uneven"), the film
is remuxed with dts = N * 42 ms, and read back from Matroska (which keeps no dts) the steps are
41/42 again: compose raises "the joined picture's frames are not evenly timed (its decode times
are not evenly spaced) ... Run `storyboard compose --force`", which fails the same way. The
commit before composed the same film (264 frames, clean decode) (hostile helper-63)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helpers import write_project
from oddtakes import FF, lock_takes, take

from storyboard.board.spec import load_project
from storyboard.cut.compose import compose_film


def compose(root: Path, fps: int, fmt: str, edit: str):  # type: ignore[no-untyped-def]
    scenes = "".join(f"  - {{id: s{i}, prompt: 'Scene {i}.', duration: 4}}\n" for i in range(3))
    p = write_project(
        root,
        f"title: Odd\nscenes:\n{scenes}edit: {edit}\n"
        f"output: {{fps: {fps}, size: 128x72, format: {fmt}}}\n",
    )
    state = lock_takes(p, [lambda path, i: take(path, i, fps=fps)] * 3)
    return compose_film(load_project(p), state, log=lambda s: None)


@pytest.mark.parametrize("fps", [24, 30])
def test_a_webm_film_at_24_or_30_fps_composes(tmp_path: Path, fps: int) -> None:
    edit = "{transition: {type: crossfade, duration: 0.5}, loudness: 'off', captions: srt}"
    film = compose(tmp_path / "p", fps, "WEBM", edit)  # raised ComposeError
    assert film.frames == round(11 * fps)
    e = subprocess.run([FF, "-v", "error", "-i", str(film.path), "-f", "null", "-"],
                       capture_output=True, text=True)  # fmt: skip
    assert e.returncode == 0 and e.stderr.strip() == ""
