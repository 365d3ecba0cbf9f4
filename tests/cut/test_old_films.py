"""A film composed before "odd takes in the cut" is still "up to date".

filmkey.COMPOSE_VERSION is to be bumped "whenever compose would write a different film from the
same inputs"; this commit changes the film of the same inputs (a phone video's rotation, non-
square pixels, 10-bit takes no longer joined as they are; decode times made again) but left it at
"9". A project whose cuts-only film joined a 180-degree phone take as stored (the scene upside
down) keeps that film: `storyboard compose` says "film up to date" and the upside-down film
stays. Here the old copy route is stood in for by choose_path without the new check
(compose._whole_join_refused returning nothing), exactly what the previous commit did (hostile
helper-63)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import write_project
from oddtakes import frame_at, lock_takes, psnr, take

import storyboard.cut.compose as compose_mod
from storyboard.board.spec import load_project
from storyboard.cut.compose import compose_film

W, H, FPS = 128, 72, 10


def frame(film: Path, t: float) -> np.ndarray:
    return frame_at(film, t, W, H)


def test_a_film_the_previous_compose_joined_wrongly_is_composed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenes = "".join(f"  - {{id: s{i}, prompt: 'S {i}.', duration: 4}}\n" for i in range(3))
    p = write_project(
        tmp_path / "p",
        f"title: Odd\nscenes:\n{scenes}edit: {{transition: cut, loudness: 'off', captions: srt}}\n"
        f"output: {{fps: {FPS}, size: {W}x{H}}}\n",
    )
    turned = ("-display_rotation:v:0", "180")
    state = lock_takes(p, [take, lambda path, i: take(path, i, before=turned), take])
    src = p / "build" / "takes" / "s1" / "take-1.mp4"

    import storyboard.cut.filmkey as filmkey

    with monkeypatch.context() as m:  # the compose before this version: joined as stored
        m.setattr(compose_mod, "_whole_join_refused", lambda tl, layouts: [])
        m.setattr(filmkey, "COMPOSE_VERSION", str(int(filmkey.COMPOSE_VERSION) - 1))
        old = compose_film(load_project(p), state, log=lambda s: None)
    assert old.route == "copy"
    assert psnr(frame(old.path, 5.0), frame(src, 1.0)) < 20  # scene s1 upside down

    again = compose_film(load_project(p), state, log=lambda s: None)
    assert not again.up_to_date, "the film the previous compose made wrongly is kept"
    assert psnr(frame(again.path, 5.0), frame(src, 1.0)) > 30
