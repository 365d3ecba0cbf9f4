"""A video stream's layout, read without decoding: its parameter sets' signature and its
keyframes, so whole GOPs of a take can be copied into a film as they are.

One ``ffmpeg -c copy -f framecrc`` pass lists every packet (decode order, pts, whether it is
a keyframe) and the stream's extradata (an MP4's SPS/PPS) as size and CRC; the stream report
gives the codec, pixel format, colour tags and frame rate. Two streams with equal signatures
have byte-identical parameter sets and the same shape: their packets join by stream copy.

The same pass copies the keyframe packets out, to read their NAL unit types, and keeps the
timestamps as the file has them (``-copyts``). A stream whose packets are not its frames one
to one from the file's start, or whose keyframes are not IDR pictures, is marked ``unsafe``
(with the reason): its GOPs are never copied (see :meth:`StreamLayout.gops`).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from storyboard.errors import StoryboardError

from .ffmpeg import ffmpeg_exe, run_child, run_ffmpeg, tags_filter
from .probe import kept_line, read_record, write_record

_STREAM = re.compile(r"Stream #0:\d+[^:]*: Video: ([^\n]*)")


@dataclass(frozen=True)
class StreamLayout:
    """What stream copy needs to know of a video stream."""

    signature: str  # codec, size, pixel format and colour tags, frame rate, time base, SPS/PPS
    frames: int
    keyframes: tuple[int, ...]  # presentation-order frame numbers of the keyframes
    key_packets: tuple[int, ...]  # decode-order packet number of each keyframe
    ranks: tuple[int, ...]  # presentation-order frame number of each packet (decode order)
    constant_rate: bool  # every frame one frame long, no gaps
    unsafe: str = ""  # why no GOP of it may be copied (see stream_layout); "" when none
    display: str = ""  # its display matrix, when not the identity ("rotation of 90.00 degrees")

    def joins_whole(self) -> str:
        """Why the stream cannot be joined whole, as it is, to others of its signature (the
        cuts-only film's stream copy), or "": its frames must be shown as they are stored
        (square pixels, not turned), evenly timed from the file's start, in yuv420p
        (hostile helper-60: a phone's rotation, a 2:1 pixel, a late or uneven picture and a
        10-bit take were copied as they were, and the film played them otherwise)."""
        if self.display:
            return f"it is shown turned or flipped by its display matrix ({self.display})"
        if re.search(r"#sar 0: (\d+)/(\d+)", self.signature) and not re.search(
            r"#sar 0: (1/1|0/1)\b", self.signature
        ):
            return "its pixels are not square"
        if not re.search(r"\byuv420p\b", self.signature):
            return "it is not 8-bit 4:2:0 in video range (yuv420p)"
        if not self.constant_rate:
            return "its frames are not evenly timed"
        if self.unsafe and not self.unsafe.startswith("its keyframes"):
            return self.unsafe  # open GOPs join whole: only their ends would be cut
        return ""

    def gops(self, a: int, b: int) -> tuple[int, int, int, int] | None:
        """The longest run of GOPs inside frames ``a..b`` that can be copied:
        ``(first frame, end frame, first packet, end packet)``, or None.

        A GOP qualifies when it is closed: its packets (decode order, up to the next
        keyframe's) show exactly its own frames, so nothing before or after it is needed.
        A run may end in the leading packets of a GOP that is not all inside, when they show
        exactly its first frames: they need no packet after them, and no frame they skip is
        shown before the last one they show (so the take's last B-frame group before the cut
        is copied whole or not at all). Nothing qualifies in an ``unsafe`` stream."""
        if not self.constant_rate or self.unsafe:
            return None
        bounds = [
            *zip(self.keyframes, self.key_packets, strict=True),
            (self.frames, len(self.ranks)),
        ]
        run: tuple[int, int, int, int] | None = None
        best: tuple[int, int, int, int] | None = None

        def keep(r: tuple[int, int, int, int]) -> None:
            nonlocal best
            if best is None or r[1] - r[0] > best[1] - best[0]:
                best = r

        for (k0, p0), (k1, p1) in zip(bounds, bounds[1:], strict=False):
            whole = a <= k0 and k1 <= b and k1 - k0 == p1 - p0
            if whole and sorted(self.ranks[p0:p1]) == list(range(k0, k1)):
                run = (run[0], k1, run[2], p1) if run else (k0, k1, p0, p1)
                keep(run)
                continue
            if a <= k0 < b:  # the run ends in this GOP's leading packets, if any show whole
                q = self._leading(k0, p0, min(p1, p0 + (b - k0)))
                if q > p0:
                    keep((run[0], k0 + q - p0, run[2], q) if run else (k0, k0 + q - p0, p0, q))
            run = None
        return best

    def _leading(self, k0: int, p0: int, most: int) -> int:
        """The end packet of the longest run of packets from ``p0`` (the keyframe showing frame
        ``k0``), at most ``most``, that shows exactly frames ``k0..``; ``p0`` when none."""
        end, low, high = p0, k0, -1
        for q in range(p0, most):
            r = self.ranks[q]
            low, high = min(low, r), max(high, r)
            if low == k0 and high == k0 + (q - p0):
                end = q + 1  # frames k0..high, one packet each (checked below: no repeats)
        if end > p0 and sorted(self.ranks[p0:end]) != list(range(k0, k0 + end - p0)):
            return p0
        return end


def stream_layout(path: Path) -> StreamLayout:
    """The layout of the first video stream of ``path`` (no decoding: packets only)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="sb-gop-") as d:
        keys_file = Path(d) / "keys.bin"
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-copyts", "-i", str(path)]
        cmd += ["-map", "0:v:0", "-c", "copy", "-f", "framecrc", "-"]
        # the keyframe packets as they are, one after another (their sizes are in the list)
        cmd += ["-map", "0:v:0", "-c", "copy", "-bsf:v", "noise=drop=not(key)"]
        cmd += ["-f", "data", str(keys_file)]
        try:
            proc = run_child(cmd, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise StoryboardError(f"{path}: ffmpeg could not run: {e}") from None
        if proc.returncode != 0:
            raise StoryboardError(f"{path}: cannot read its video packets")
        try:
            key_data = keys_file.read_bytes()
        except OSError:
            key_data = b""
    err = proc.stderr.decode(errors="replace")
    out = proc.stdout.decode(errors="replace")
    head = [line for line in out.splitlines() if line.startswith("#") and "software" not in line]
    tb = next((line for line in head if line.startswith("#tb 0:")), "")
    stream = _STREAM.search(err)
    desc = stream.group(1) if stream else ""
    # the description minus bitrates and container tags, which do not shape the stream
    desc = re.sub(r"\s*\(\w+ / 0x[0-9A-Fa-f]+\)", "", desc)
    desc = re.sub(r", \d+ kb/s", "", desc)
    desc = re.sub(r" \(default\)| \[SAR[^\]]*\]|, start [-\d.]+", "", desc)
    pts: list[int] = []
    durs: set[int] = set()
    keys: list[int] = []
    key_sizes: list[int] = []
    hidden = 0
    for line in out.splitlines():
        if not line or line.startswith("#"):
            continue
        parts = [x.strip() for x in line.split(",")]
        flags = [int(p[2:], 16) for p in parts[6:] if p.startswith("F=")]
        if not flags or flags[0] & 1:  # framecrc writes F= only for flags other than "key"
            keys.append(len(pts))
            key_sizes.append(int(parts[4]))
        if flags and flags[0] & 4:  # "discard": in the file, not shown (an edit list)
            hidden += 1
        pts.append(int(parts[2]))
        durs.add(int(parts[3]))
    order = sorted(range(len(pts)), key=lambda i: pts[i])
    ranks = [0] * len(pts)
    for r, i in enumerate(order):
        ranks[i] = r
    # one frame long each, no gaps, within a tick of the time base's rounding (an MP4 in
    # milliseconds steps 41 and 42 at 24 fps: hostile helper-63, re-encoded for nothing)
    order_pts = sorted(pts)
    span = order_pts[-1] - order_pts[0] if pts else 0
    constant = (
        len(pts) > 1
        and span > 0
        and max(durs) - min(durs) <= 1
        and all(
            abs(t - order_pts[0] - i * span / (len(pts) - 1)) <= 1 for i, t in enumerate(order_pts)
        )
    ) or (len(pts) == 1 and bool(durs) and min(durs) > 0)
    display = display_matrix(err.split("Stream mapping:")[0])
    unsafe = _unsafe(err, tb, pts, hidden, key_sizes, key_data)
    if display and not unsafe:  # its GOPs copied as stored would be shown otherwise
        unsafe = f"it is shown turned or flipped by its display matrix ({display})"
    return StreamLayout(
        signature=" | ".join([*head, desc]),
        frames=len(pts),
        keyframes=tuple(ranks[i] for i in keys),
        key_packets=tuple(keys),
        ranks=tuple(ranks),
        constant_rate=constant,
        unsafe=unsafe,
        display=display,
    )


_DISPLAY = re.compile(r"[Dd]isplay ?[Mm]atrix: ([^\n]*)")


def display_matrix(report: str) -> str:
    """The display matrix ffmpeg's report of an input gives its video, when it is not the
    identity ("rotation of 90.00 degrees"), or "". Any matrix but the identity: ffmpeg writes
    a vertical flip as "rotation of -0.00 degrees" (hostile helper-63: read as 0, a flipped
    take was copied as stored)."""
    m = _DISPLAY.search(report)
    shown = m.group(1).strip() if m else ""
    return "" if shown == "rotation of 0.00 degrees" else shown


_FILE_START = re.compile(r"Duration: [^\n]*?, start: (-?[\d.]+)")


def _unsafe(
    report: str, tb: str, pts: list[int], hidden: int, key_sizes: list[int], key_data: bytes
) -> str:
    """Why the packets of a stream cannot be copied as whole GOPs, or "".

    The edges of a copied stretch are decoded from the frames the file shows, on the file's
    timeline; the copied GOPs are counted from its first packet. They agree only when every
    packet is shown (no edit list hides any), the first frame is at pts 0 and the file
    starts at 0 too. A GOP stands alone only when it starts on an IDR picture: a keyframe
    that is an I or P picture with a recovery point (open GOPs, periodic intra refresh) lets
    the pictures after it refer to pictures before it."""
    if hidden:
        return f"an edit list hides {hidden} of its video packets"
    start = _FILE_START.search(report)
    if start is None or float(start.group(1)) != 0:
        return "the file does not start at 0"
    if not pts or min(pts) != 0:
        m = re.fullmatch(r"#tb 0: (\d+)/(\d+)", tb)
        at = f" {min(pts) * int(m.group(1)) / int(m.group(2)):g} s" if m and pts else ""
        return f"its video does not start with the file (its first frame at{at or ' another time'})"
    pos = 0
    for size in key_sizes:
        types = nal_types(key_data[pos : pos + size])
        pos += size
        slices = [t for t in types or [] if 1 <= t <= 5]
        if not slices or any(t != 5 for t in slices):
            return "its keyframes are not all IDR pictures (open GOPs or intra refresh)"
    if pos != len(key_data):
        return "its keyframes could not be read"
    return ""


def nal_types(packet: bytes) -> list[int] | None:
    """The NAL unit types of an H.264 packet (4-byte lengths, as in MP4, or Annex B start
    codes), or None when it is neither."""
    types: list[int] = []
    if packet.startswith((b"\0\0\1", b"\0\0\0\1")):
        for unit in re.split(b"\0\0\1", packet)[1:]:
            if unit:
                types.append(unit[0] & 31)
        return types
    i = 0
    while i + 4 < len(packet):
        n = int.from_bytes(packet[i : i + 4], "big")
        if n == 0:
            return None
        types.append(packet[i + 4] & 31)
        i += 4 + n
    return types if i == len(packet) else None


def layouts_cached(
    items: list[tuple[Path, str]], cache_dir: Path | None = None, fresh: bool = False
) -> dict[Path, StreamLayout | None]:
    """:func:`stream_layout` of each file (None where it cannot be read), read a few at once,
    kept in ``cache_dir`` under each file's content key (its hash and size).

    A kept layout is trusted only when its digest (``probe.read_record``: its fields and the
    key) matches: one edited after it was written (keyframes that are not, hostile helper-33:
    a copy then cut a GOP where there is none), copied under another file's key, or from before
    digests were kept is read again. ``fresh``: every file read again (``compose --force``)."""
    from concurrent.futures import ThreadPoolExecutor

    out: dict[Path, StreamLayout | None] = {}
    missing: list[tuple[Path, str]] = []
    for path, key in items:
        f = cache_dir / f"{key}.layout-3.json" if cache_dir is not None and key else None
        try:
            d = read_record(f, key) if f is not None and not fresh else None
            if d is not None:
                out[path] = StreamLayout(
                    str(d["signature"]),
                    int(d["frames"]),
                    tuple(d["keyframes"]),
                    tuple(d["key_packets"]),
                    tuple(d["ranks"]),
                    bool(d["constant_rate"]),
                    str(d["unsafe"]),  # an entry from before it was read: read again
                    str(d["display"]),
                )
                continue
        except (ValueError, TypeError, KeyError, OSError):
            pass
        missing.append((path, key))

    def read(path: Path) -> StreamLayout | None:
        try:
            return stream_layout(path)
        except StoryboardError:
            return None

    with ThreadPoolExecutor(4) as pool:
        found = list(pool.map(read, [p for p, _ in missing]))
    for (path, key), layout in zip(missing, found, strict=True):
        out[path] = layout
        if layout is not None and cache_dir is not None and key:
            write_record(cache_dir / f"{key}.layout-3.json", key, asdict(layout))
    return out


@lru_cache(maxsize=16)
def encoder_signature(width: int, height: int, fps: int, codec: tuple[str, ...]) -> str:
    """The signature of what our encoder makes with ``codec`` at this size and rate (two
    frames encoded once per process: parameter sets do not depend on the picture)."""
    return _encoder_signature(width, height, fps, codec)


def encoder_signature_cached(
    width: int, height: int, fps: int, codec: tuple[str, ...], cache_dir: Path | None
) -> str:
    """:func:`encoder_signature`, kept in ``cache_dir`` under the settings and the ffmpeg
    binary (its path, size and modification time): a compose does not encode two frames
    each time it starts."""
    import hashlib
    import json
    import os

    exe = ffmpeg_exe()
    try:
        st = os.stat(exe)
        binary: list[object] = [exe, st.st_size, st.st_mtime_ns]
    except OSError:
        binary = [exe]
    key = json.dumps(["signature-2", width, height, fps, list(codec), binary])  # 2: tagged
    name = f"encoder-{hashlib.sha256(key.encode()).hexdigest()[:32]}.sig"
    return kept_line(
        cache_dir / name if cache_dir is not None else None,
        lambda: _encoder_signature(width, height, fps, codec),
        lambda text: " | " in text,
    )


def _encoder_signature(width: int, height: int, fps: int, codec: tuple[str, ...]) -> str:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="sb-sig-") as d:
        ref = Path(d) / "ref.mp4"
        src = f"color=c=black:s={width}x{height}:r={fps}:d={2 / fps:.6f}"
        run_ffmpeg(
            ["-f", "lavfi", "-i", src, "-vf", tags_filter(list(codec)), "-frames:v", "2", *codec]
            + ["-threads", "1", str(ref)],
            what="encoder parameter sets",
        )
        return stream_layout(ref).signature


def time_scale(layout: StreamLayout) -> int | None:
    """The ticks a second of the stream's time base (from its signature), or None."""
    m = re.search(r"#tb 0: 1/(\d+)", layout.signature)
    return int(m.group(1)) if m else None


def copy_packets(src: Path, first: int, end: int, dest: Path, scale: int | None = None) -> None:
    """Packets ``first..end`` (decode order) of the video of ``src`` into ``dest``, copied.
    ``scale``: the track's time scale. The MP4 muxer doubles one under 10000 until it is not,
    so a take's copied packets at 1/600 s came out at 1/19200 s, beside the film's chunks
    encoded at the take's own 1/600 s, and the joined film's frames were not evenly timed
    (hostile helper-50)."""
    keep = ["-video_track_timescale", str(scale)] if scale is not None and scale < 10000 else []
    run_ffmpeg(
        [
            "-i",
            str(src),
            "-map",
            "0:v:0",
            "-c",
            "copy",
            "-bsf:v",
            f"noise=drop=lt(n\\,{first})+gte(n\\,{end})",
            "-an",
            *keep,
            str(dest),
        ],
        what=f"copying whole GOPs of {src.name}",
    )
