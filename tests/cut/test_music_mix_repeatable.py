"""The music mix comes out the same every time it is made (issue 19: the film's AAC segments are
kept by the sound they encode; a mix whose last ~0.1 s changed from run to run made the last
segment be encoded again after any edit)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from storyboard.board.schema import Edit
from storyboard.cut.audio import mix_music
from storyboard.media.ffmpeg import ffmpeg_exe


class _TL:
    duration = 42.5
    segments: list = []
    lines: list = []


@pytest.mark.parametrize(
    "music",
    [
        {"file": "bed.wav", "volume": 0.3},
        {"file": "bed.wav", "volume": 0.3, "loop": False},  # hostile N1: ends inside the film
        {"file": "bed.wav", "volume": 0.3, "loop": False, "start": 12.5},
    ],
)
def test_the_music_mix_is_the_same_each_time(tmp_path: Path, music: dict) -> None:
    ff = [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i"]
    native, bed = tmp_path / "native.wav", tmp_path / "bed.wav"
    subprocess.run(
        [*ff, "sine=f=330:r=48000:d=42.5,volume=0.8", "-ac", "2", "-c:a", "pcm_s16le", str(native)],
        check=True,
    )
    subprocess.run([*ff, "sine=f=196:r=48000:d=20", "-ac", "2", str(bed)], check=True)
    edit = Edit.model_validate({"music": music})
    made = set()
    for i in range(12):
        out = mix_music(native, edit, _TL(), bed, tmp_path / f"mix{i}.wav")  # type: ignore[arg-type]
        made.add(hashlib.sha256(out.read_bytes()).hexdigest())
    assert len(made) == 1


def test_the_voices_and_sounds_overlay_is_the_same_each_time(tmp_path: Path) -> None:
    """The overlay of lines and scene sounds (``amix duration=first``) ends its streams inside
    one graph too: one past the film's end, one at another rate, overlapping ones."""
    from storyboard.cut.voice_mix import Overlay, overlay

    ff = [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i"]
    mixed = tmp_path / "mixed.wav"
    subprocess.run(
        [*ff, "sine=f=330:r=48000:d=20,volume=0.5", "-ac", "2", "-c:a", "pcm_f32le", str(mixed)],
        check=True,
    )
    sounds = []
    for name, spec in (("a", "sine=f=880:r=48000:d=1.5"), ("b", "sine=f=1200:r=44100:d=3")):
        sounds.append(tmp_path / f"{name}.wav")
        subprocess.run([*ff, spec, str(sounds[-1])], check=True)
    a, b = sounds
    items = [
        Overlay(a, 2.0),
        Overlay(b, 3.1, 0.5),
        Overlay(b, 18.0, 0.7),
        Overlay(a, 10, length=0.7),
    ]

    class TL:
        duration = 20.0

    made = set()
    for i in range(8):
        out = overlay(mixed, items, TL(), tmp_path / f"o{i}.wav")  # type: ignore[arg-type]
        made.add(hashlib.sha256(out.read_bytes()).hexdigest())
    assert len(made) == 1
