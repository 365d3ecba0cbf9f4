"""One chunk of picture as plain data, and the top-level function that encodes it.

A job is a dict of plain values (strings, numbers, lists), with absolute file paths, so a chunk
can be encoded in this process, in another one, or as a Ray task: ``encode_chunk(job, dest)``.

* ``copy``: a stretch of one take playing untouched; ffmpeg conforms and encodes it directly
  (no frames through Python);
* ``composite``: a stretch that needs work (a transition window, a fade, burnt-in captions):
  frames made by :class:`~storyboard.cut.composite.FrameFunction`, piped into our encoder.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from storyboard.errors import ComposeError
from storyboard.media.ffmpeg import run_ffmpeg, tags_filter

from .timeline import Caption, Segment, Timeline

PIXEL_FORMAT = "yuv420p"


def copy_job(
    tl: Timeline,
    seg_i: int,
    f0: int,
    f1: int,
    root: Path,
    codec: list[str],
    threads: int,
    last_frames: dict[str, float] | None = None,
) -> dict[str, Any]:
    """A stretch of segment ``seg_i`` (film frames f0..f1) playing untouched. ``last_frames``:
    when each take's last frame starts, by file (its read never starts past it)."""
    seg = tl.segments[seg_i]
    return {
        "kind": "copy",
        "file": str((root / seg.file).resolve()),
        "scene": seg.scene,
        "src": seg.src_start + f0 / tl.fps - seg.start,
        "last": (last_frames or {}).get(seg.file),
        "frames": f1 - f0,
        "fps": tl.fps,
        "size": [tl.width, tl.height],
        "codec": list(codec),
        "threads": threads,
        "reframe": [tl.reframe, *tl.focus],  # variants (issue 20): pad or crop
    }


def composite_job(
    tl: Timeline,
    f0: int,
    f1: int,
    root: Path,
    codec: list[str],
    threads: int,
    burn: bool,
    last_frames: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Film frames f0..f1 made by blending (the whole timeline travels: it is small).
    ``last_frames``: when each take's last frame starts, by file (see
    :func:`~storyboard.cut.graph.graph_args`)."""
    last_frames = last_frames or {}
    return {
        "kind": "composite",
        "f0": f0,
        "f1": f1,
        "fps": tl.fps,
        "size": [tl.width, tl.height],
        "fade": [tl.fade_in, tl.fade_out],
        "segments": [
            {
                "scene": s.scene,
                "file": str((root / s.file).resolve()),
                "src_start": s.src_start,
                "duration": s.duration,
                "start": s.start,
                "transition": s.transition,
                "overlap": s.overlap,
                "last": last_frames.get(s.file),
            }
            for s in tl.segments
        ],
        "captions": [[c.start, c.end, c.text] for c in tl.captions] if burn else [],
        "codec": list(codec),
        "threads": threads,
        "reframe": [tl.reframe, *tl.focus],  # variants (issue 20): pad or crop
    }


def encode_chunk(
    job: dict[str, Any], dest: str, on_frames: Callable[[int], None] | None = None
) -> int:
    """Encode the chunk ``job`` describes into ``dest``; returns the frames written.

    Plain data in, a file out: safe to run in a worker process or as a remote task (pass no
    ``on_frames`` there; it reports progress in this process only).
    """
    tick = on_frames or (lambda n: None)
    codec = [*job["codec"], "-threads", str(job["threads"])]
    if job["kind"] == "copy":
        _encode_copy(job, dest, codec)
        tick(job["frames"])
        return int(job["frames"])
    import tempfile

    from .graph import graph_args

    with tempfile.TemporaryDirectory(prefix="sb-captions-") as work:  # the captions' bands
        graph = graph_args(job, Path(work))
        if graph is not None:  # one ffmpeg filter graph: no frame through Python
            threads = ["-filter_complex_threads", str(job["threads"])]
            n = int(job["f1"] - job["f0"])
            what = f"compositing {_scenes_of(job)} (film frames {job['f0']}-{job['f1']})"
            _run_counted([*graph, *threads, "-an", *codec, dest], n, what)
            tick(n)
            return n
    from .composite import FrameFunction

    tl = _timeline(job)
    captions = None
    if tl.captions:
        from .captions import CaptionLayer

        captions = CaptionLayer(tl)
    frames = FrameFunction(tl, Path("/"), captions)
    try:
        frames.write(job["f0"], job["f1"], Path(dest), codec, tick)
    finally:
        frames.close()
    return int(job["f1"] - job["f0"])


def _encode_copy(job: dict[str, Any], dest: str, codec: list[str]) -> None:
    fps = job["fps"]
    w, h = job["size"]
    mode, fx, fy = job.get("reframe") or ("pad", 0.5, 0.5)
    seek, sample = read_from(job["src"], fps, job.get("last"))
    conform = f"{sample},{reframe_filter(w, h, mode, (fx, fy))},setsar=1,format={PIXEL_FORMAT}"
    # one frame held where the take's end falls short of the chunk by a fraction of a frame
    # (hostile helper-28); a chunk that has its frames is unchanged (the padding is past the
    # frames it keeps), and one short of more is refused (hostile helper-29: padding without
    # a limit froze a take's damaged tail, or a picture that starts late, into the film)
    conform += f",{tags_filter(codec)},tpad=stop=1:stop_mode=clone"
    _run_counted(
        [
            "-threads",
            "1",
            *seek,
            "-i",
            job["file"],
            "-map",
            "0:v:0",
            "-vf",
            conform,
            "-frames:v",
            str(job["frames"]),
            "-an",
            *codec,
            dest,
        ],
        int(job["frames"]),
        f"scene {job['scene']}",
    )


LEAD = 1.0
"""Seconds a take is read from before a chunk's ``src``: the take's frame showing there may
have started up to that long before (a 10 fps draft, a 24 fps take in a 60 fps film, a
variable frame rate)."""


def read_from(src: float, fps: float, last: float | None) -> tuple[list[str], str]:
    """How a chunk reads a take from ``src`` (seconds) at the film's ``fps``: the input
    options (a seek :data:`LEAD` before it, never past the take's last frame ``last``, which is
    then held: hostile helper-28 and -29) and the filters that put ``src`` at the chunk's first
    frame and sample the take there as ffmpeg's ``fps`` does: each take frame goes to the film
    frame nearest its start, and a film frame shows the last one that went to it, or holds the
    one before (so a take frame still showing at ``src`` is held there). The frame-by-frame
    path for burnt-in captions (moviepy) shows the take frame showing at each film frame's
    time instead: they differ only where the take has more frames than the film.

    It was a seek to half a film frame before ``src``, from where ffmpeg's ``fps`` counted the
    first frame it kept: a take frame that started earlier and still showed at ``src`` was
    dropped, and the chunk started with the next one, early by as many film frames as the
    dropped one had left (a 10 fps take at 25 fps: two; silently, as the chunk still had its
    frame count) or short of frames (hostile helper-30/31's fade of a frame or two)."""
    if last is not None and src >= last - 1e-3:  # inside the last frame: it is all there is
        return ["-ss", f"{max(0.0, last - 1e-3):.6f}"], f"fps={fps}"
    seek = max(0.0, src - LEAD)
    shift = src - seek
    return ["-ss", f"{seek:.6f}"], f"setpts=PTS-{shift:.6f}/TB,fps={fps}:start_time=0"


def _run_counted(args: list[str], frames: int, what: str) -> None:
    """Run the chunk's ffmpeg and check it wrote ``frames`` frames: a chunk short of its
    frames never enters the cache (hostile helper-28: a transition window past a take's
    last frame made a chunk with no picture, kept under its key)."""
    proc = run_ffmpeg(["-progress", "pipe:1", "-nostats", *args], what=what)
    found = re.findall(rb"^frame=(\d+)", proc.stdout, re.M)
    wrote = int(found[-1]) if found else 0
    if wrote != frames:
        raise ComposeError(
            f"{what}: ffmpeg wrote {wrote} frame(s) where the chunk has {frames}; nothing "
            "was kept (a take shorter than its scene, or unreadable where the cut needs it)"
        )


def _scenes_of(job: dict[str, Any]) -> str:
    """The scenes a composite chunk shows, for its messages."""
    t0, t1 = job["f0"] / job["fps"], job["f1"] / job["fps"]
    shown = [
        s["scene"]
        for s in job["segments"]
        if s["start"] < t1 - 1e-9 and s["start"] + s["duration"] > t0 + 1e-9
    ]
    return ("scenes " if len(shown) > 1 else "scene ") + ", ".join(shown or ["?"])


def _timeline(job: dict[str, Any]) -> Timeline:
    """The timeline a composite job carries (absolute files; no take records needed)."""
    segs = [
        Segment(
            scene=s["scene"],
            take=cast(Any, None),
            file=s["file"],
            src_start=s["src_start"],
            duration=s["duration"],
            start=s["start"],
            transition=s["transition"],
            overlap=s["overlap"],
        )
        for s in job["segments"]
    ]
    w, h = job["size"]
    fade_in, fade_out = job["fade"]
    caps = [Caption(a, b, text) for a, b, text in job["captions"]]
    tl = Timeline(segs, job["fps"], w, h, fade_in, fade_out, caps)
    mode, fx, fy = job.get("reframe") or ("pad", 0.5, 0.5)
    tl.reframe, tl.focus = mode, (fx, fy)
    return tl


def reframe_filter(w: int, h: int, mode: str, focus: tuple[float, float]) -> str:
    """ffmpeg filters fitting a clip to the film's size: letterboxed (pad) or filling the
    frame, cut around the focus point (crop; variants, issue 20). Its pixels are made square
    first (``scale`` passes a square-pixel clip through as it is): a take of 2:1 pixels was
    fitted as if they were square, squeezed to half its width (hostile helper-60)."""
    square = "scale=iw*sar:ih,"
    if mode == "crop":
        fx, fy = focus
        return (
            f"{square}scale={w}:{h}:force_original_aspect_ratio=increase,"
            f"crop={w}:{h}:(iw-{w})*{fx:g}:(ih-{h})*{fy:g}"
        )
    return (
        f"{square}scale={w}:{h}:force_original_aspect_ratio=decrease,"
        f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2"
    )
