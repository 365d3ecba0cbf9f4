"""Where a take ends inside a film frame (hostile helper-28): a transition window shorter
than one of the take's frames at its very end. The film is made, frame-exact, and a chunk
short of its frames is refused, never cached."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import write_project

import storyboard
from storyboard.cut.chunkjob import encode_chunk
from storyboard.cut.compose import last_frame_start
from storyboard.cut.picture import video_packets
from storyboard.emulator import Emulator, EmulatorConfig
from storyboard.errors import ComposeError
from storyboard.media.ffmpeg import ffmpeg_exe
from storyboard.media.probe import probe_many

pytestmark = pytest.mark.usefixtures("quick_polls")  # only for speed: see conftest


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(latency=0.1, draft=True)) as e:
        yield e


SHORT_WINDOW = """
title: Sixty
model: bytedance:2@1
defaults: {duration: 2}
output: {size: 320x180, fps: 60}
scenes:
  - {id: one, prompt: "A harbour at dawn."}
  - id: two
    prompt: "A boat leaves."
    transition: {type: TYPE, duration: 0.05}
    trim: {in: 0, out: 1.5}
"""


COPY_IN_LAST_FRAME = """
title: In the last frame
model: bytedance:2@1
defaults: {duration: 2}
output: {size: 320x180, fps: 60}
edit: {fade_in: FADE}
scenes:
  - {id: one, prompt: "A harbour at dawn.", trim: {in: TRIM_ONE}}
  - {id: two, prompt: "A boat leaves.", trim: {in: TRIM_TWO}}
"""


@pytest.mark.parametrize(
    "fade,one,two",
    [(0, 0, 1.95), (0.45, 1.5, 0)],
    ids=["a-scene-inside-its-take's-last-frame", "a-fade-in-then-the-last-frame"],
)
def test_a_stretch_starting_inside_the_take_s_last_frame_holds_it(
    tmp_path: Path, emu: Emulator, fade: float, one: float, two: float
) -> None:
    """Hostile helper-29: a copied stretch read from half a film frame before it, past the
    take's last frame (10 fps takes at 60 fps), had no picture at all."""
    board = COPY_IN_LAST_FRAME.replace("FADE", str(fade)).replace("TRIM_ONE", str(one))
    project = storyboard.load(
        write_project(tmp_path / "p", board.replace("TRIM_TWO", str(two))),
        api_key="k",
        base_url=emu.base_url,
    )
    assert project.render(draft=True).ok
    film = project.compose()
    assert video_packets(film.film) == (film.frames, None)


@pytest.mark.parametrize("kind", ["crossfade", "fade"])
def test_a_transition_shorter_than_a_frame_of_the_take_at_its_end(
    tmp_path: Path, emu: Emulator, kind: str
) -> None:
    """The window seeks into the outgoing take half a film frame before it starts: at 60 fps
        from 10 fps takes that was past the take's last frame, and the chunk had no picture (it
        was xfade's hard cut to the incoming take before; a fade through black failed as now the
    crossfade did); the last frame is held now."""
    project = storyboard.load(
        write_project(tmp_path / "p", SHORT_WINDOW.replace("TYPE", kind)),
        api_key="k",
        base_url=emu.base_url,
    )
    assert project.render(draft=True).ok  # the emulator's draft clips: 10 fps
    film = project.compose()
    assert not film.up_to_date and film.frames > 0
    assert video_packets(film.film) == (film.frames, None)  # every frame, evenly timed


def _take(path: Path, seconds: float = 1) -> Path:
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", f"testsrc2=s=64x36:r=10:d={seconds}"]
        + ["-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )
    return path


def _copy(take: Path, src: float, frames: int) -> dict[str, object]:
    return {
        "kind": "copy",
        "file": str(take),
        "scene": "one",
        "src": src,
        "frames": frames,
        "fps": 30,
        "size": [64, 36],
        "codec": ["-c:v", "libx264", "-pix_fmt", "yuv420p"],
        "threads": 1,
    }


def test_a_chunk_short_of_its_frames_is_refused(tmp_path: Path) -> None:
    take = _take(tmp_path / "take.mp4")  # 1 s at 10 fps: 30 film frames at 30 fps
    dest = tmp_path / "chunk.mp4"
    with pytest.raises(ComposeError, match=r"scene one: ffmpeg wrote 0 frame\(s\) where the"):
        encode_chunk(_copy(take, 5.0, 4), str(dest))  # past the take's end: nothing to show
    # one frame short is held (the end of a take a fraction of a frame short of its scene);
    # more is refused (hostile helper-29: without a limit a damaged tail froze into the film)
    assert encode_chunk(_copy(take, 0.0, 31), str(dest)) == 31
    with pytest.raises(ComposeError, match=r"wrote 31 frame\(s\) where the chunk has 32"):
        encode_chunk(_copy(take, 0.0, 32), str(dest))


def test_a_variable_frame_rate_take_s_last_frame_is_where_its_packets_say(
    tmp_path: Path,
) -> None:
    """Hostile helper-29: the last frame's start was the picture's end less one frame at the
    take's average rate, after the real one when the last frame lasts longer."""
    vfr = tmp_path / "vfr.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=64x36:r=10:d=1"]
        + ["-vf", "setpts='if(lt(N,8),N*0.1,0.8+(N-8)*0.5)/TB'", "-fps_mode", "passthrough"]
        + ["-c:v", "libx264", "-bf", "0", "-pix_fmt", "yuv420p", "-video_track_timescale"]
        + ["1000", str(vfr)],
        check=True,
    )
    info = probe_many([vfr])[vfr]
    assert info.last_frame == pytest.approx(1.3, abs=1e-3)
    assert last_frame_start(info) == info.last_frame
    # a window at its very end reads from that frame: the chunk has its frames
    job = _copy(vfr, info.picture_seconds - 0.01, 1)
    job["last"] = last_frame_start(info)
    assert encode_chunk(job, str(tmp_path / "end.mp4")) == 1


SHORT_FADE = """
title: Blink
model: bytedance:2@1
defaults: {duration: 2}
output: {size: 320x180, fps: FPS}
scenes:
  - {id: one, prompt: "A harbour at dawn.", trim: {out: OUT}}
  - id: two
    prompt: "A boat leaves."
    transition: {type: fade, duration: SECONDS}
"""


@pytest.mark.parametrize(
    "fps,seconds,out",
    [(30, 0.03, 2), (30, 0.04, 2), (25, 0.05, 2), (60, 0.03, 2), (24, 0.1, 2), (7, 0.4, 0.3)],
)
def test_a_fade_through_black_of_a_frame_or_two(
    tmp_path: Path, emu: Emulator, fps: int, seconds: float, out: float
) -> None:
    """Hostile helper-30 and helper-31: a fade through black that comes to one or two film
    frames (a "blink to black"; or a scene trimmed to two frames under a longer fade) failed
    the compose with ffmpeg's "output (s1) unconnected": the window's frames were all on one
    side of the fade's middle, so one of its two pictures was read and never used."""
    board = SHORT_FADE.replace("FPS", str(fps)).replace("SECONDS", str(seconds))
    project = storyboard.load(
        write_project(tmp_path / "p", board.replace("OUT", str(out))),
        api_key="k",
        base_url=emu.base_url,
    )
    assert project.render(draft=True).ok
    film = project.compose()
    assert video_packets(film.film) == (film.frames, None)


def _numbered(path: Path) -> Path:
    """A 2 s take at 10 fps whose frame n has luma 40 + 8n (lossless)."""
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "color=black:s=64x36:r=10:d=2"]
        + ["-vf", "format=yuv420p,geq=lum='40+N*8':cb=128:cr=128"]
        + ["-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )
    return path


def _frame_numbers(chunk: Path) -> list[int]:
    import numpy as np

    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(chunk), "-f", "rawvideo", "-pix_fmt", "yuv420p"]
        + ["-"],
        capture_output=True,
        check=True,
    ).stdout
    planes = np.frombuffer(raw, np.uint8).reshape(-1, 64 * 36 * 3 // 2)[:, : 64 * 36]
    return [round((float(p.mean()) - 40) / 8) for p in planes]


@pytest.mark.parametrize(
    "fps,src,shown",
    [
        (25, 0.04, [0, 1, 1, 1, 2, 2, 3, 3, 3, 4]),  # 0.06 s to frame 1: 1.5 film frames, a tie
        (30, 1 / 30, [0, 0, 1, 1, 1, 2, 2, 2, 3, 3]),
        (60, 1 / 60, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]),
        (60, 1.25, [12, 12, 12, 13, 13, 13, 13, 13, 13, 14]),
        (30, 0.5, [5, 5, 5, 6, 6, 6, 7, 7, 7, 8]),  # on a take frame: as it always was
    ],
)
def test_a_stretch_starting_inside_a_take_frame_shows_that_frame(
    tmp_path: Path, fps: int, src: float, shown: list[int]
) -> None:
    """A stretch read from a take whose frames last longer than the film's (a 10 fps take
    here; a 24 fps take in a 60 fps film alike) starting inside one of them: the chunk began
    with the next frame, early by up to two film frames, and kept its frame count, so nothing
    said so (found under hostile helper-30/31's one-frame fades). Each film frame now shows
    the take's frame nearest to it, the one showing at the start held."""
    take = _numbered(tmp_path / "take.mp4")
    job = _copy(take, src, 10)
    job["fps"] = fps
    dest = tmp_path / "chunk.mp4"
    assert encode_chunk({**job, "codec": ["-c:v", "libx264", "-qp", "0"]}, str(dest)) == 10
    assert _frame_numbers(dest) == shown
