from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helpers import write_project

from storyboard.generate.integrity import sha256_file
from storyboard.generate.state import BuildState, Take
from storyboard.media.ffmpeg import ffmpeg_exe

BOARD = """
title: Review Test
defaults: {duration: 4}
scenes:
  - {id: a, prompt: "Scene a, the harbour at dawn."}
  - {id: b, prompt: "Scene b, the gulls over it.", continuity: last_frame}
output: {fps: 25, size: 64x36}
"""


def tiny_clip(path: Path, seconds: float = 1.0, color: str = "red") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i",
         f"color=c={color}:s=64x36:r=25:d={seconds}", "-c:v", "libx264", "-preset",
         "ultrafast", "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(path)],
        check=True,
    )  # fmt: skip
    return path


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Three one-second clips, made once per test session."""
    d = tmp_path_factory.mktemp("clips")
    return {c: tiny_clip(d / f"{c}.mp4", 1.0, c).read_bytes() for c in ("red", "green", "blue")}


@pytest.fixture
def takes_project(tmp_path: Path, clips: dict[str, bytes]) -> Path:
    """Two scenes; scene a has two takes (take 1 in the cut), scene b one."""
    p = write_project(tmp_path / "p", BOARD)
    state = BuildState(p)
    for i, (scene, n, color) in enumerate((("a", 1, "red"), ("a", 2, "green"), ("b", 1, "blue"))):
        rel = f"build/takes/{scene}/take-{n}.mp4"
        (p / rel).parent.mkdir(parents=True, exist_ok=True)
        (p / rel).write_bytes(clips[color])
        take = Take(
            scene, n, "k", None, f"t{i}", f"v{i}", None, None, rel,
            (p / rel).stat().st_size, sha256_file(p / rel), 0.4, 1.0, created_at=1_700_000_000 + i,
        )  # fmt: skip
        state.add_take(take)
        if n == 1:
            state.lock[scene] = take
    state.write_lock(["a", "b"])
    state.close()
    return p
