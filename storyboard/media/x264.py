"""A take's own x264 settings, read back from the options x264 writes into its first frame
(an SEI message), so the edges of a copied stretch can be encoded to join it.

x264 records every setting that shapes its stream (``options: cabac=1 ref=3 ...``). They are
turned back into ``-x264-params``; whether that reproduces the take's parameter sets is never
assumed: :func:`matching_args` encodes two frames with them and compares the result's stream
signature (SPS/PPS bytes, size, rate, colour) with the take's, and returns nothing unless they
are identical.
"""

from __future__ import annotations

import re
from pathlib import Path

from storyboard.errors import StoryboardError

from .ffmpeg import X264_NAMES, X264_TAGS, ffmpeg_exe, run_child

# x264's names in the SEI -> its option names; values passed as they are
SAME = {
    "cabac": "cabac",
    "ref": "ref",
    "me": "me",
    "subme": "subme",
    "psy": "psy",
    "psy_rd": "psy-rd",
    "mixed_ref": "mixed-refs",
    "me_range": "merange",
    "chroma_me": "chroma-me",
    "trellis": "trellis",
    "8x8dct": "8x8dct",
    "fast_pskip": "fast-pskip",
    "nr": "nr",
    "constrained_intra": "constrained-intra",
    "bframes": "bframes",
    "b_pyramid": "b-pyramid",
    "b_adapt": "b-adapt",
    "b_bias": "b-bias",
    "weightb": "weightb",
    "open_gop": "open-gop",
    "weightp": "weightp",
    "keyint": "keyint",
    "keyint_min": "min-keyint",
    "scenecut": "scenecut",
    "intra_refresh": "intra-refresh",
    "rc_lookahead": "rc-lookahead",
    "mbtree": "mbtree",
    "crf": "crf",
    "qp": "qp",
    "qcomp": "qcomp",
    "qpmin": "qpmin",
    "qpmax": "qpmax",
    "qpstep": "qpstep",
    "ip_ratio": "ipratio",
    "pb_ratio": "pbratio",
    "vbv_maxrate": "vbv-maxrate",
    "vbv_bufsize": "vbv-bufsize",
    "bluray_compat": "bluray-compat",
}
PYRAMID = {"0": "none", "1": "strict", "2": "normal"}
DIRECT = {"0": "none", "1": "spatial", "2": "temporal", "3": "auto"}
INTRA = {0x1: "i4x4", 0x2: "i8x8"}
INTER = {0x10: "p8x8", 0x20: "p4x4", 0x100: "b8x8"}


def sei_options(path: Path) -> str | None:
    """The ``options:`` x264 wrote into the first frame of ``path``'s video, or None."""
    cmd = [ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:v:0", "-c", "copy"]
    cmd += ["-frames:v", "1", "-bsf:v", "h264_mp4toannexb", "-f", "h264", "-"]
    try:
        proc = run_child(cmd, timeout=60)
    except OSError as e:
        raise StoryboardError(f"{path}: ffmpeg could not run: {e}") from None
    m = re.search(rb"x264 - core \d+.*? - options: ([ -~]+)", proc.stdout)
    return m.group(1).decode() if m else None


def x264_params(options: str, chroma_shift: int = 0) -> list[str] | None:
    """``options`` (x264's SEI) as ffmpeg libx264 arguments, or None when they name a rate
    control or mode that cannot be replayed (two-pass, interlaced, ...). ``chroma_shift``:
    added to the chroma QP offset (x264 records it after its own psy adjustment)."""
    found = dict(kv.split("=", 1) for kv in options.split() if "=" in kv)
    if found.get("interlaced", "0") != "0" or found.get("rc") not in ("crf", "cqp"):
        return None
    out: list[str] = []
    for key, value in found.items():
        if key in SAME:
            if key == "b_pyramid":
                value = PYRAMID.get(value, value)
            out.append(f"{SAME[key]}={value.replace(':', ',')}")  # ':' separates the params
        elif key == "deblock":
            on, *ab = value.split(":")
            out.append("deblock=" + ",".join(ab) if on == "1" else "no-deblock=1")
        elif key == "analyse":
            intra, inter = (int(x, 16) for x in value.split(":"))
            names = [n for b, n in INTRA.items() if intra & b] + [
                n for b, n in INTER.items() if inter & b
            ]
            out.append("partitions=" + (",".join(names) or "none"))
        elif key == "direct":
            out.append(f"direct={DIRECT.get(value, value)}")
        elif key == "cqm":
            out.append("cqm=" + {"0": "flat", "1": "jvt"}.get(value, "flat"))
        elif key == "deadzone":
            inter_dz, intra_dz = value.split(",")
            out += [f"deadzone-inter={inter_dz}", f"deadzone-intra={intra_dz}"]
        elif key == "chroma_qp_offset":
            out.append(f"chroma-qp-offset={int(value) + chroma_shift}")
        elif key == "decimate":
            out.append(f"dct-decimate={value}")
        elif key == "aq":
            mode, *strength = value.split(":")
            out.append(f"aq-mode={mode}" + (f":aq-strength={strength[0]}" if strength else ""))
    return ["-c:v", "libx264", "-x264-params", ":".join(out), "-pix_fmt", "yuv420p"]


TO_X264 = {v: k for k, v in X264_NAMES.items()}  # ffmpeg's colour names where x264's differ


def colour_args(signature: str) -> tuple[list[str], list[str]]:
    """The colour tags a stream signature names, ``yuv420p(tv, bt709, progressive)`` (all three
    bt709) or ``(tv, bt709/unknown/unknown, ...)`` (matrix/primaries/transfer): as x264
    parameters (matrix, primaries, transfer: ffmpeg 9 drops its own ``-color_primaries`` and
    ``-color_trc`` for libx264, so a take tagged with all three was never matched) and as
    ffmpeg arguments (the range)."""
    m = re.search(r"yuv\w+\(([^)]*)\)", signature)
    parts = [p.strip() for p in m.group(1).split(",")] if m else []
    params: list[str] = []
    args: list[str] = []
    for p in parts:
        if p in ("tv", "pc"):
            args += ["-color_range", p]
        elif p not in ("progressive", "tt", "bb", "tb", "bt", "top first", "bottom first"):
            three = p.split("/") if "/" in p else [p, p, p]
            for key, v in zip(X264_TAGS, three[:3]):  # noqa: B905
                if v != "unknown":
                    params.append(f"{key}={TO_X264.get(v, v)}")
    return params, args


def matching_args(
    take: Path, signature: str, width: int, height: int, fps: int
) -> list[str] | None:
    """Encoder arguments whose output has exactly ``signature`` (the take's) at this size and
    rate, from the take's own x264 options; None when none is found."""
    from .gop import encoder_signature

    options = sei_options(take)
    if options is None:
        return None
    for shift in (0, 2, 1, 3, 4):  # psy-rd and psy-trellis lower the offset x264 records
        args = x264_params(options, shift)
        if args is None:
            return None
        params, extra = colour_args(signature)
        if params:
            at = args.index("-x264-params") + 1
            args[at] = ":".join([args[at], *params]) if args[at] else ":".join(params)
        args += extra
        tb = re.search(r"#tb 0: 1/(\d+)", signature)
        if tb:  # the container's time scale, as the take's
            args += ["-video_track_timescale", tb.group(1)]
        try:
            if encoder_signature(width, height, fps, tuple(args)) == signature:
                return args
        except StoryboardError:
            return None
    return None
