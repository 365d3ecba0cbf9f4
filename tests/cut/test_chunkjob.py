"""A chunk of picture is encoded from plain data by a top-level function (so it can run in
another process or as a Ray task): the job survives a JSON round trip and makes the frames."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from storyboard.cut.chunkjob import composite_job, copy_job, encode_chunk
from storyboard.cut.picture import chunk_codec_args
from storyboard.cut.timeline import Segment, Timeline
from storyboard.media.ffmpeg import ffmpeg_exe
from storyboard.media.probe import probe_many


def clip(path: Path, color: str) -> Path:
    subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"color=c={color}:s=64x36:r=10:d=2",
        ]
        + ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )
    return path


def timeline(tmp: Path) -> Timeline:
    clip(tmp / "a.mp4", "red")
    clip(tmp / "b.mp4", "blue")
    no_take: Any = None
    return Timeline(
        [
            Segment("a", no_take, "a.mp4", 0.0, 2.0, 0.0, "cut", 0.0),
            Segment("b", no_take, "b.mp4", 0.0, 2.0, 1.5, "crossfade", 0.5),
        ],
        10,
        64,
        36,
    )


def test_copy_and_composite_jobs_are_plain_data_and_encode(tmp_path: Path) -> None:
    tl = timeline(tmp_path)
    codec = chunk_codec_args("MP4", 80)
    jobs = [
        copy_job(tl, 0, 0, 15, tmp_path, codec, threads=1),
        composite_job(tl, 15, 20, tmp_path, codec, threads=2, burn=False),
    ]
    made = []
    for i, job in enumerate(jobs):
        plain = json.loads(json.dumps(job))  # nothing in it but plain values
        assert plain == job
        dest = tmp_path / f"part{i}.mp4"
        ticks: list[int] = []
        assert encode_chunk(plain, str(dest), ticks.append) == [15, 5][i]
        assert sum(ticks) == [15, 5][i]
        made.append(dest)
    infos = probe_many(made)
    assert [round(infos[p].video_seconds or 0, 3) for p in made] == [1.5, 0.5]
    assert all(infos[p].width == 64 for p in made)
