"""A take whose display matrix flips it vertically (a mirrored front-camera video turned 180
degrees; `ffmpeg -display_vflip`) is still copied as stored.

ffmpeg reports that matrix as "Display Matrix: rotation of -0.00 degrees"; stream_layout reads
the rotation as -0.0 % 360 == 0, so the take counts as unturned: plain cuts join it by stream
copy (the film shows it upside down against the take as a player shows it, ~6 dB), and on the
smart path its GOPs are copied unflipped between encoded (flipped) edges: frames 42-69 of the
110-frame crossfaded film differ from the same cut re-encoded in full. A horizontal flip
(reported as -180 degrees) is handled (hostile helper-63)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
from helpers import write_project
from oddtakes import FF, lock_takes, psnr, take

import storyboard.cut.picture as picture
from storyboard.board.spec import load_project
from storyboard.cut.compose import compose_film

W, H, FPS = 128, 72, 10
CUT = "{transition: cut, loudness: 'off', captions: srt}"
CROSSFADE = "{transition: {type: crossfade, duration: 0.5}, loudness: 'off', captions: srt}"


def flipped(path: Path, i: int) -> None:
    take(path, i, before=("-display_vflip:v:0",))


def compose(root: Path, makers: list, edit: str, smart: bool = True):  # type: ignore[no-untyped-def]
    scenes = "".join(f"  - {{id: s{i}, prompt: 'S {i}.', duration: 4}}\n" for i in range(3))
    p = write_project(
        root, f"title: Odd\nscenes:\n{scenes}edit: {edit}\noutput: {{fps: {FPS}, size: {W}x{H}}}\n"
    )
    state = lock_takes(p, makers)
    saved = picture.split_for_copy
    if not smart:
        picture.split_for_copy = lambda tl, chunks, root, fmt, codec, *a, **k: (chunks, {}, codec)
    try:
        return compose_film(load_project(p), state, log=lambda s: None)
    finally:
        picture.split_for_copy = saved


def frames(film: Path, t: float | None = None) -> np.ndarray:
    """Frames as a player shows them (ffmpeg's autorotate applies the display matrix)."""
    seek = ["-ss", f"{t:.3f}"] if t is not None else []
    out = subprocess.run(
        [FF, "-v", "error", *seek, "-i", str(film), *(["-frames:v", "1"] if seek else []),
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(out, np.uint8).reshape(-1, H, W, 3).astype(np.float64)


def test_a_vertically_flipped_take_is_not_stream_copied_as_stored(tmp_path: Path) -> None:
    film = compose(tmp_path / "cut", [take, flipped, take], CUT)
    src = tmp_path / "cut" / "build" / "takes" / "s1" / "take-1.mp4"
    shown, played = frames(film.path, 5.0)[0], frames(src, 1.0)[0]
    assert psnr(shown, played) > 30, f"scene s1 shown unflipped ({psnr(shown, played):.1f} dB)"


def test_a_vertically_flipped_take_is_shown_the_same_smart_or_full(tmp_path: Path) -> None:
    smart = compose(tmp_path / "smart", [take, flipped, take], CROSSFADE)
    full = compose(tmp_path / "full", [take, flipped, take], CROSSFADE, smart=False)
    a, b = frames(smart.path), frames(full.path)
    assert len(a) == len(b) == 110
    bad = [k for k in range(110) if psnr(a[k], b[k]) < 30]
    assert bad == [], f"frames {bad} shown otherwise than the full re-encode"
