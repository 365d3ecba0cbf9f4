"""README ("What is guaranteed"): "Every output format is one pixel format, `yuv420p` (H.264 or
VP9 profile 0; plays in a browser)". joins_whole admits `yuvj420p` takes (`\\byuvj?420p\\b`) as
"8-bit 4:2:0", so plain cuts of full-range takes are stream-copied into a `yuvj420p(pc, ...)`
film; with crossfades the smart path replays the takes' own x264 settings and the film is
`yuvj420p(pc, ...)` again. The same takes re-encoded make yuv420p (hostile helper-63)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from helpers import write_project
from oddtakes import FF, lock_takes, take

from storyboard.board.spec import load_project
from storyboard.cut.compose import compose_film


@pytest.mark.parametrize(
    "edit",
    [
        "{transition: cut, loudness: 'off', captions: srt}",
        "{transition: {type: crossfade, duration: 0.5}, loudness: 'off', captions: srt}",
    ],
    ids=["cuts", "crossfades"],
)
def test_full_range_takes_make_a_yuv420p_film(tmp_path: Path, edit: str) -> None:
    scenes = "".join(f"  - {{id: s{i}, prompt: 'S {i}.', duration: 4}}\n" for i in range(3))
    p = write_project(
        tmp_path / "p",
        f"title: Odd\nscenes:\n{scenes}edit: {edit}\noutput: {{fps: 10, size: 128x72}}\n",
    )
    state = lock_takes(p, [lambda path, i: take(path, i, extra=("-pix_fmt", "yuvj420p"))] * 3)
    film = compose_film(load_project(p), state, log=lambda s: None)
    report = subprocess.run([FF, "-hide_banner", "-i", str(film.path)],
                            capture_output=True, text=True).stderr  # fmt: skip
    video = re.search(r"Video: [^\n]*", report).group(0)  # type: ignore[union-attr]
    assert "yuv420p(" in video, video
