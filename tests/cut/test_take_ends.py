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
from storyboard.cut.picture import video_packets
from storyboard.emulator import Emulator, EmulatorConfig
from storyboard.errors import ComposeError
from storyboard.media.ffmpeg import ffmpeg_exe


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


def test_a_chunk_short_of_its_frames_is_refused(tmp_path: Path) -> None:
    take = tmp_path / "take.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=64x36:r=10:d=1"]
        + ["-c:v", "libx264", "-pix_fmt", "yuv420p", str(take)],
        check=True,
    )
    job = {
        "kind": "copy",
        "file": str(take),
        "scene": "one",
        "src": 5.0,  # past the take's end: no frame to show
        "frames": 4,
        "fps": 10,
        "size": [64, 36],
        "codec": ["-c:v", "libx264", "-pix_fmt", "yuv420p"],
        "threads": 1,
    }
    with pytest.raises(
        ComposeError, match=r"scene one: ffmpeg wrote 0 frame\(s\) where the chunk has 4"
    ):
        encode_chunk(job, str(tmp_path / "chunk.mp4"))
