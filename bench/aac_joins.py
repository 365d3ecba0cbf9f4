"""Bench: why the film's sound is encoded whole (issue 19). Could a one-scene edit re-encode
only the stretch of AAC around the scene, and join it to the stretches it kept, packet by
packet? This measures what such joins cost in quality at the film's AAC settings.

A 40 s test signal (chords that change, swell and fade, and clicks) is encoded whole, then in four
segments, each encoded with ``P`` seconds of the signal before and after it (pre-roll: the
encoder warms up on sound that is then thrown away) and the segments' packets joined (ADTS
frames cut where each segment's own starts). Both are decoded and compared with the source:
the signal-to-noise ratio in the half-second windows of the 2 s after each join, the worst
window printed against the whole encode's SNR in the same window.

The AAC encoder's rate control carries seconds of state: a segment is encoded worse than the
whole for about as long as its pre-roll falls short of that. So the saving (only the edited
stretch encoded) costs either quality after every join, or a pre-roll long enough that the
edited stretch plus its pre-roll is most of a short film anyway.

    python bench/aac_joins.py [--seconds 40] [--tiny]

``--tiny``: an 8 s signal, two segments (the test suite runs it; its figures mean nothing).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

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


def adts_frames(data: bytes) -> list[bytes]:
    """The ADTS frames of a raw AAC stream, header and all."""
    frames, i = [], 0
    while i + 7 <= len(data):
        if data[i] != 0xFF or data[i + 1] & 0xF0 != 0xF0:
            raise ValueError(f"no ADTS sync word at byte {i}")
        size = ((data[i + 3] & 3) << 11) | (data[i + 4] << 3) | (data[i + 5] >> 5)
        frames.append(data[i : i + size])
        i += size
    return frames


def make_signal(dest: Path, seconds: float) -> None:
    """Chords that change every 1.5 s, swelling and fading, and a click every 1.7 s: content
    that makes the encoder vary its bit use and switch window shapes (no noise: a noise band
    may be coded as noise, which no waveform comparison can judge)."""
    chord = "+".join(
        f"0.08*sin(2*PI*{f}*(1+0.25*floor(mod(t,6)/1.5))*t)" for f in (196, 247, 294, 392, 587)
    )
    ff(
        "-f", "lavfi", "-i",
        f"aevalsrc='({chord})*(0.6+0.4*sin(2*PI*0.3*t))+0.5*lt(mod(t,1.7),0.003)'"
        f":s={RATE}:d={seconds}",
        "-af", "aformat=channel_layouts=stereo", "-c:a", "pcm_s16le", str(dest),
    )  # fmt: skip


def snr(x: np.ndarray, ref: np.ndarray) -> float:
    err = float(np.sum((x - ref) ** 2))
    return 10 * np.log10(float(np.sum(ref**2)) / max(err, 1e-20))


def joined(src: Path, work: Path, total: int, joins: list[int], pre: int) -> np.ndarray:
    """The source encoded in segments (``pre`` frames of pre- and post-roll each), joined."""
    codec = audio_codec_args("MP4")
    bounds = [0, *joins, -(-total // FRAME) + 1]
    out: list[bytes] = []
    for k in range(len(bounds) - 1):
        a, b = bounds[k], bounds[k + 1]
        s, e = max(0, a - pre) * FRAME, min(total, (b + pre) * FRAME)
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
    args = ap.parse_args()
    seconds, segments = args.seconds, 4
    prerolls: tuple[float, ...] = (0.0, 1.0, 2.7, 5.0, 11.0)
    if args.tiny:
        seconds, segments, prerolls = 8.0, 2, (0.0, 1.0)
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
        print(
            f"{seconds:g} s of test sound, AAC {' '.join(audio_codec_args('MP4'))}; whole: "
            f"{snr(whole[:total], ref):.1f} dB SNR; {segments} segments joined at "
            + ", ".join(f"{j * FRAME / RATE:.1f} s" for j in joins)
        )
        for p in prerolls:
            pre = round(p * RATE / FRAME)
            got = joined(src, work, total, joins, pre)
            n = min(total, len(got), len(whole))
            worst = (np.inf, 0.0, 0.0)
            for j in joins:
                for w0 in np.arange(0.0, 2.0, 0.5):
                    a = j * FRAME + int(w0 * RATE)
                    win = slice(a, min(n, a + RATE // 2))
                    s_join, s_whole = snr(got[win], ref[win]), snr(whole[win], ref[win])
                    if s_join - s_whole < worst[0]:
                        worst = (s_join - s_whole, s_join, s_whole)
            encoded = (
                sum(
                    min(total, (b + pre) * FRAME) - max(0, a - pre) * FRAME
                    for a, b in zip([0, *joins], [*joins, -(-total // FRAME)], strict=True)
                )
                / RATE
            )
            print(
                f"  pre-roll {p:4.1f} s: worst half-second after a join {worst[1]:.1f} dB SNR "
                f"against {worst[2]:.1f} dB for the whole encode there ({worst[0]:+.1f} dB); "
                f"sound encoded {encoded:.1f} s for {seconds:g} s (ratio {encoded / seconds:.2f}x)"
            )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
