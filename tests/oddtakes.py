"""Takes made by hand with ffmpeg and put in a project's lock without the service: the cut's
tests of the takes a real service could return (tests/cut/test_odd_takes.py and its kin)."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np

from storyboard.cut.picture import chunk_codec_args
from storyboard.generate.state import BuildState, Take
from storyboard.media.ffmpeg import ffmpeg_exe
from storyboard.media.probe import probe

FF = ffmpeg_exe()


def ff(*args: str) -> None:
    subprocess.run([FF, "-v", "error", "-y", *args], check=True)


def take(
    path: Path,
    i: int,
    *,
    fps: int = 10,
    seconds: int = 4,
    vf: str = "",
    extra: tuple[str, ...] = (),
    before: tuple[str, ...] = (),
    after: tuple[str, ...] = (),
) -> None:
    """A 128x72 test-pattern take with sound (its pitch by ``i``), in the film's own stream
    settings (so it can be copied), a keyframe every 7 frames: ``vf`` filters its picture,
    ``extra`` adds encoder options, and ``before`` or ``after`` copy it again in place with
    those input or output options (``-display_rotation:v:0 90``: a phone's display matrix)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ff(
        "-f", "lavfi", "-i", f"testsrc2=s=128x72:r={fps}:d={seconds}",
        "-f", "lavfi", "-i", f"sine=f={300 + 50 * i}:r=48000:d={seconds}",
        *(["-vf", vf] if vf else []),
        *chunk_codec_args("MP4", 95), "-g", "7", *extra,
        "-c:a", "aac", "-shortest", str(path),
    )  # fmt: skip
    if before or after:
        tmp = path.with_name(f"remuxed-{path.name}")
        ff(*before, "-i", str(path), "-map", "0", *after, "-c", "copy", str(tmp))
        tmp.replace(path)


def lock_takes(p: Path, makers: list[Callable[[Path, int], None]]) -> BuildState:
    """Scene ``s{i}``'s take 1 made by ``makers[i](path, i)`` and put in the lock."""
    state = BuildState(p)
    for i, make in enumerate(makers):
        rel = f"build/takes/s{i}/take-1.mp4"
        (p / rel).parent.mkdir(parents=True, exist_ok=True)
        make(p / rel, i)
        state.lock[f"s{i}"] = Take(
            f"s{i}", 1, "k", None, f"t{i}", f"v{i}", None, None, rel, (p / rel).stat().st_size,
            hashlib.sha256((p / rel).read_bytes()).hexdigest(), 0.4, probe(p / rel).duration,
        )  # fmt: skip
    state.write_lock([f"s{i}" for i in range(len(makers))])
    return state


def frame_at(film: Path, t: float, width: int, height: int) -> np.ndarray:
    """The film's picture at ``t`` seconds, as RGB floats."""
    out = subprocess.run(
        [FF, "-v", "error", "-ss", f"{t:.3f}", "-i", str(film), "-frames:v", "1",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(out, np.uint8).reshape(height, width, 3).astype(np.float64)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a - b) ** 2).mean())
    return 99.0 if mse == 0 else 10 * np.log10(255**2 / mse)
