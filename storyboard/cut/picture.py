"""The picture of the full path: the film's frames split into chunks, each encoded once and
kept in the chunk cache, then joined by stream copy.

* a ``copy`` chunk is a stretch of one take playing untouched: ffmpeg conforms and encodes it
  directly (no frames through Python);
* a ``composite`` chunk is a stretch that needs work (a transition window, a fade, burnt-in
  captions): moviepy reads the source frames, numpy blends them, and they are piped as raw RGB
  into our own ffmpeg encoder, so every chunk of every format is ``yuv420p`` (moviepy's writer
  ignores the pixel format for codecs other than libx264).

Every chunk is a whole number of frames encoded with identical settings, so the chunks join by
stream copy.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storyboard.board.spec import Project
from storyboard.errors import ComposeError
from storyboard.media.ffmpeg import ffmpeg_exe, run_ffmpeg, spawn, video_codec_args

from .chunks import ChunkCache, chunk_key
from .timeline import Timeline

if TYPE_CHECKING:
    import numpy as np

OnFrames = Callable[[int], None]

COLOR_TAGS = [
    "-colorspace",
    "bt709",
    "-color_primaries",
    "bt709",
    "-color_trc",
    "bt709",
    "-color_range",
    "tv",
]
PIXEL_FORMAT = "yuv420p"
CAPTION_STYLE = "1"  # bump when burnt-in captions are drawn differently


def chunk_codec_args(fmt: str, quality: int) -> list[str]:
    """Identical settings for every chunk, so the chunks join by stream copy.

    One encoder thread each: two chunks are encoded at once (x264's memory grows with threads).
    """
    return [*video_codec_args(fmt, quality, threads=1), *COLOR_TAGS]


def take_codec_args(fps: int) -> list[str]:
    """x264 settings of a take in the film's own codec (the benches' and tests' clips)."""
    return [
        *video_codec_args("MP4", 80),
        "-g",
        str(2 * fps),
        *COLOR_TAGS,
    ]


class PictureStats:
    """Frames of the picture by how they were made: encoded now, or found in the cache."""

    def __init__(self) -> None:
        self.encoded = 0
        self.reused = 0
        self.copied = 0
        self._lock = threading.Lock()

    def add(self, kind: str, n: int) -> None:
        with self._lock:
            setattr(self, kind, getattr(self, kind) + n)


def plan_chunks(tl: Timeline, burn: bool) -> list[tuple[str, int, int, int]]:
    """Split the film's frames into runs: ``("copy", f0, f1, segment)`` where a single segment
    plays untouched (ffmpeg re-encodes it directly) and ``("composite", f0, f1, -1)`` where
    frames need work (transitions, fades, burnt-in captions: moviepy renders them)."""
    fps = tl.fps
    total = tl.frames()
    segs = tl.segments
    chunks: list[tuple[str, int, int, int]] = []
    j = 0
    for f in range(total):
        t = f / fps
        while j + 1 < len(segs) and t >= segs[j].end - 1e-9:
            j += 1
        in_next = j + 1 < len(segs) and t >= segs[j + 1].start - 1e-9
        special = (
            in_next
            or (tl.fade_in and t < tl.fade_in)
            or (tl.fade_out and t >= total / fps - tl.fade_out)
            or (burn and any(c.start <= t < c.end for c in tl.captions))
        )
        key = ("composite", -1) if special else ("copy", j)
        if chunks and (chunks[-1][0], chunks[-1][3]) == key and chunks[-1][2] == f:
            kind, f0, _, seg = chunks[-1]
            chunks[-1] = (kind, f0, f + 1, seg)
        else:
            chunks.append((key[0], f, f + 1, key[1]))
    return chunks


def _r(x: float) -> float:
    return round(x, 6)


def chunk_spec(
    tl: Timeline, kind: str, f0: int, f1: int, seg_i: int, burn: bool, lengths: dict[str, float]
) -> dict[str, Any]:
    """What a chunk is made of, with every time relative to its own first frame."""
    t0, t1 = f0 / tl.fps, f1 / tl.fps
    base: dict[str, Any] = {
        "frames": f1 - f0,
        "fps": tl.fps,
        "size": [tl.width, tl.height],
    }
    if tl.reframe != "pad":  # variants (issue 20); padded chunks keep their keys
        base["reframe"] = [tl.reframe, *tl.focus]
    if kind == "copy":
        seg = tl.segments[seg_i]
        base["take"] = seg.take.media_key + f"@{seg.take.offset}"
        base["src"] = _r(seg.src_start + t0 - seg.start)
        return base
    segs = []
    for s in tl.segments:
        if s.end - 1e-9 <= t0 or s.start - 1e-9 >= t1:
            continue
        segs.append(
            {
                "take": s.take.media_key + f"@{s.take.offset}",
                "length": _r(lengths[s.file]),
                "src": _r(s.src_start + t0 - s.start),
                "start": _r(s.start - t0),
                "end": _r(s.end - t0),
                "transition": s.transition,
                "overlap": _r(s.overlap),
            }
        )
    total = tl.frames() / tl.fps
    base["segments"] = segs
    base["last"] = tl.segments[-1].end - 1e-9 <= t1  # the fallback to the last segment
    if tl.fade_in and t0 < tl.fade_in:
        base["fade_in"] = [_r(tl.fade_in), _r(-t0)]
    if tl.fade_out and t1 > total - tl.fade_out:
        base["fade_out"] = [_r(tl.fade_out), _r(total - t0)]
    if burn:
        base["captions"] = [
            [c.text, _r(c.start - t0), _r(c.end - t0)]
            for c in tl.captions
            if c.end > t0 and c.start < t1
        ]
        base["caption_style"] = CAPTION_STYLE
    return base


@dataclass(frozen=True)
class ChunkJob:
    """One chunk to encode: everything a process (here or on another machine) needs to make
    it, and where it goes in the chunk cache. Plain data, so it can be pickled."""

    tl: Timeline
    root: Path  # the project folder (the takes are read from it)
    kind: str  # copy | composite
    f0: int
    f1: int
    seg_i: int
    codec: tuple[str, ...]
    burn: bool
    folder: Path  # the chunk cache
    key: str
    ext: str


ChunkRunner = Callable[[Callable[[ChunkJob], Path], list[ChunkJob]], list[Path]]
"""Runs ``make_chunk`` over chunk jobs elsewhere (e.g. as Ray tasks); results in order."""


def encode_chunk(job: ChunkJob, part: Path, tick: OnFrames | None = None) -> None:
    """Encode one chunk into ``part``: a copy chunk straight through ffmpeg, a composite
    chunk frame by frame (transitions, fades, burnt-in captions)."""
    tl, tick = job.tl, tick or (lambda n: None)
    if job.kind == "copy":
        seg = tl.segments[job.seg_i]
        src = seg.src_start + job.f0 / tl.fps - seg.start
        conform = f"fps={tl.fps},{reframe_filter(tl)},setsar=1,format={PIXEL_FORMAT}"
        # seek half a frame early: the first frame kept is the one nearest to src
        run_ffmpeg(
            [
                "-threads",
                "1",
                "-ss",
                f"{max(0.0, src - 0.5 / tl.fps):.6f}",
                "-i",
                str(job.root / seg.file),
                "-map",
                "0:v:0",
                "-vf",
                conform,
                "-frames:v",
                str(job.f1 - job.f0),
                "-an",
                *job.codec,
                str(part),
            ],
            what=f"scene {seg.scene}",
        )
        tick(job.f1 - job.f0)
        return
    from .captions import CaptionLayer

    frames = FrameFunction(tl, job.root, CaptionLayer(tl) if job.burn else None)
    try:
        frames.write(job.f0, job.f1, part, list(job.codec), tick)
    finally:
        frames.close()


def make_chunk(job: ChunkJob) -> Path:
    """The chunk in its cache, encoded when missing (under a temporary name, renamed when
    complete: a worker killed half-way leaves nothing that is used)."""
    return ChunkCache(job.folder).make(job.key, job.ext, lambda p: encode_chunk(job, p))


def render_video(
    tl: Timeline,
    project: Project,
    dest: Path,
    cache: ChunkCache,
    lengths: dict[str, float],
    heavy: threading.Semaphore | None = None,
    on_frames: OnFrames | None = None,
    stats: PictureStats | None = None,
    runner: ChunkRunner | None = None,
) -> Path:
    """The picture: every chunk from the cache or encoded into it, then joined by stream copy.

    ``runner``: where the missing chunks are encoded (None: two at a time in this process's
    pool; see :mod:`storyboard.cut.executors` for Ray)."""
    fmt = project.board.output.format
    codec = tuple(chunk_codec_args(fmt, project.board.output.quality))
    burn = project.board.edit.captions == "burn" and bool(tl.captions)
    ext = "webm" if fmt == "WEBM" else "mp4"
    slots = heavy or threading.Semaphore(2)
    one_composite = threading.Lock()  # one moviepy pipeline at a time (two readers, a writer)
    tick = on_frames or (lambda n: None)
    counts = stats or PictureStats()
    jobs = []
    for kind, f0, f1, seg_i in plan_chunks(tl, burn):
        spec = chunk_spec(tl, kind, f0, f1, seg_i, burn, lengths)
        key = chunk_key(f"picture-{kind}", {**spec, "codec": list(codec)})
        jobs.append(
            ChunkJob(tl, project.root, kind, f0, f1, seg_i, codec, burn, cache.folder, key, ext)
        )

    def chunk(job: ChunkJob) -> Path:
        hit = cache.get(job.key, job.ext)
        if hit is not None:
            tick(job.f1 - job.f0)
            counts.add("reused", job.f1 - job.f0)
            return hit
        counts.add("encoded", job.f1 - job.f0)
        with slots, one_composite if job.kind == "composite" else _NO_LOCK:
            return cache.make(job.key, job.ext, lambda p: encode_chunk(job, p, tick))

    if runner is None:
        # two chunks at a time: start-up and decoding of one overlap the other's encoding
        with ThreadPoolExecutor(2) as pool:
            parts = list(pool.map(chunk, jobs))
    else:
        missing = [j for j in jobs if not cache.path(j.key, j.ext).is_file()]
        runner(make_chunk, missing)  # each lands in the cache, complete, or raises
        parts = [chunk(j) for j in jobs]  # all hits now: marked used, frames counted
        cache.made += len(missing)
        cache.hits -= len(missing)
        n = sum(j.f1 - j.f0 for j in missing)
        counts.add("encoded", n)
        counts.add("reused", -n)
    join_copy(parts, dest, what="joining the picture")
    return dest


_NO_LOCK = contextlib.nullcontext()


def reframe_filter(tl: Timeline) -> str:
    """ffmpeg filters fitting a clip to the film's size: letterboxed (pad) or filling the
    frame, cut around the focus point (crop)."""
    w, h = tl.width, tl.height
    if tl.reframe == "crop":
        fx, fy = tl.focus
        return (
            f"scale={w}:{h}:force_original_aspect_ratio=increase,"
            f"crop={w}:{h}:(iw-{w})*{fx:g}:(ih-{h})*{fy:g}"
        )
    return f"scale={w}:{h}:force_original_aspect_ratio=decrease,pad={w}:{h}:(ow-iw)/2:(oh-ih)/2"


def join_copy(parts: list[Path], dest: Path, *, what: str) -> Path:
    """Join files with identical stream settings by the concat demuxer, streams copied."""
    listing = dest.with_name(dest.stem + ".parts.txt")
    lines = []
    for p in parts:
        q = str(p.resolve()).replace("'", "'\\''")
        lines.append(f"file '{q}'\n")
    listing.write_text("".join(lines))
    run_ffmpeg(
        ["-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(dest)], what=what
    )
    listing.unlink(missing_ok=True)
    return dest


class _Frames:
    """Frame source for one segment: a lazily opened moviepy clip, conformed to the film size."""

    def __init__(
        self,
        path: Path,
        width: int,
        height: int,
        reframe: str = "pad",
        focus: tuple[float, float] = (0.5, 0.5),
    ):
        self.path, self.width, self.height = path, width, height
        self.reframe, self.focus = reframe, focus
        self.clip: Any = None  # a moviepy VideoFileClip once opened

    def get(self, t: float) -> np.ndarray:
        from moviepy import VideoFileClip

        if self.clip is None:
            self.clip = VideoFileClip(str(self.path), audio=False)
        clip = self.clip
        t = min(max(0.0, t), max(0.0, clip.duration - 1.0 / (clip.fps or 30)))
        frame = clip.get_frame(t)
        if frame.shape[1] != self.width or frame.shape[0] != self.height:
            if self.reframe == "crop":
                frame = _crop(frame, self.width, self.height, self.focus)
            else:
                frame = _letterbox(frame, self.width, self.height)
        return frame

    def close(self) -> None:
        if self.clip is not None:
            self.clip.close()
            self.clip = None


def _letterbox(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """Fit inside width x height keeping the aspect; black bars (letterbox or pillarbox)."""
    import numpy as np
    from PIL import Image

    h, w = frame.shape[:2]
    scale = min(width / w, height / h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    small = np.asarray(Image.fromarray(frame).resize((nw, nh), Image.Resampling.BILINEAR))
    out = np.zeros((height, width, 3), dtype=np.uint8)
    y, x = (height - nh) // 2, (width - nw) // 2
    out[y : y + nh, x : x + nw] = small
    return out


def _crop(frame: np.ndarray, width: int, height: int, focus: tuple[float, float]) -> np.ndarray:
    """Fill width x height keeping the aspect, cutting the overflow around the focus point
    (the same geometry as :func:`reframe_filter`'s crop)."""
    import numpy as np
    from PIL import Image

    h, w = frame.shape[:2]
    scale = max(width / w, height / h)
    nw, nh = max(width, round(w * scale)), max(height, round(h * scale))
    big = np.asarray(Image.fromarray(frame).resize((nw, nh), Image.Resampling.BILINEAR))
    x, y = int((nw - width) * focus[0]), int((nh - height) * focus[1])
    return np.ascontiguousarray(big[y : y + height, x : x + width])


class FrameFunction:
    """Frames of composited stretches: one function that blends only when needed."""

    def __init__(self, tl: Timeline, root: Path, captions: object):
        self.tl = tl
        self.segs = tl.segments
        self.sources = [
            _Frames(root / s.file, tl.width, tl.height, tl.reframe, tl.focus) for s in self.segs
        ]
        self.captions = captions
        self.total = tl.frames() / tl.fps
        self.first_open = 0

    def frame(self, t: float) -> np.ndarray:
        segs, tl = self.segs, self.tl
        active = [
            i
            for i in range(self.first_open, len(segs))
            if segs[i].start - 1e-9 <= t < segs[i].end - 1e-9
        ] or [len(segs) - 1]
        for i in range(self.first_open, active[0]):  # past segments: release their readers
            self.sources[i].close()
        self.first_open = active[0]
        seg = segs[active[-1]]
        frame = self.sources[active[-1]].get(seg.src_start + t - seg.start)
        if len(active) > 1 and seg.overlap > 0:
            prev = segs[active[0]]
            pframe = self.sources[active[0]].get(prev.src_start + t - prev.start)
            a = (t - seg.start) / seg.overlap
            if seg.transition == "crossfade":
                frame = _mix(pframe, frame, a)
            else:  # fade through black
                frame = _scale(pframe, 1 - 2 * a) if a < 0.5 else _scale(frame, 2 * a - 1)
        if tl.fade_in and t < tl.fade_in:
            frame = _scale(frame, t / tl.fade_in)
        if tl.fade_out and t > self.total - tl.fade_out:
            frame = _scale(frame, max(0.0, (self.total - t) / tl.fade_out))
        if self.captions is not None:
            frame = self.captions.apply(frame, t)  # type: ignore[attr-defined]
        return frame

    def write(self, f0: int, f1: int, dest: Path, codec: list[str], tick: OnFrames) -> None:
        """Frames f0..f1 as raw RGB into an ffmpeg encoder with the chunk settings."""
        tl = self.tl
        cmd = [
            ffmpeg_exe(),
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-s",
            f"{tl.width}x{tl.height}",
            "-r",
            str(tl.fps),
            "-i",
            "-",
            "-an",
            *codec,
            str(dest),
        ]
        try:
            proc = spawn(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
        except OSError as e:
            raise ComposeError(f"rendering the film failed: ffmpeg could not run: {e}") from None
        assert proc.stdin is not None
        try:
            for f in range(f0, f1):
                frame = self.frame(f / tl.fps)
                proc.stdin.write(frame.tobytes())
                tick(1)
            proc.stdin.close()
            err = proc.stderr.read() if proc.stderr else b""
            code = proc.wait()
        except BrokenPipeError:
            err = proc.stderr.read() if proc.stderr else b""
            code = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            if proc.stderr:
                proc.stderr.close()
        if code == -signal.SIGXFSZ or b"File too large" in err:
            raise ComposeError(
                f"rendering the film failed: file size limit reached writing {dest} (ulimit -f)"
            )
        if code != 0:
            tail = " | ".join(err.decode(errors="replace").strip().splitlines()[-3:])
            raise ComposeError(f"rendering the film failed: ffmpeg: {tail or code}")

    def close(self) -> None:
        for s in self.sources:
            s.close()


def _mix(a: np.ndarray, b: np.ndarray, alpha: float) -> np.ndarray:
    import numpy as np

    w = int(round(min(1.0, max(0.0, alpha)) * 256))
    out = a.astype(np.uint16) * (256 - w)
    out += b.astype(np.uint16) * w
    return (out >> 8).astype(np.uint8)


def _scale(a: np.ndarray, k: float) -> np.ndarray:
    import numpy as np

    w = int(round(min(1.0, max(0.0, k)) * 256))
    return ((a.astype(np.uint16) * w) >> 8).astype(np.uint8)
