"""Composited chunks made by one ffmpeg filter graph show the frames the frame-by-frame
compositor shows: crossfades, fades through black, the film's fade in and out."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from storyboard.cut.chunkjob import composite_job, copy_job, encode_chunk
from storyboard.cut.composite import FrameFunction
from storyboard.cut.graph import graph_args
from storyboard.cut.picture import chunk_codec_args, plan_chunks
from storyboard.cut.timeline import Caption, Segment, Timeline
from storyboard.media.ffmpeg import ffmpeg_exe, run_ffmpeg
from storyboard.media.gop import stream_layout

FPS, W, H = 10, 96, 54


def clip(path: Path, pattern: str) -> str:
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", f"{pattern}=s={W}x{H}:r={FPS}:d=3"]
        + ["-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )
    return path.name


def frames(path: Path) -> np.ndarray:
    out = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        check=True,
        capture_output=True,
    ).stdout
    return np.frombuffer(out, np.uint8).reshape(-1, H, W, 3).astype(float)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a - b) ** 2).mean())
    return 99.0 if mse == 0 else 10 * np.log10(255**2 / mse)


def timeline(tmp: Path, transition: str, fades: tuple[float, float]) -> Timeline:
    no_take: Any = None
    a = clip(tmp / "a.mp4", "testsrc2")
    b = clip(tmp / "b.mp4", "rgbtestsrc")
    c = clip(tmp / "c.mp4", "smptebars")
    return Timeline(
        [
            Segment("a", no_take, a, 0.5, 2.0, 0.0, "cut", 0.0),
            Segment("b", no_take, b, 0.0, 2.0, 1.4, transition, 0.6),
            Segment("c", no_take, c, 0.3, 1.5, 2.9, transition, 0.5),
        ],
        FPS,
        W,
        H,
        *fades,
    )


@pytest.mark.parametrize("transition", ["crossfade", "fade"])
def test_graph_composites_match_the_frame_by_frame_ones(tmp_path: Path, transition: str) -> None:
    tl = timeline(tmp_path, transition, (0.4, 0.7))
    codec = [*chunk_codec_args("MP4", 99), "-threads", "1"]
    chunks = plan_chunks(tl, False)
    composites = [c for c in chunks if c[0] == "composite"]
    _, c0, c1, seg = next(c for c in chunks if c[0] == "copy")
    encode_chunk(copy_job(tl, seg, c0, c1, tmp_path, codec[:-2], 1), str(tmp_path / "copy.mp4"))
    copied = stream_layout(tmp_path / "copy.mp4").signature
    assert len(composites) == 4  # fade in, two transitions, fade out
    for _, f0, f1, _ in composites:
        by_graph = both_ways(tl, f0, f1, tmp_path, codec)
        # the stream settings of the chunks copied from the takes: they join by stream copy
        assert stream_layout(by_graph).signature == copied


def both_ways(tl: Timeline, f0: int, f1: int, tmp: Path, codec: list[str]) -> Path:
    """Frames ``f0..f1`` made by the graph and frame by frame: each frame of one within 30 dB
    PSNR of the other's; returns the graph's chunk."""
    graph = graph_args(composite_job(tl, f0, f1, tmp, codec[:-2], 1, burn=False))
    assert graph is not None
    by_graph, by_frames = tmp / f"g{f0}.mp4", tmp / f"f{f0}.mp4"
    run_ffmpeg([*graph, "-an", *codec, str(by_graph)], what="graph")
    ff = FrameFunction(tl, tmp, None)
    ff.write(f0, f1, by_frames, codec, lambda n: None)
    ff.close()
    g, f = frames(by_graph), frames(by_frames)
    assert len(g) == len(f) == f1 - f0
    for i in range(len(g)):
        assert psnr(g[i], f[i]) > 30, (f0, i, psnr(g[i], f[i]))
    return by_graph


def test_windows_entered_mid_way_are_composited_frame_by_frame(tmp_path: Path) -> None:
    """(Burnt-in captions are one graph too since hostile helper-48:
    ``test_burnt_captions_graph.py``.)"""
    tl = timeline(tmp_path, "crossfade", (0.0, 0.0))
    tl.captions = [Caption(1.0, 2.0, "Hello.")]
    assert graph_args(composite_job(tl, 14, 20, tmp_path, [], 1, burn=True), tmp_path) is not None
    assert graph_args(composite_job(tl, 14, 20, tmp_path, [], 1, burn=False)) is not None
    assert graph_args(composite_job(tl, 16, 20, tmp_path, [], 1, burn=False)) is None


def _raw(args: list[str], n: int) -> np.ndarray:
    out = subprocess.run(
        [ffmpeg_exe(), "-v", "error", *args, "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"],
        check=True,
        capture_output=True,
    ).stdout
    return np.frombuffer(out, np.uint8).reshape(n, -1).astype(float)


def test_a_crossfade_is_the_exact_blend_of_its_two_segments(tmp_path: Path) -> None:
    """At each frame ``A * (1 - a) + B * a``, to the nearest code value. ``xfade`` (used
    before) was up to 10 code values off it at 1280x720, and cost nine times as much."""
    tl = timeline(tmp_path, "crossfade", (0.0, 0.0))
    codec = chunk_codec_args("MP4", 99)
    (_, f0, f1, _), *_ = [c for c in plan_chunks(tl, False) if c[0] == "composite"]
    graph = graph_args(composite_job(tl, f0, f1, tmp_path, codec, 1, burn=False))
    assert graph is not None
    n = f1 - f0
    i = graph.index("-filter_complex")
    parts = graph[i + 1].split(";")
    inputs, last = [p for p in parts if p.startswith("[0:v") or p.startswith("[1:v")], parts[-1]
    assert len(inputs) == 2 and last.startswith("[x]")

    def alone(keep: str, drop: str) -> np.ndarray:
        fc = ";".join([*inputs, f"[{drop}]nullsink", f"[{keep}]null[x]", last])
        return _raw([*graph[:i], "-filter_complex", fc, *graph[i + 2 :]], n)

    blended = _raw(graph, n)
    a, b = alone("s0", "s1"), alone("s1", "s0")
    start, overlap = tl.segments[1].start, tl.segments[1].overlap
    for k in range(n):
        w = ((f0 + k) / FPS - start) / overlap
        assert np.abs(blended[k] - (a[k] * (1 - w) + b[k] * w)).max() <= 1.0, (k, w)
    assert np.abs(blended[0] - a[0]).max() == 0  # the window opens on the outgoing frame


@pytest.mark.parametrize("transition", ["crossfade", "fade"])
@pytest.mark.parametrize("window", [(10, 20), (12, 20), (25, 34)])
def test_a_window_with_a_copied_stretchs_edge_is_one_graph(
    tmp_path: Path, transition: str, window: tuple[int, int]
) -> None:
    """A transition window joined to the frames of the outgoing segment alone before it (a
    copied stretch's encoded end: ``smart.join_edges``) is one graph, and shows what the
    frame-by-frame compositor shows."""
    tl = timeline(tmp_path, transition, (0.0, 0.0))
    codec = [*chunk_codec_args("MP4", 99), "-threads", "1"]
    both_ways(tl, *window, tmp_path, codec)


def test_a_window_past_its_transition_is_frame_by_frame(tmp_path: Path) -> None:
    tl = timeline(tmp_path, "crossfade", (0.0, 0.0))
    assert graph_args(composite_job(tl, 14, 22, tmp_path, [], 1, burn=False)) is None
    assert graph_args(composite_job(tl, 10, 22, tmp_path, [], 1, burn=False)) is None
    assert graph_args(composite_job(tl, 18, 31, tmp_path, [], 1, burn=False)) is None  # two


def test_encoded_ends_of_copied_gops_join_their_windows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storyboard.cut import smart
    from storyboard.cut.smart import join_edges

    tl = timeline(tmp_path, "crossfade", (0.0, 0.0))
    chunks = [
        ("copy", 0, 8, 0), ("gop", 8, 12, 0), ("copy", 12, 14, 0), ("composite", 14, 20, -1),
        ("copy", 20, 22, 1), ("gop", 22, 27, 1), ("copy", 27, 29, 1), ("composite", 29, 34, -1),
        ("copy", 34, 44, 2),
    ]  # fmt: skip
    assert join_edges(tl, chunks, tmp_path, [], burn=False) == [
        ("copy", 0, 8, 0), ("gop", 8, 12, 0), ("composite", 12, 20, -1), ("copy", 20, 22, 1),
        ("gop", 22, 27, 1), ("composite", 27, 34, -1), ("copy", 34, 44, 2),
    ]  # fmt: skip
    assert join_edges(tl, chunks, tmp_path, [], burn=True) == chunks
    # a stretch with no copied GOPs stays a chunk of its own; so does a long encoded end
    plain = [("copy", 0, 14, 0), ("composite", 14, 20, -1), ("copy", 20, 29, 1)]
    assert join_edges(tl, plain, tmp_path, [], burn=False) == plain
    long_end = [("gop", 0, 2, 0), ("copy", 2, 14, 0), ("composite", 14, 20, -1)]
    assert join_edges(tl, long_end, tmp_path, [], burn=False) == [
        ("gop", 0, 2, 0),
        ("composite", 2, 20, -1),
    ]
    monkeypatch.setattr(smart, "LEAD_MOST", 8)
    assert join_edges(tl, long_end, tmp_path, [], burn=False) == long_end
