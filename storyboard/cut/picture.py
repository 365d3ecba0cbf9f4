"""The picture of the full path: the film's frames split into chunks, each encoded once and
kept in the chunk cache, then joined by stream copy.

* a ``copy`` chunk is a stretch of one take playing untouched: ffmpeg conforms and encodes it
  directly (no frames through Python);
* a ``gop`` chunk is a run of whole GOPs of a take already in the film's stream settings,
  copied as they are (``smart``);
* a ``composite`` chunk is a stretch that needs work (a transition window, a fade, burnt-in
  captions): one ffmpeg filter graph where it can be (``graph``: crossfades, fades through
  black, the film's fades), else moviepy reads the source frames, numpy blends them
  (``composite``) and they are piped as raw RGB into our own ffmpeg encoder; every chunk of
  every format is ``yuv420p``.

Each chunk is encoded by ``chunkjob.encode_chunk`` from plain data; the chunks are encoded by a
pool sized to the machine (``machine``): as many at once as there are CPUs (or chunks, or
memory for them), with the CPUs left over as x264 threads.

Every chunk is a whole number of frames encoded with identical settings, so the chunks join by
stream copy.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyboard.board.spec import Project
from storyboard.errors import ComposeError
from storyboard.media.ffmpeg import (
    concat_file,
    ffmpeg_exe,
    film_colour_args,
    run_child,
    run_ffmpeg,
    video_codec_args,
)
from storyboard.media.gop import copy_packets

from .audio import FORMAT_NAMES, mux_args
from .chunkjob import composite_job, copy_job, encode_chunk
from .chunks import ChunkCache, chunk_key
from .machine import PoolPlan, allowed_cpus, machine_pool
from .smart import join_edges, split_for_copy
from .timeline import Timeline

OnFrames = Callable[[int], None]

CAPTION_STYLE = "4"  # bump when burnt-in captions are drawn differently (2: Noto Sans; 3: laid
# over the picture by ffmpeg, which keeps its colour and frames: hostile helper-48; 4: sized from
# the frame's short side, a word wider than the frame broken: hostile helper-62)


def chunk_codec_args(fmt: str, quality: int) -> list[str]:
    """Identical settings for every chunk, so the chunks join by stream copy (the encoder's
    thread count is added per chunk: it changes no header)."""
    return [*video_codec_args(fmt, quality), *film_colour_args(fmt)]


def take_codec_args(fps: int, quality: int = 95) -> list[str]:
    """x264 settings of a take already in the film's stream settings (a keyframe every 2 s):
    the benches' and tests' clips whose untouched stretches are copied as whole GOPs."""
    return [*chunk_codec_args("MP4", quality), "-g", str(2 * fps)]


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
    last: tuple[int, bool] | None = None
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
        # with burnt-in captions, a composite stretch ends where the segments it shows change
        # (a caption across a transition): each is then one filter graph (``graph``)
        shows = (j, in_next) if burn and special else None
        same = chunks and (chunks[-1][0], chunks[-1][3]) == key and chunks[-1][2] == f
        if same and shows == last:
            kind, f0, _, seg = chunks[-1]
            chunks[-1] = (kind, f0, f + 1, seg)
        else:
            chunks.append((key[0], f, f + 1, key[1]))
        last = shows
    return chunks


def _r(x: float) -> float:
    return round(x, 6)


READ = "held-square"
"""How chunks read their takes (:func:`~storyboard.cut.chunkjob.read_from`): in every encoded
chunk's key, so those read the old way are not reused ("held": a take frame that still showed
at a stretch's start dropped, the stretch early by a frame or two; "square": a take's pixels
made square before it is fitted, :func:`~storyboard.cut.chunkjob.reframe_filter`)."""

BLEND = "overlay"
"""How a crossfade's frames are blended (:mod:`storyboard.cut.graph`): in crossfade chunks'
keys, so those made by ``xfade`` before (up to 10 code values off the exact blend) are not
reused."""


def chunk_spec(
    tl: Timeline, kind: str, f0: int, f1: int, seg_i: int, burn: bool, lengths: dict[str, float]
) -> dict[str, Any]:
    """What a chunk is made of, with every time relative to its own first frame."""
    t0, t1 = f0 / tl.fps, f1 / tl.fps
    base: dict[str, Any] = {
        "frames": f1 - f0,
        "fps": tl.fps,
        "size": [tl.width, tl.height],
        "read": READ,
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
    if len(segs) > 1 and any(s["transition"] == "crossfade" for s in segs[1:]):
        base["blend"] = BLEND  # crossfades made before it are made again, once
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


def encode_order(chunks: list[tuple[str, int, int, int]], pending: list[bool]) -> list[int]:
    """The order chunks go to the pool: those to encode (``pending``) longest first, a
    composited frame counted twice (it decodes two takes and blends them), then the rest (copied
    or cached, quick) in film order. Started in film order, the longest encode could come last
    and run alone while the other workers wait; longest first, the pool ends together."""

    def cost(i: int) -> int:
        kind, f0, f1, _ = chunks[i]
        return (f1 - f0) * (2 if kind == "composite" else 1)

    encode = sorted((i for i in range(len(chunks)) if pending[i]), key=lambda i: (-cost(i), i))
    return encode + [i for i in range(len(chunks)) if not pending[i]]


def render_video(
    tl: Timeline,
    project: Project,
    cache: ChunkCache,
    lengths: dict[str, float],
    pool: PoolPlan | None = None,
    on_frames: OnFrames | None = None,
    stats: PictureStats | None = None,
    log: Callable[[str], None] | None = None,
    runner: ChunkRunner | None = None,
    last_frames: dict[str, float] | None = None,
    started: Callable[[], None] | None = None,
) -> list[tuple[Path, int]]:
    """The picture's chunks in order with their frame counts, each from the cache or encoded
    into it (the film joins them with its sound by stream copy: :func:`join_copy`, then
    :func:`check_frames`). ``last_frames``: when each take's last frame starts (seconds, by
    file as in ``lengths``), so a transition window at the very end of a take reads that frame
    (:mod:`~storyboard.cut.graph`).

    Chunks are encoded ``pool.workers`` at once with ``pool.threads`` x264 threads each (by
    default sized to this machine: :func:`~storyboard.cut.machine.machine_pool`). ``runner``:
    where the missing chunks are encoded instead (e.g. as Ray tasks, issue 20; see
    :mod:`storyboard.cut.executors`), each by :func:`make_chunk` into the same cache.
    ``started``: called once the chunks are handed to the pool or the runner (the caller's own
    work beside them starts then, and takes nothing from the planning before it; it may be
    called twice).
    """
    fmt = project.board.output.format
    codec = chunk_codec_args(fmt, project.board.output.quality)
    burn = project.board.edit.captions == "burn" and bool(tl.captions)
    ext = "webm" if fmt == "WEBM" else "mp4"
    tick = on_frames or (lambda n: None)
    counts = stats or PictureStats()
    chunks, gop_packets, codec = split_for_copy(
        tl,
        plan_chunks(tl, burn),
        project.root,
        fmt,
        codec,
        log,
        project.build / "media",
        cache.fresh,
    )
    chunks = join_edges(tl, chunks, project.root, codec, burn)

    def key_of(kind: str, f0: int, f1: int, seg_i: int) -> str:
        if kind == "gop":
            seg = tl.segments[seg_i]
            p0, p1, scale = gop_packets[f0]
            take = f"{seg.take.media_key}@{seg.take.offset}"
            spec = {"take": take, "packets": [p0, p1], "frames": f1 - f0}
            if scale is not None and scale < 10000:  # kept as the take's (copy_packets)
                spec["scale"] = scale
            return chunk_key("picture-gop", spec)
        spec = chunk_spec(tl, kind, f0, f1, seg_i, burn, lengths)
        # the thread count is not in the key: chunks made on any machine join the same way
        return chunk_key(f"picture-{kind}", {**spec, "codec": codec})

    # the cached chunks proven first (their records checked, several at once), so the pool is
    # sized to the chunks there are to make: an edit's few get the CPUs as x264 threads
    keys = [key_of(*c) for c in chunks]
    with ThreadPoolExecutor(min(8, allowed_cpus())) as proving:
        hits = list(proving.map(lambda k: cache.get(k, ext), keys))
    # neither copied here nor cached: to encode (here, or by the runner)
    unmade = [c[0] != "gop" and hit is None for c, hit in zip(chunks, hits, strict=True)]
    to_encode = sum(unmade)
    plan = pool or machine_pool(tl.width, tl.height, max(1, to_encode))  # copies are light
    if log is not None:
        log(f"picture: {len(chunks)} chunks, {to_encode} to encode, {plan.describe()}")

    def job_of(kind: str, f0: int, f1: int, seg_i: int) -> dict[str, Any]:
        if kind == "copy":
            return copy_job(tl, seg_i, f0, f1, project.root, codec, plan.threads, last_frames)
        return composite_job(tl, f0, f1, project.root, codec, plan.threads, burn, last_frames)

    made: dict[str, Path] = {}  # chunks a runner made elsewhere (issue 20)
    if runner is not None:
        if started is not None:  # the encodes are elsewhere: this machine's CPUs are free
            started()
        todo: dict[str, RemoteChunk] = {}
        for c, key, todo_here in zip(chunks, keys, unmade, strict=True):
            if todo_here and key not in todo:
                todo[key] = RemoteChunk(job_of(*c), str(cache.folder), key, ext, cache.fresh)
        # each lands in the cache whole (its temporary name renamed), or the runner raises
        made = dict(zip(todo, runner(make_chunk, list(todo.values())), strict=True))
        cache.made += len(made)
        cache.used.update(made.values())

    def chunk(i: int) -> Path:
        kind, f0, f1, seg_i = chunks[i]
        key, hit = keys[i], hits[i]
        n = f1 - f0
        if kind == "gop":
            counts.add("reused" if hit is not None else "copied", n)
            seg = tl.segments[seg_i]
            p0, p1, scale = gop_packets[f0]
            done = hit or cache.make(
                key, ext, lambda p: copy_packets(project.root / seg.file, p0, p1, p, scale)
            )
            tick(n)
            return done
        if key in made:
            tick(n)
            counts.add("encoded", n)
            return made[key]
        if hit is not None:
            tick(n)
            counts.add("reused", n)
            return hit
        counts.add("encoded", n)
        job = job_of(kind, f0, f1, seg_i)
        return cache.make(key, ext, lambda p: encode_chunk(job, str(p), tick))

    pending = [u and key not in made for u, key in zip(unmade, keys, strict=True)]
    with ThreadPoolExecutor(plan.workers) as workers:
        submitted = {i: workers.submit(chunk, i) for i in encode_order(chunks, pending)}
        jobs = [submitted[i] for i in range(len(chunks))]  # read back in film order
        try:
            if started is not None:
                started()
            parts = [j.result() for j in jobs]
        except BaseException:
            for j in jobs:
                j.cancel()
            raise
    return [(path, c[2] - c[1]) for path, c in zip(parts, chunks, strict=True)]


def check_frames(film: Path, tl: Timeline, cache: ChunkCache, project: Project) -> None:
    """The joined picture has the cut's frames, one packet each (hostile5 Q8: a chunk that is
    not what its key says made a film seconds off its sound), evenly timed (round 7: a chunk
    whose container said a frame more put every frame after it a frame late), and evenly
    decoded: where its parts waited for their frames differently (a one-frame chunk waits for
    none, a chunk of B-frames two), the joins' decode times were squeezed (frames lasting one
    tick, then three), and ffmpeg's own constant-rate outputs dropped and repeated frames
    there (hostile helper-60): its decode times are then made again, packets copied."""
    rows, base = _packet_rows(film)
    found, gap = _timing(rows, base)
    # a WEBM film keeps no decode times of its own (VP9 shows its frames in order), and its
    # milliseconds step 41 or 42 at 24 fps: nothing to make even (hostile helper-63)
    delay = _uneven_decode(rows) if project.board.output.format != "WEBM" else None
    if found == tl.frames() and gap is None and delay is not None:
        _retime_decode(film, rows, delay, project.board.output.format)
        rows, base = _packet_rows(film)
        found, gap = _timing(rows, base)
        if gap is None and _uneven_decode(rows) is not None:
            gap = "its decode times are not evenly spaced"
    if found != tl.frames():
        raise ComposeError(
            f"the joined picture has {found} frames where the cut has {tl.frames()}: a chunk "
            f"in {cache.folder} is not what it should be; nothing was put in place. Run "
            f"`storyboard compose --force {project.root}` to encode every chunk again"
        )
    if gap is not None:
        raise ComposeError(
            f"the joined picture's frames are not evenly timed ({gap}): a chunk in "
            f"{cache.folder} does not join as it should; nothing was put in place. Run "
            f"`storyboard compose --force {project.root}` to encode every chunk again"
        )


def video_packets(path: Path) -> tuple[int, str | None]:
    """The video packets of ``path`` (one per frame in our chunks), read without decoding,
    and where their timestamps are not evenly spaced (a step over 1.5 frames or under half
    a frame, in presentation order), or None."""
    return _timing(*_packet_rows(path))


def _packet_rows(path: Path) -> tuple[list[list[str]], str]:
    """The ``framecrc`` rows of the first video stream of ``path`` (decode order: stream,
    dts, pts, duration, size, crc) and its time base."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", str(path)]
    cmd += ["-map", "0:v:0", "-c", "copy", "-f", "framecrc", "-"]
    try:
        proc = run_child(cmd, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ComposeError(f"{path}: cannot be read back: {e}") from None
    if proc.returncode != 0:
        raise ComposeError(f"{path}: cannot be read back: {proc.stderr.decode(errors='replace')}")
    lines = proc.stdout.decode(errors="replace").splitlines()
    base = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("#tb 0")), "")
    return [line.split(",") for line in lines if line and not line.startswith("#")], base


def _timing(rows: list[list[str]], base: str) -> tuple[int, str | None]:
    try:
        pts = sorted(int(r[2]) for r in rows)
    except (IndexError, ValueError):
        return len(rows), None  # a line that cannot be read: the count alone is checked
    steps = [b - a for a, b in zip(pts, pts[1:])]  # noqa: B905
    if not steps:
        return len(rows), None
    usual = sorted(steps)[len(steps) // 2]
    for i, step in enumerate(steps):
        if step * 2 > usual * 3 or step * 2 < usual:
            return len(rows), f"after frame {i + 1}, {step} ticks of {base} where {usual} is usual"
    return len(rows), None


def _uneven_decode(rows: list[list[str]]) -> int | None:
    """How many frames the decoder must wait for (packets shown after later ones, at most),
    when the decode times are not one frame apart; None when they are (or cannot be read)."""
    try:
        dts = [int(r[1]) for r in rows]
        pts = [int(r[2]) for r in rows]
    except (IndexError, ValueError):
        return None
    steps = {b - a for a, b in zip(dts, dts[1:])}  # noqa: B905
    if not steps or max(steps) - min(steps) <= 1:  # one step, or a time base's rounding
        return None
    order = sorted(range(len(pts)), key=lambda i: pts[i])
    rank = [0] * len(pts)
    for r, i in enumerate(order):
        rank[i] = r
    return max(0, *(i - rank[i] for i in range(len(rank))))


def _retime_decode(film: Path, rows: list[list[str]], delay: int, fmt: str) -> None:
    """The film (its packets ``rows``, :func:`_packet_rows`) with each video packet decoded
    one frame after the one before, ``delay`` frames before the first is shown (every
    picture's own time kept), streams copied."""
    pts = sorted(int(r[2]) for r in rows)
    span, n = pts[-1] - pts[0], max(1, len(pts) - 1)  # a frame: span / n ticks, rounded down
    out = film.with_name(f"retimed-{film.name}")
    faststart = ["-movflags", "+faststart"] if fmt == "MP4" else []
    run_ffmpeg(
        ["-i", str(film), "-map", "0", "-c", "copy"]
        + ["-bsf:v", f"setts=pts=PTS:dts={pts[0]}+floor((N-{delay})*{span}/{n})"]
        + [*faststart, "-f", FORMAT_NAMES[fmt], str(out)],
        what="timing the film's decode",
    )
    out.replace(film)


@dataclass(frozen=True)
class RemoteChunk:
    """A chunk to make somewhere else: its job (plain data), the cache folder and its key."""

    job: dict[str, Any]
    folder: str
    key: str
    ext: str
    fresh: bool = False  # compose --force: made again even when the cache has it


ChunkRunner = Callable[[Callable[[RemoteChunk], Path], list[RemoteChunk]], list[Path]]
"""Runs :func:`make_chunk` over chunks elsewhere (e.g. as Ray tasks); results in order."""


def make_chunk(chunk: RemoteChunk) -> Path:
    """The chunk in its cache, encoded when missing (under a temporary name, renamed when
    complete: a worker killed half-way leaves nothing that is used)."""
    cache = ChunkCache(Path(chunk.folder), fresh=chunk.fresh)
    return cache.make(chunk.key, chunk.ext, lambda p: encode_chunk(chunk.job, str(p)))


def join_copy(
    parts: list[Path], dest: Path, sound: Path, fmt: str, durations: list[float] | None = None
) -> Path:
    """The film: its picture's chunks (identical stream settings) joined by the concat demuxer
    and its encoded sound muxed in, streams copied, in one pass. ``durations``: each part's own
    length, so the next starts exactly there (``compose.part_lengths``)."""
    dest, sound = Path(os.path.abspath(dest)), Path(os.path.abspath(sound))  # run in cwd=
    listing = dest.with_name(dest.stem + ".parts.txt")
    lines = []
    for i, p in enumerate(parts):
        lines.append(concat_file(p, listing))
        if durations is not None:
            lines.append(f"duration {durations[i]:.6f}\n")
    listing.write_text("".join(lines))
    concat = ["-f", "concat", "-safe", "0", "-i", str(listing)]
    run_ffmpeg(
        [*concat, *mux_args(sound, fmt), str(dest)], what="joining the film", cwd=listing.parent
    )
    listing.unlink(missing_ok=True)
    return dest
