"""Smart rendering: untouched stretches of takes already in the film's stream settings are
copied as whole GOPs, and only the partial GOPs at their edges are encoded.

A take qualifies when its video stream has the signature of what our chunk encoder makes for
this film (codec and profile, size, pixel format, colour tags, frame rate, time base and
byte-identical SPS/PPS: :func:`~storyboard.media.gop.encoder_signature_cached`), a constant frame
rate, and the stretch starts on one of its frames. Then the edges, encoded with the film's
settings, carry the same parameter sets as the copied packets and everything joins by stream
copy. A take that does not qualify (another size, codec, rate, or encoder settings whose
parameter sets differ) has its whole stretch encoded, as before.

Nor does a take whose packets are not its frames one to one from its start, or whose GOPs do
not stand alone (``StreamLayout.unsafe``): an edit list that hides packets (``ffmpeg -ss``
with ``-c copy``), video that starts after the file (``-itsoffset``), keyframes that are not
IDR pictures (open GOPs, periodic intra refresh). Copying those would put frames out of place
or decode them from pictures of another scene; they are encoded whole and the log says why.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from storyboard.media.gop import (
    StreamLayout,
    encoder_signature_cached,
    layouts_cached,
    time_scale,
)
from storyboard.media.x264 import matching_args

from .timeline import Timeline

Chunk = tuple[str, int, int, int]  # kind, first film frame, end film frame, segment
COPYABLE = ("MP4", "MOV")  # H.264 films; VP9 films are always encoded


def split_for_copy(
    tl: Timeline,
    chunks: list[Chunk],
    root: Path,
    fmt: str,
    codec: list[str],
    log: Callable[[str], None] | None = None,
    cache_dir: Path | None = None,
    fresh: bool = False,
) -> tuple[list[Chunk], dict[int, tuple[int, int, int | None]], list[str]]:
    """``chunks`` with each qualifying ``copy`` stretch split into its encoded edges and a
    ``gop`` chunk of whole GOPs; returns the chunks, for each ``gop`` chunk (by its first film
    frame) the take's packets to copy (decode order, first and end), and the encoder settings
    of every encoded chunk (``codec``, or the takes' own: see :func:`own_settings`)."""
    if fmt not in COPYABLE:
        return chunks, {}, codec
    files = {
        s.file: (root / s.file, s.take.media_key)
        for s in (tl.segments[c[3]] for c in chunks if c[0] == "copy")
    }
    read = layouts_cached(list(files.values()), cache_dir, fresh)  # --force: read again
    wanted = encoder_signature_cached(tl.width, tl.height, tl.fps, tuple(codec), cache_dir)
    own = own_settings(tl, read, wanted)
    if own is not None:
        wanted, codec = own
        if log is not None:
            log("picture: the takes are copied in their own x264 settings (read from them); "
                "the edges and transitions are encoded with the same")  # fmt: skip
    layouts: dict[str, StreamLayout | None] = {}
    refused: set[str] = set()
    unsafe: dict[str, set[str]] = {}  # reason -> scenes
    out: list[Chunk] = []
    packets: dict[int, tuple[int, int, int | None]] = {}
    for kind, f0, f1, seg_i in chunks:
        if kind != "copy":
            out.append((kind, f0, f1, seg_i))
            continue
        seg = tl.segments[seg_i]
        if seg.file not in layouts:
            layout = read[files[seg.file][0]]
            if layout is not None and layout.unsafe:  # never copied, whatever its settings
                unsafe.setdefault(layout.unsafe, set()).add(seg.scene)
                layout = None
            elif layout is not None and layout.signature != wanted:
                refused.add(seg.scene)
                layout = None
            layouts[seg.file] = layout
        layout = layouts[seg.file]
        src = (seg.src_start + f0 / tl.fps - seg.start) * tl.fps
        a = round(src)
        run = None
        if layout is not None and abs(src - a) < 1e-3:
            run = layout.gops(a, a + (f1 - f0))
        if run is None:
            out.append((kind, f0, f1, seg_i))
            continue
        k0, k1, p0, p1 = run
        g0, g1 = f0 + (k0 - a), f0 + (k1 - a)
        if g0 > f0:
            out.append(("copy", f0, g0, seg_i))
        out.append(("gop", g0, g1, seg_i))
        packets[g0] = (p0, p1, time_scale(layout) if layout is not None else None)
        if g1 < f1:
            out.append(("copy", g1, f1, seg_i))
    if log is not None and refused:
        log(
            "picture: takes of "
            + ", ".join(sorted(refused))
            + " are encoded whole (their stream settings differ from the film's)"
        )
    for reason, scenes in sorted(unsafe.items()):
        if log is not None:
            log(f"picture: takes of {', '.join(sorted(scenes))} are encoded whole ({reason})")
    return out, packets, codec


def own_settings(
    tl: Timeline, read: dict[Path, StreamLayout | None], film: str
) -> tuple[str, list[str]] | None:
    """When most takes share one stream signature other than the film's own: that signature
    and the encoder settings that reproduce it (the takes' x264 options, checked by a
    two-frame encode); else None. Every encoded chunk then uses them, so the whole film joins
    by stream copy with one SPS/PPS. Takes that are never copied (``unsafe``) do not count."""
    from collections import Counter

    usable = {p: lay for p, lay in read.items() if lay is not None and not lay.unsafe}
    counts = Counter(lay.signature for lay in usable.values())
    if not counts:
        return None
    common, n = counts.most_common(1)[0]
    if common == film or counts.get(film, 0) >= n:
        return None
    if not re.search(r"\byuv420p\b", common):  # the film is yuv420p, video range, always
        return None  # (hostile helper-63: full-range takes' own settings made a yuvj420p film)
    path = next(p for p, lay in usable.items() if lay.signature == common)
    args = matching_args(path, common, tl.width, tl.height, tl.fps)
    return (common, args) if args is not None else None


LEAD_MOST = 17
"""The most frames of a copied stretch's encoded end that :func:`join_edges` joins to the
window after it: x264's longest B-frame group (16 B-frames and their P)."""


def join_edges(
    tl: Timeline, chunks: list[Chunk], root: Path, codec: list[str], burn: bool
) -> list[Chunk]:
    """``chunks`` with the encoded end of each copied run of GOPs (the frames from the last
    packet copied to the next transition window: a B-frame group or so) made in one filter
    graph with that window, where the graph can make both (see
    :func:`~storyboard.cut.graph.graph_args`): one ffmpeg, one decode of the take up to there
    and one IDR frame fewer. Only that end: the edge at a run's start is up to a GOP of the
    incoming take, which a window would make again whenever the scene before it changed. Not
    with burnt-in captions (their windows end where the segments shown change)."""
    if burn:
        return chunks
    from .chunkjob import composite_job
    from .graph import graph_args

    out: list[Chunk] = []
    for chunk in chunks:
        kind, f0, f1, _ = chunk
        before = out[-1] if out else None
        if kind == "composite" and before is not None and before[0] == "copy" and len(out) > 1:
            edge = before
            if out[-2][0] == "gop" and edge[2] == f0 and edge[2] - edge[1] <= LEAD_MOST:
                joined = ("composite", edge[1], f1, -1)
                if graph_args(composite_job(tl, edge[1], f1, root, codec, 1, False)):
                    out[-1] = joined
                    continue
        out.append(chunk)
    return out
