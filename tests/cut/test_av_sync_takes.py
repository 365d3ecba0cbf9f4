"""Picture and sound stay together whatever the takes look like inside (hostile5 Q1, Q5): each
take flashes white and clicks at 0.1 s, and in the film every flash and its click land at the
same time, scene after scene.

- Q1: takes with B-frames (like the emulator's full-size clips and our own chunks) joined by
  stream copy: each later take's AAC priming packet was kept, the sound 21 ms late per join.
- Q5: takes whose sound runs longer than their picture: the scenes were as long as the sound,
  the film short of frames and its sound drifting by the difference per scene.
"""

from __future__ import annotations

import hashlib
import math
import subprocess
from pathlib import Path

import numpy as np
import pytest
from helpers import write_project

from storyboard.board.spec import load_project
from storyboard.cut.compose import compose_project
from storyboard.generate.state import BuildState, Take
from storyboard.media.ffmpeg import ffmpeg_exe
from storyboard.media.probe import probe

FPS = 10
SIZE = "64x36"


def sync_take(
    path: Path, video: float, sound: float, i: int, fps: int = FPS, audio: tuple[str, ...] = ()
) -> Path:
    """A grey clip with B-frames whose picture flashes white, and whose sound clicks, at 0.1 s."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tone = f"0.05*sin(2*PI*{300 + 50 * i}*t)"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y"]
        + ["-f", "lavfi", "-i", f"color=c=gray:s={SIZE}:r={fps}:d={video}"]
        + ["-f", "lavfi", "-i", f"aevalsrc='if(between(t,0.1,0.102),0.9,{tone})':s=48000:d={sound}"]
        + ["-vf", f"drawbox=enable='between(t,0.099,{0.101 + 1 / fps})':c=white:t=fill"]
        + ["-c:v", "libx264", "-preset", "veryfast", "-bf", "3", "-g", str(2 * fps)]
        + ["-pix_fmt", "yuv420p", "-c:a", "aac", *audio, str(path)],
        check=True,
    )
    return path


def project_of(
    tmp: Path,
    n: int,
    video: float,
    sound: float,
    edit: str,
    fps: int = FPS,
    audio: dict[int, tuple[str, ...]] | None = None,
) -> tuple:
    scenes = "".join(f"  - {{id: s{i}, prompt: 'Scene {i}.', duration: 4}}\n" for i in range(n))
    output = f"output: {{fps: {fps}, size: {SIZE}}}\n"
    p = write_project(tmp / "p", f"title: Sync\nscenes:\n{scenes}edit: {edit}\n{output}")
    state = BuildState(p)
    for i in range(n):
        rel = f"build/takes/s{i}/take-1.mp4"
        f = sync_take(p / rel, video, sound, i, fps, (audio or {}).get(i, ()))
        data = f.read_bytes()
        state.lock[f"s{i}"] = Take(
            f"s{i}", 1, "k", None, f"t{i}", f"v{i}", None, None, rel, len(data),
            hashlib.sha256(data).hexdigest(), 0.4, probe(f).duration,
        )  # fmt: skip
    state.write_lock([f"s{i}" for i in range(n)])
    return load_project(p), state


def flashes(film: Path) -> list[float]:
    """Film times (the frames' own timestamps) of the white frames, the first of each run."""
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(film), "-map", "0:v:0", "-fps_mode", "passthrough"]
        + ["-f", "rawvideo", "-pix_fmt", "gray", "-"],
        capture_output=True,
        check=True,
    ).stdout
    w, h = (int(x) for x in SIZE.split("x"))
    means = np.frombuffer(raw, np.uint8).reshape(-1, w * h).mean(axis=1)
    crc = subprocess.run(  # each decoded frame's pts, in the order the frames come out
        [ffmpeg_exe(), "-v", "error", "-i", str(film), "-map", "0:v:0", "-f", "framecrc", "-"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    tb = next(line for line in crc.splitlines() if line.startswith("#tb 0:")).split(": ")[1]
    num, den = (int(x) for x in tb.split("/"))
    pts = [int(x.split(",")[2]) * num / den for x in crc.splitlines() if x and x[0] != "#"]
    assert len(pts) == len(means)
    white = [i for i, m in enumerate(means) if m > 200]
    return [pts[i] for k, i in enumerate(white) if k == 0 or i - white[k - 1] > 1]


def sound(film: Path) -> np.ndarray:
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(film), "-map", "0:a:0"]
        + ["-f", "s16le", "-ac", "1", "-ar", "48000", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, np.int16)


def clicks(pcm: np.ndarray) -> list[float]:
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > 20000)
    return [int(k) / 48000 for j, k in enumerate(loud) if j == 0 or k - loud[j - 1] > 4800]


def frames_of(film: Path) -> int:
    out = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(film), "-map", "0:v:0", "-f", "framemd5", "-"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sum(1 for line in out.splitlines() if line and not line.startswith("#"))


@pytest.mark.parametrize("fps,seconds", [(10, 8.0), (25, 3.84)])
def test_takes_with_b_frames_joined_by_stream_copy_keep_their_sound_in_sync(
    tmp_path: Path, fps: int, seconds: float
) -> None:
    # whole AAC frames (8 s, 3.84 s at 48 kHz): the copy path (nothing re-encoded) is taken
    edit = "{transition: cut, loudness: 'off'}"
    project, state = project_of(tmp_path, 3, seconds, seconds, edit, fps)
    lines: list[str] = []
    film = compose_project(project, state, log=lines.append)
    assert "copy path" in lines[0]
    flash_at = math.ceil(0.099 * fps) / fps  # the first frame the flash box covers
    want = [k * seconds for k in range(3)]
    # hostile6 R1: the picture was 21 ms late (its first frame at the priming's length)
    assert np.allclose(flashes(film), [w + flash_at for w in want], atol=0.002), flashes(film)
    pcm = sound(film)
    # hostile5 Q1: the sound was 21 ms later at each join
    assert np.allclose(clicks(pcm), [w + 0.1 for w in want], atol=0.002), clicks(pcm)
    assert abs(len(pcm) / 48000 - 3 * seconds) < 0.002


def test_takes_whose_sound_outlasts_their_picture_are_cut_to_the_picture(tmp_path: Path) -> None:
    edit = "{transition: cut, fade_in: 0.05, loudness: 'off'}"  # the full path
    project, state = project_of(tmp_path, 3, 4.0, 4.6, edit)
    lines: list[str] = []
    film = compose_project(project, state, log=lines.append)
    assert "full path" in lines[0]
    assert frames_of(film) == 120  # three 4 s pictures; the sound's extra 0.6 s is not shown
    want = [0.1, 4.1, 8.1]
    assert np.allclose(flashes(film), want, atol=0.002), flashes(film)  # hostile6 R1: +21 ms
    pcm = sound(film)
    assert np.allclose(clicks(pcm), want, atol=0.002), clicks(pcm)
    assert abs(len(pcm) / 48000 - 12.0) <= 1 / FPS


def test_the_takes_sound_is_copied_out_once_and_a_damaged_copy_is_made_again(
    tmp_path: Path,
) -> None:
    from storyboard.cut.chunks import ChunkCache, chunk_key

    project, state = project_of(tmp_path, 3, 8.0, 8.0, "{transition: cut, loudness: 'off'}")
    film = compose_project(project, state, log=lambda s: None)
    cache = ChunkCache(project.build / "chunks")
    keys = [chunk_key("take-sound", {"take": t.media_key}) for t in state.lock.values()]
    apart = [cache.path(k, "m4a") for k in keys]
    joined = cache.path(chunk_key("takes-sound", {"takes": keys}), "m4a")
    assert all(p.is_file() for p in [*apart, joined])
    film.unlink()
    joined.write_bytes(b"not a sound")  # both damaged: made again, from the takes
    apart[1].write_bytes(b"not a sound")
    lines: list[str] = []
    film = compose_project(project, state, log=lines.append)
    assert sum("damaged" in line for line in lines) == 2, lines
    assert joined.read_bytes() != b"not a sound" and apart[1].read_bytes() != b"not a sound"
    pcm = sound(film)
    assert np.allclose(clicks(pcm), [0.1, 8.1, 16.1], atol=0.002), clicks(pcm)


@pytest.mark.parametrize("sound_seconds", [4.0, 4.6])
def test_the_audio_only_path_keeps_picture_and_sound_together(
    tmp_path: Path, sound_seconds: float
) -> None:
    """Plain cuts with the sound re-made (loudness): the picture copied. hostile6 R1: the
    picture was 21 ms late; R2: takes whose sound outlasts their picture left a 0.6 s hold of
    the last frame at each join (the picture advanced by the file's length)."""
    project, state = project_of(
        tmp_path, 3, 4.0, sound_seconds, "{transition: cut, loudness: -16}", 25
    )
    lines: list[str] = []
    film = compose_project(project, state, log=lines.append)
    assert "audio-only path" in lines[0]
    assert frames_of(film) == 300
    want = [0.0, 4.0, 8.0]
    flash_at = math.ceil(0.099 * 25) / 25
    assert np.allclose(flashes(film), [w + flash_at for w in want], atol=0.002), flashes(film)
    pcm = sound(film)
    assert np.allclose(clicks(pcm), [w + 0.1 for w in want], atol=0.002), clicks(pcm)
    assert abs(len(pcm) / 48000 - 12.0) <= 1 / 25


@pytest.mark.parametrize("odd", [("-ar", "44100"), ("-ac", "2")], ids=["44.1kHz", "stereo"])
def test_takes_whose_sound_formats_differ_are_not_joined_by_copy(
    tmp_path: Path, odd: tuple[str, ...]
) -> None:
    """hostile6 R3: a 44.1 kHz (or stereo) take among 48 kHz mono ones was joined by stream
    copy: it played fast (or its sound was lost) and the later scenes drifted."""
    edit = "{transition: cut, loudness: 'off'}"
    project, state = project_of(tmp_path, 3, 3.84, 3.84, edit, 25, {1: odd})
    lines: list[str] = []
    film = compose_project(project, state, log=lines.append)
    assert "audio-only path" in lines[0] and "sample rates or channels differ" in lines[0]
    pcm = sound(film)
    want = [k * 3.84 + 0.1 for k in range(3)]
    assert np.allclose(clicks(pcm), want, atol=0.003), clicks(pcm)
    assert abs(len(pcm) / 48000 - 3 * 3.84) <= 1 / 25
