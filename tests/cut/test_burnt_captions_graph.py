"""Burnt-in captions are laid over the picture by ffmpeg (hostile helper-48 1 and 2).

They were drawn frame by frame: moviepy decoded each frame to RGB as BT.709 and the encoder took
the RGB back as BT.601, so every captioned frame shifted in colour (3-6 code values of Y, the
whole frame), and that path showed the take frame showing at each film time, where every other
chunk shows the one nearest its start: a trimmed scene froze a frame where a caption began and
skipped one where it ended. Now a captioned chunk is one filter graph like the others, the
caption band an RGBA picture overlaid on the frames it is on, so the rest of the frame is the
copied stretch's own pixels and frames.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
from test_graph_composite import FPS, H, W, clip, psnr

from storyboard.cut.chunkjob import composite_job, copy_job, encode_chunk
from storyboard.cut.graph import graph_args
from storyboard.cut.picture import chunk_codec_args, plan_chunks
from storyboard.cut.timeline import Caption, Segment, Timeline
from storyboard.media.ffmpeg import ffmpeg_exe

CODEC = chunk_codec_args("MP4", 99)
BIG_W, BIG_H = 320, 180  # room for a caption band under an untouched top


def yuv(path: Path, w: int, h: int) -> np.ndarray:
    out = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path)]
        + ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-"],
        check=True,
        capture_output=True,
    ).stdout
    return np.frombuffer(out, np.uint8).reshape(-1, w * h * 3 // 2).astype(float)


def colourful(path: Path) -> str:
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi"]
        + ["-i", f"testsrc2=s={BIG_W}x{BIG_H}:r={FPS}:d=3"]
        + ["-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p"]
        + ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709"]
        + [str(path)],
        check=True,
    )
    return path.name


def one_scene(tmp: Path, src_start: float) -> Timeline:
    no_take: Any = None
    a = colourful(tmp / "a.mp4")
    tl = Timeline([Segment("a", no_take, a, src_start, 2.0, 0.0, "cut", 0.0)], FPS, BIG_W, BIG_H)
    tl.captions = [Caption(0.5, 1.5, "Hello there, keeper.")]
    return tl


def test_a_captioned_stretch_keeps_the_copied_stretchs_colour_and_frames(tmp_path: Path) -> None:
    # a trim that does not fall on a take frame: 5.7 frames in at 10 fps
    tl = one_scene(tmp_path, 0.57)
    chunks = plan_chunks(tl, True)
    (_, f0, f1, _), *_ = [c for c in chunks if c[0] == "composite"]
    assert (f0, f1) == (5, 15)
    job = composite_job(tl, f0, f1, tmp_path, CODEC, 1, burn=True)
    assert graph_args(job, tmp_path) is not None  # one filter graph, not frame by frame
    encode_chunk(job, str(tmp_path / "captioned.mp4"))
    encode_chunk(copy_job(tl, 0, f0, f1, tmp_path, CODEC, 1), str(tmp_path / "plain.mp4"))
    captioned, plain = (
        yuv(tmp_path / "captioned.mp4", BIG_W, BIG_H),
        yuv(tmp_path / "plain.mp4", BIG_W, BIG_H),
    )
    assert len(captioned) == len(plain) == f1 - f0
    top = BIG_W * BIG_H // 2  # the upper half of the luma plane: no caption there
    for i in range(f1 - f0):
        same = psnr(captioned[i][:top], plain[i][:top])
        assert same > 45, f"film frame {f0 + i}: {same:.1f} dB against the uncaptioned frame"
        # and the caption is there, at the bottom
        assert psnr(captioned[i][top : BIG_W * BIG_H], plain[i][top : BIG_W * BIG_H]) < 30


def test_captions_across_a_crossfade_split_into_chunks_that_are_each_one_graph(
    tmp_path: Path,
) -> None:
    no_take: Any = None
    a, b = clip(tmp_path / "a.mp4", "testsrc2"), clip(tmp_path / "b.mp4", "rgbtestsrc")
    tl = Timeline(
        [
            Segment("a", no_take, a, 0.0, 2.0, 0.0, "cut", 0.0),
            Segment("b", no_take, b, 0.0, 2.0, 1.5, "crossfade", 0.5),
        ],
        FPS,
        W,
        H,
        captions=[Caption(1.0, 2.5, "Across the join.")],
    )
    composites = [c for c in plan_chunks(tl, True) if c[0] == "composite"]
    assert [(f0, f1) for _, f0, f1, _ in composites] == [(10, 15), (15, 20), (20, 25)]
    for _, f0, f1, _ in composites:
        job = composite_job(tl, f0, f1, tmp_path, CODEC, 1, burn=True)
        assert graph_args(job, tmp_path) is not None, (f0, f1)
        dest = tmp_path / f"c{f0}.mp4"
        assert encode_chunk(job, str(dest)) == f1 - f0
        assert len(yuv(dest, W, H)) == f1 - f0


def test_a_caption_that_starts_inside_a_chunk_is_on_its_own_frames_only(tmp_path: Path) -> None:
    """A caption beginning in the middle of a crossfade: the window's first frames are the
    blend alone, the rest have the caption (the overlay counts the chunk's frames)."""
    no_take: Any = None
    a, b = colourful(tmp_path / "a.mp4"), colourful(tmp_path / "b.mp4")
    tl = Timeline(
        [
            Segment("a", no_take, a, 0.0, 2.0, 0.0, "cut", 0.0),
            Segment("b", no_take, b, 0.5, 2.0, 1.5, "crossfade", 0.5),
        ],
        FPS,
        BIG_W,
        BIG_H,
        captions=[Caption(1.7, 3.0, "Late.")],
    )
    window = composite_job(tl, 15, 20, tmp_path, CODEC, 1, burn=True)
    bare = composite_job(tl, 15, 20, tmp_path, CODEC, 1, burn=False)
    encode_chunk(window, str(tmp_path / "w.mp4"))
    encode_chunk(bare, str(tmp_path / "bare.mp4"))
    w, b_ = yuv(tmp_path / "w.mp4", BIG_W, BIG_H), yuv(tmp_path / "bare.mp4", BIG_W, BIG_H)
    low = slice(BIG_W * BIG_H // 2, BIG_W * BIG_H)
    captioned = [psnr(w[i][low], b_[i][low]) < 30 for i in range(5)]
    assert captioned == [False, False, True, True, True]  # film frames 17, 18, 19: t >= 1.7


def test_frames_composited_through_rgb_keep_the_films_colour(tmp_path: Path) -> None:
    """What is still composited frame by frame (a window entered mid-way) goes back from RGB
    with the film's matrix: its frames match the copied stretch's, where BT.601 shifted them."""
    from storyboard.cut.composite import FrameFunction

    tl = one_scene(tmp_path, 0.0)
    tl.captions = []
    ff = FrameFunction(tl, tmp_path, None)
    ff.write(5, 15, tmp_path / "rgb.mp4", [*CODEC, "-threads", "1"], lambda n: None)
    ff.close()
    encode_chunk(copy_job(tl, 0, 5, 15, tmp_path, CODEC, 1), str(tmp_path / "plain.mp4"))
    rgb, plain = yuv(tmp_path / "rgb.mp4", BIG_W, BIG_H), yuv(tmp_path / "plain.mp4", BIG_W, BIG_H)
    luma = slice(0, BIG_W * BIG_H)
    worst = min(psnr(rgb[i][luma], plain[i][luma]) for i in range(10))
    assert worst > 40, f"{worst:.1f} dB"


def test_overlapping_captions_show_one_at_a_time(tmp_path: Path) -> None:
    """hostile helper-49: two captions on at once were both laid in the same band, the text
    of one over the other. As frame by frame, the earlier one shows; the later after it."""
    from storyboard.cut.graph import _bands

    tl = one_scene(tmp_path, 0.0)
    tl.captions = [Caption(0.5, 1.0, "One."), Caption(0.8, 1.3, "Two.")]
    job = composite_job(tl, 5, 13, tmp_path, CODEC, 1, burn=True)
    runs = [r for _, _, r in _bands(job, tmp_path)]
    assert runs == [[(0, 4)], [(5, 7)]]  # film frames 5-9 "One.", 10-12 "Two."
    assert encode_chunk(job, str(tmp_path / "both.mp4")) == 8


def test_a_window_without_captions_loads_no_caption_drawing() -> None:
    """Caption drawing loads PIL, numpy and the fonts (0.2-0.3 s); a window none of the film's
    captions are on, the usual one, returns before it, in a process that has not loaded it."""
    code = (
        "import sys\n"
        "from storyboard.cut.graph import _bands\n"
        "job = {'fps': 30, 'f0': 0, 'f1': 10, 'size': (64, 64),\n"
        "       'captions': [(5.0, 6.0, 'Later.')]}\n"
        "assert _bands(job, None) == []\n"
        "print('storyboard.cut.captions' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "False"
