"""The frame-by-frame path (moviepy, composite._Frames: a fade in that runs over a chunk's
start, a fade out that begins inside a transition, a window entered mid-way) fitted takes by
their stored pixels (hostile helper-63): it neither made a take's pixels square nor fitted a
phone take by the shape it is shown in. Such takes are now fitted by ffmpeg first.

Here a 1 s first scene and `edit.fade_in: 3`: the second scene's frames inside the fade are
made frame by frame. README: "clips of another size are letterboxed or pillarboxed, never
stretched (a clip of non-square pixels is first made square, and a phone's clip turned as its
display matrix says)". A 2:1-pixel take (shows 256x72) fills the 128x72 frame inside the fade
(squeezed; at 3.5 s, past the fade, the ffmpeg graph letterboxes it: black above and below);
a take turned 90 degrees by its display matrix (shows 72x128) is stretched over the whole
frame inside the fade, and pillarboxed after it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import write_project
from oddtakes import frame_at, lock_takes, take

from storyboard.board.spec import load_project
from storyboard.cut.compose import compose_film

W, H, FPS = 128, 72, 10


def turned(path: Path, i: int, seconds: int = 4, vf: str = "", turn: int = 0) -> None:
    before = ("-display_rotation:v:0", str(turn)) if turn else ()
    take(path, i, seconds=seconds, vf=vf, before=before)


def compose(root: Path, second: dict, fade_in: float):  # type: ignore[no-untyped-def]
    p = write_project(
        root,
        "title: Odd\nscenes:\n  - {id: s0, prompt: 'A.', duration: 4}\n"
        "  - {id: s1, prompt: 'B.', duration: 4}\n"
        f"edit: {{transition: cut, loudness: 'off', captions: srt, fade_in: {fade_in}}}\n"
        f"output: {{fps: {FPS}, size: {W}x{H}}}\n",
    )
    makers = [lambda path, i: turned(path, i, seconds=1), lambda path, i: turned(path, i, **second)]
    state = lock_takes(p, makers)
    return compose_film(load_project(p), state, log=lambda s: None)


def frame(film: Path, t: float) -> np.ndarray:
    return frame_at(film, t, W, H)


@pytest.mark.parametrize(
    ("second", "bars"),
    [
        ({"vf": "setsar=2"}, "letterbox"),  # shows 256x72: a 128x36 band
        ({"turn": 90}, "pillarbox"),  # shows 72x128: a 40x72 column
    ],
    ids=["anamorphic", "turned-90"],
)
def test_odd_takes_are_fitted_the_same_inside_a_fade(
    tmp_path: Path, second: dict, bars: str
) -> None:
    film = compose(tmp_path / "p", second, fade_in=3)
    for t in (2.5, 3.5):  # inside the fade (frame by frame), after it (the ffmpeg graph)
        f = frame(film.path, t)
        edge = f[:14].mean() if bars == "letterbox" else f[:, :40].mean()
        assert edge < 10, f"no {bars} bars at {t} s ({edge:.0f}): the take is stretched"
