"""Bench: what joining AAC encoded apart costs in quality (issue 19). The film's AAC is kept in
segments of 3.2 s (``storyboard/cut/aac.py``); an edit re-encodes only the segments whose sound
it changed, each run of neighbours with a pre-roll (sound before it that the encoder warms up
on, its packets then dropped), and joins their packets to the ones it kept. This measures such
joins at the film's AAC settings.

A test signal (chords that change, swell and fade, and clicks) is encoded whole, then in
segments (``--joins`` evenly spaced), each encoded with ``P`` seconds of the signal before it
and a post-roll after it, and the segments' packets joined (ADTS frames cut where each
segment's own starts). Both are decoded and compared with the source: the signal-to-noise ratio
of the half-second windows of the 2 s after each join (their worst and 5th percentile), and the
window most under the whole encode in the same place. The whole encode's own spread (its worst
and 5th-percentile half-second over the whole signal) is printed too: a join is judged against
what the encoder does anywhere.

ffmpeg's AAC encoder carries its rate control (at the film's constant bitrate) through the
whole encode: a segment encoded apart is coded differently after the join whatever its pre-roll,
and a cold start needs seconds to settle. ``--seconds 60 --joins 14 --pre 0 --pre 1 --pre 2
--pre 3 --pre 4 --pre 8.19 --post 0.05`` (runs of this version): 5th percentile and worst
half-second after the joins 26.3 and 21.9 dB SNR with no pre-roll, 29.9 and 26.5 dB at 1 s,
31.6 and 26.6 dB at 2 s, 33.9 and 27.8 dB at 3 s, 35.3 and 34.6 dB at 4 s, 35.0 and 26.7 dB at
8.19 s; the whole encode's own half-seconds 33.6 and 31.4 dB. The film uses 3 s, and keeps the
whole encode's packets for the sound an edit did not touch. ffmpeg's constant-quality mode
(``-q:a``) joins cleanly after half a second, but its bitrate does not follow its setting (1.5
gave 227 kb/s, 2 gave 191 kb/s on one signal) and it is not the film's setting.

    python bench/aac_joins.py [--seconds 40] [--joins 3] [--pre S ...] [--post S ...] [--tiny]

``--pre``/``--post`` (repeatable): the rolls to try, every pre with every post (post-roll
defaults to the pre-roll).

``--tiny``: an 8 s signal, two segments (the test suite runs it; its figures mean nothing).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from storyboard.cut.aac import adts_frames
from storyboard.media.ffmpeg import audio_codec_args, ffmpeg_exe

RATE = 48000
FRAME = 1024  # samples per AAC frame


def ff(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-nostdin", "-y", *args], check=True)


def decode(path: Path) -> np.ndarray:
    out = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-nostdin", "-i", str(path)]
        + ["-f", "f32le", "-ac", "2", "-ar", str(RATE), "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(out, np.float32).reshape(-1, 2)


def make_signal(dest: Path, seconds: float, codec: str = "pcm_s16le") -> Path:
    """Chords that change every 1.5 s, swelling and fading, and a click every 1.7 s: content
    that makes the encoder vary its bit use and switch window shapes (no noise: a noise band
    may be coded as noise, which no waveform comparison can judge). The tests use it too."""
    chord = "+".join(
        f"0.08*sin(2*PI*{f}*(1+0.25*floor(mod(t,6)/1.5))*t)" for f in (196, 247, 294, 392, 587)
    )
    ff(
        "-f", "lavfi", "-i",
        f"aevalsrc='({chord})*(0.6+0.4*sin(2*PI*0.3*t))+0.5*lt(mod(t,1.7),0.003)'"
        f":s={RATE}:d={seconds}",
        "-af", "aformat=channel_layouts=stereo", "-c:a", codec, str(dest),
    )  # fmt: skip
    return dest


def snr(x: np.ndarray, ref: np.ndarray) -> float:
    err = float(np.sum((x - ref) ** 2))
    return 10 * np.log10(float(np.sum(ref**2)) / max(err, 1e-20))


def joined(
    src: Path, work: Path, total: int, joins: list[int], pre: int, post: int | None = None
) -> np.ndarray:
    """The source encoded in segments (``pre`` frames of pre-roll, ``post`` of post-roll: as
    many as ``pre`` when None), joined."""
    post = pre if post is None else post
    codec = audio_codec_args("MP4")
    bounds = [0, *joins, -(-total // FRAME) + 1]
    out: list[bytes] = []
    for k in range(len(bounds) - 1):
        a, b = bounds[k], bounds[k + 1]
        s, e = max(0, a - pre) * FRAME, min(total, (b + post) * FRAME)
        seg = work / f"seg{k}.aac"
        ff("-i", str(src), "-af", f"atrim=start_sample={s}:end_sample={e},asetpts=PTS-STARTPTS",
           *codec, "-f", "adts", str(seg))  # fmt: skip
        frames = adts_frames(seg.read_bytes())
        # packet j of a stream starting at frame s/FRAME holds that stream's frame j - 1 (the
        # encoder's priming frame comes first): film frame g is packet g - s/FRAME + 1
        j0 = 0 if k == 0 else a - s // FRAME + 1
        j1 = len(frames) if k == len(bounds) - 2 else b - s // FRAME + 1
        out += frames[j0:j1]
    raw = work / "joined.aac"
    raw.write_bytes(b"".join(out))
    m4a = work / "joined.m4a"  # the priming frame dropped as the whole encode's edit list does
    ff("-itsoffset", f"{-FRAME / RATE:.9f}", "-i", str(raw), "-c", "copy", "-f", "ipod", str(m4a))
    return decode(m4a)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=40.0)
    ap.add_argument("--tiny", action="store_true", help="8 s, two segments (smoke test)")
    ap.add_argument(
        "--post",
        type=float,
        action="append",
        help="seconds of post-roll (repeatable; default: as much as the pre-roll)",
    )
    ap.add_argument("--pre", type=float, action="append", help="seconds of pre-roll (repeatable)")
    ap.add_argument("--joins", type=int, default=3, help="joins, evenly spaced (default 3)")
    args = ap.parse_args()
    if args.joins < 1:
        ap.error("--joins must be at least 1")
    seconds, segments = args.seconds, args.joins + 1
    prerolls: tuple[float, ...] = (0.0, 1.0, 2.7, 5.0, 11.0)
    if args.tiny:
        seconds, segments, prerolls = 8.0, 2, (0.0, 1.0)
    if args.pre:
        prerolls = tuple(args.pre)
    postrolls: list[float | None] = list(args.post) if args.post else [None]
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        src = work / "source.wav"
        make_signal(src, seconds)
        ref = decode(src)
        total = len(ref)
        whole_path = work / "whole.m4a"
        ff("-i", str(src), *audio_codec_args("MP4"), "-f", "ipod", str(whole_path))
        whole = decode(whole_path)
        joins = [round(total * i / segments / FRAME) for i in range(1, segments)]
        half = RATE // 2
        spread = [snr(whole[a : a + half], ref[a : a + half]) for a in range(0, total - half, half)]
        print(
            f"{seconds:g} s of test sound, AAC {' '.join(audio_codec_args('MP4'))}; whole: "
            f"{snr(whole[:total], ref):.1f} dB SNR; {segments} segments joined at "
            + ", ".join(f"{j * FRAME / RATE:.1f} s" for j in joins)
            + f"; the whole encode's half-seconds: worst {min(spread):.1f} dB, 5th percentile "
            f"{np.percentile(spread, 5):.1f} dB, median {np.median(spread):.1f} dB"
        )
        for p, q in [(p, q) for p in prerolls for q in postrolls]:
            pre = round(p * RATE / FRAME)
            post = pre if q is None else round(q * RATE / FRAME)
            got = joined(src, work, total, joins, pre, post)
            n = min(total, len(got), len(whole))
            worst = (np.inf, 0.0, 0.0)
            after: list[float] = []
            for j in joins:
                for w0 in np.arange(0.0, 2.0, 0.5):
                    a = j * FRAME + int(w0 * RATE)
                    win = slice(a, min(n, a + RATE // 2))
                    s_join, s_whole = snr(got[win], ref[win]), snr(whole[win], ref[win])
                    after.append(s_join)
                    if s_join - s_whole < worst[0]:
                        worst = (s_join - s_whole, s_join, s_whole)
            encoded = (
                sum(
                    min(total, (b + post) * FRAME) - max(0, a - pre) * FRAME
                    for a, b in zip([0, *joins], [*joins, -(-total // FRAME)], strict=True)
                )
                / RATE
            )
            print(
                f"  pre-roll {p:4.1f} s, post-roll {post * FRAME / RATE:4.2f} s: the half-seconds "
                f"after the joins: worst {min(after):.1f} dB SNR, 5th percentile "
                f"{np.percentile(after, 5):.1f} dB; the most under the whole encode there "
                f"{worst[1]:.1f} dB against {worst[2]:.1f} dB ({worst[0]:+.1f} dB); "
                f"sound encoded {encoded:.1f} s for {seconds:g} s (ratio {encoded / seconds:.2f}x)"
            )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
