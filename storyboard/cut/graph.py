"""Composited chunks as one ffmpeg filter graph: no frame passes through Python.

A composite chunk (a transition window, a fade in or out of the film) whose frames all show
the same one segment, or the same two segments of one transition, is made by ffmpeg alone:
each segment's frames are read and conformed exactly as a copied stretch is
(:func:`~storyboard.cut.chunkjob.reframe_filter`), then

* a crossfade is the incoming segment with its alpha faded in (``fade=...:alpha=1``) laid
  over the outgoing one (``overlay``): at each frame ``A * (1 - a) + B * a`` with
  ``a = (t - start) / overlap`` (to 1/255), the blend of :mod:`~storyboard.cut.composite`.
  It was ``xfade=transition=fade``: up to 10 code values off that blend, and about 0.13 s of
  CPU for a 15-frame window of 1280x720 against 0.02 s for this (ffmpeg 9, one thread);
* a fade through black is the outgoing segment faded out over the first half of the overlap
  and the incoming one faded in over the second half, joined where ``a`` reaches 0.5;
* the film's fade in and fade out are ``fade`` filters at their film times.

* burnt-in captions are each an RGBA band (:func:`~storyboard.cut.captions.caption_band`) laid
  over the frames they are on (``overlay``, after the fades): the rest of the frame keeps the
  picture's own pixels. Drawn frame by frame, the picture went through RGB and back and every
  captioned frame shifted in colour, and the frames were sampled by another rule (hostile
  helper-48).

A window may also begin with a few frames of the outgoing segment alone: the encoded end of
a copied stretch joined to the transition after it (:func:`~storyboard.cut.smart.join_edges`);
the incoming segment is then read from where it starts and held back that many frames, and its
alpha is 0 there, so those frames are the outgoing picture exactly.

Anything else (a chunk across more than one transition or past its end, a window entered
mid-way) returns ``None`` from :func:`graph_args` and is composited frame by frame as before.
x264 and the decoders run in ffmpeg's own threads, outside the GIL, so composites scale with
the pool like copies.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from storyboard.media.ffmpeg import tags_filter

from .chunkjob import PIXEL_FORMAT, read_from, reframe_filter

EPS = 1e-6


def _active(segs: list[dict[str, Any]], t: float) -> tuple[int, ...]:
    """The segments showing at film time ``t`` (the rule of ``FrameFunction.frame``)."""
    on = tuple(
        i for i, s in enumerate(segs) if s["start"] - 1e-9 <= t < s["start"] + s["duration"] - 1e-9
    )
    return on or (len(segs) - 1,)


def graph_args(job: dict[str, Any], work: Path | None = None) -> list[str] | None:
    """ffmpeg arguments (inputs, filter graph, output frames; no codec, no destination) that
    make the composite ``job``, or None when it needs frame-by-frame compositing. Its captions'
    bands are written as PNGs in ``work`` (default: a new temporary folder)."""
    fps, f0, f1 = job["fps"], job["f0"], job["f1"]
    n = f1 - f0
    segs = job["segments"]
    phases: list[tuple[int, ...]] = []  # the segments shown, in the window's order
    for f in range(f0, f1):
        on = _active(segs, f / fps)
        if not phases or phases[-1] != on:
            phases.append(on)
    # one transition's two segments, maybe with the outgoing one alone before it for ``lead``
    # frames (the encoded end of a copied stretch joined to its window: smart.join_edges)
    active = phases[-1]
    if len(active) > 2 or (len(active) == 2 and active[1] != active[0] + 1):
        return None
    lead = 0
    if len(phases) == 2 and len(active) == 2 and phases[0] == active[:1]:
        lead = sum(1 for f in range(f0, f1) if _active(segs, f / fps) == phases[0])
    elif len(phases) != 1:
        return None
    t0 = f0 / fps
    w, h = job["size"]
    mode, fx, fy = job.get("reframe") or ("pad", 0.5, 0.5)
    # a fine time base while filtering: fades and blends are computed from timestamps
    conform = (
        f"{reframe_filter(w, h, mode, (fx, fy))},setsar=1,format={PIXEL_FORMAT},"
        f"settb=1/{fps * 1000},setpts=N*1000,tpad=stop={n}:stop_mode=clone,trim=end_frame={n}"
    )
    args: list[str] = []
    parts: list[str] = []
    for k, i in enumerate(active):
        s = segs[i]
        late = lead if k == 1 else 0  # the incoming segment starts this many frames in
        src = s["src_start"] + (f0 + late) / fps - s["start"]
        # src at the window's first frame, the take's frame showing there held (never read
        # past the take's last frame, which is then held: hostile helper-28): read_from
        seek, sample = read_from(src, fps, s.get("last"))
        args += ["-threads", "1", *seek, "-i", s["file"]]
        delay = f",tpad=start={late}:start_mode=clone,setpts=N*1000" if late else ""
        parts.append(f"[{k}:v:0]{sample},{conform}{delay}[s{k}]")
    out = "s0"
    if len(active) == 2:
        b = segs[active[1]]
        overlap = b["overlap"]
        st = lead / fps  # where the transition starts in the window
        if overlap <= 0 or abs(t0 + st - b["start"]) > EPS:
            return None  # the window is entered mid-way: frame by frame
        if b["transition"] == "crossfade":
            # the incoming clip's alpha faded in, laid over the outgoing one (see above); an
            # alpha of 0 (the ``lead`` frames) gives the outgoing picture exactly
            parts.append(
                f"[s1]format=yuva420p,fade=t=in:st={st:.6f}:d={overlap:.6f}:alpha=1[a];"
                "[s0][a]overlay=format=yuv420:eof_action=pass,format=yuv420p[x]"
            )
        else:  # fade through black: a < 0.5 shows the outgoing clip, the rest the incoming
            # (a window of a frame or two can lie all on one side: the other picture is read
            # and dropped, as every labelled output must go somewhere: hostile helper-30/31)
            half = sum(1 for f in range(f0, f1) if (f / fps - b["start"]) / overlap < 0.5)
            d = overlap / 2
            out_part = f"[s0]fade=t=out:st={st:.6f}:d={d:.6f},trim=end_frame={half}"
            in_part = f"[s1]fade=t=in:st={st + d:.6f}:d={d:.6f},trim=start_frame={half}"
            if half == 0:
                parts += ["[s0]nullsink", f"{in_part}[x]"]
            elif half >= n:
                parts += [f"{out_part}[x]", "[s1]nullsink"]
            else:
                parts += [f"{out_part}[o]", f"{in_part}[i]", "[o][i]concat=n=2:v=1:a=0[x]"]
        out = "x"
    fade_in, fade_out = job["fade"]
    last = segs[-1]
    total = round((last["start"] + last["duration"]) * fps) / fps  # Timeline.frames()
    fades = []
    if fade_in and t0 < fade_in:
        if t0 > EPS:
            return None
        fades.append(f"fade=t=in:st=0:d={fade_in:.6f}")
    if fade_out and f1 / fps > total - fade_out + EPS:
        st = total - fade_out - t0
        if st < -EPS:
            return None
        fades.append(f"fade=t=out:st={max(0.0, st):.6f}:d={fade_out:.6f}")
    if fades:
        parts.append(f"[{out}]{','.join(fades)}[f]")
        out = "f"
    for k, (band, top, runs) in enumerate(_bands(job, work)):
        # the band over its runs of chunk frames (n: the frame's number in the chunk)
        args += ["-i", str(band)]
        when = "+".join(f"between(n,{a},{b})" for a, b in runs)
        parts.append(
            f"[{out}][{len(active) + k}:v]overlay=x=0:y={top}:format=yuv420:eof_action=repeat:"
            f"enable='{when}'[c{k}]"
        )
        out = f"c{k}"
    # the copied chunks' time base, and the film's colour tags (media.ffmpeg.tags_filter)
    parts.append(f"[{out}]settb=1/{fps},setpts=N,{tags_filter(job['codec'])}[v]")
    return [*args, "-filter_complex", ";".join(parts), "-map", "[v]", "-frames:v", str(n)]


def _bands(job: dict[str, Any], work: Path | None) -> list[tuple[Path, int, list[tuple[int, int]]]]:
    """Each caption on the chunk's frames: its band's PNG, the row of its top, and the runs of
    chunk frames it is on: those whose film time ``t`` has ``start <= t < end`` and no earlier
    caption on (one caption at a time, the rule of
    :class:`~storyboard.cut.captions.CaptionLayer`: two overlapping ones were drawn over each
    other, hostile helper-49)."""
    fps, f0, f1 = job["fps"], job["f0"], job["f1"]
    w, h = job["size"]
    caps = job.get("captions") or []
    shown: dict[int, int] = {}  # chunk frame -> the caption on it
    for k in range(f1 - f0):
        t = (f0 + k) / fps
        first = next((i for i, (a, b, _) in enumerate(caps) if a <= t < b), None)
        if first is not None:
            shown[k] = first
    if not shown:  # before the import: caption drawing loads PIL, numpy and the fonts
        return []
    from .captions import caption_band

    out: list[tuple[Path, int, list[tuple[int, int]]]] = []
    for i, (_, _, text) in enumerate(caps):
        on = [k for k, c in shown.items() if c == i]
        if not on:
            continue
        runs: list[tuple[int, int]] = []
        for k in on:
            if runs and runs[-1][1] == k - 1:
                runs[-1] = (runs[-1][0], k)
            else:
                runs.append((k, k))
        band, top = caption_band(text, w, h)
        if work is None:
            work = Path(tempfile.mkdtemp(prefix="sb-captions-"))
        path = work / f"caption-{f0}-{i}.png"
        band.save(path, format="PNG")
        out.append((path, top, runs))
    return out
