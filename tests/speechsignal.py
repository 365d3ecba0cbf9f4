"""Finding the emulator's placeholder speech in decoded sound (tests of issue 18).

Placeholder speech lives between 1 and 2.1 kHz; the clips' tones, the music placeholder and
the effect placeholder stay below 700 Hz. So the energy above 900 Hz, in 10 ms frames, is
speech, and where it rises after a quiet stretch a line starts.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np

RATE = 16000
FRAME = 0.01


def decode(path: Path, rate: int = RATE) -> np.ndarray:
    """A file's first audio stream as mono float samples."""
    raw = subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-i",
            str(path),
            "-map",
            "0:a:0",
            "-ac",
            "1",
            "-ar",
            str(rate),
            "-f",
            "f32le",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, dtype=np.float32)


def band_energy(samples: np.ndarray, lo: float, hi: float, rate: int = RATE) -> np.ndarray:
    """Energy between ``lo`` and ``hi`` Hz in each 10 ms frame."""
    n = int(rate * FRAME)
    frames = len(samples) // n
    x = samples[: frames * n].reshape(frames, n) * np.hanning(n)
    spec = np.abs(np.fft.rfft(x, axis=1)) ** 2
    freqs = np.fft.rfftfreq(n, 1 / rate)
    sel = (freqs >= lo) & (freqs <= hi)
    return np.asarray(spec[:, sel].sum(axis=1))


def speech_spans(path: Path, min_gap: float = 0.12) -> list[tuple[float, float]]:
    """(start, end) seconds of each stretch of placeholder speech in a file's sound."""
    e = band_energy(decode(path), 900, 2300)
    low = band_energy(decode(path), 50, 700)
    if not len(e) or e.max() <= 0:
        return []
    # speech frames: clearly above the quiet floor, and not just leakage from loud low sound
    on = (e > e.max() * 0.02) & (e > low * 0.05)
    spans: list[tuple[float, float]] = []
    start = None
    quiet = 0
    gap = int(min_gap / FRAME)
    for i, v in enumerate(on):
        if v:
            if start is None:
                start = i
            quiet = 0
        elif start is not None:
            quiet += 1
            if quiet >= gap:
                spans.append((start * FRAME, (i - quiet + 1) * FRAME))
                start, quiet = None, 0
    if start is not None:
        spans.append((start * FRAME, (len(on) - quiet) * FRAME))
    return spans
