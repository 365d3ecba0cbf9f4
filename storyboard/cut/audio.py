"""The sound of the cut (ffmpeg): the clips' own audio laid on the timeline sample-exactly, the
music bed with ducking, and two-pass EBU R128 loudness normalisation.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from storyboard.board.schema import Edit, Music
from storyboard.errors import ComposeError, StoryboardError
from storyboard.files import write_error
from storyboard.media.ffmpeg import audio_codec_args, ffmpeg_report, run_ffmpeg
from storyboard.media.probe import ClipInfo, media_duration

from .timeline import Timeline

if TYPE_CHECKING:
    from .aac import WavInfo

RATE = 48000
CLICK = 0.01  # seconds of fade at every hard cut: no clicks at joins


def fades(tl: Timeline, i: int) -> tuple[float, float]:
    """Seconds of fade in and out of segment ``i``'s own sound (transitions; clicks at cuts)."""
    seg = tl.segments[i]
    fin = (
        seg.overlap
        if seg.transition == "crossfade"
        else (seg.overlap / 2 if seg.transition == "fade" else CLICK)
    )
    nxt = tl.segments[i + 1] if i + 1 < len(tl.segments) else None
    fout = 0.0
    if nxt is not None:
        fout = (
            nxt.overlap
            if nxt.transition == "crossfade"
            else (nxt.overlap / 2 if nxt.transition == "fade" else CLICK)
        )
    return (fin if i > 0 else 0.0), fout


def segment_track(tl: Timeline, i: int, root: Path, info: ClipInfo, dest: Path) -> Path:
    """One segment's audio cut or padded to exactly its video length, with its fades.

    Silent clips contribute silence.
    """
    seg = tl.segments[i]
    if info.has_audio:
        args = ["-i", str(root / seg.file)]
        # the sound from the file's start, where the picture's time starts: one that starts
        # later is padded with silence, not moved to the first frame (hostile helper-57: it
        # played early by its offset); encoder delay before zero is dropped
        src = (
            f"[0:a]aresample={RATE}:async=1:first_pts=0,"
            f"atrim=start={seg.src_start:.6f}:duration={seg.duration:.6f},"
        )
    else:
        args = ["-f", "lavfi", "-t", f"{seg.duration:.6f}", "-i", f"anullsrc=r={RATE}:cl=stereo"]
        src = "[0:a]"
    fin, fout = fades(tl, i)
    chain = (
        f"{src}asetpts=PTS-STARTPTS,aresample={RATE},aformat=sample_fmts=fltp:"
        f"channel_layouts=stereo,apad=whole_dur={seg.duration:.6f},"
        f"atrim=duration={seg.duration:.6f}"
    )
    if fin > 0:
        chain += f",afade=t=in:st=0:d={fin:.4f}"
    if fout > 0:
        chain += f",afade=t=out:st={max(0.0, seg.duration - fout):.4f}:d={fout:.4f}"
    run_ffmpeg(
        [
            *args,
            "-filter_complex",
            chain + "[out]",
            "-map",
            "[out]",
            "-c:a",
            "pcm_f32le",
            "-ar",
            str(RATE),
            "-f",
            "wav",
            str(dest),
        ],
        what=f"scene {seg.scene}: its sound",
    )
    return dest


PLACE_BLOCK = 1 << 20  # samples placed at a time (about 22 s: 8 MB of float32 stereo)


def place_segments(
    tl: Timeline, tracks: list[Path], dest: Path, gains: list[float] | None = None
) -> Path:
    """The native track: every segment's sound placed at its start, sample-exactly, each at
    its scene's ``native_audio`` gain (``gains``, one a segment: applied to that segment's
    sound alone, so a muted scene does not silence the next one's sound inside a crossfade,
    nor leak its own past a cut: hostile helper-58).

    Each segment is positioned absolutely, so nothing drifts however many segments there are.
    The segments' WAVs (float, stereo) are summed where they overlap and written as 16-bit, a
    block at a time (memory stays bounded whatever the film's length): what ffmpeg's ``amix``
    without normalisation does, without a process or a pass over every input for the whole
    film. Tracks in any other form go through ffmpeg."""
    from .aac import read_wav

    wavs = [read_wav(t) for t in tracks]
    ok = [w for w in wavs if w is not None and w.codec == "f32le" and w.channels == 2]
    gains = gains or [1.0] * len(tracks)
    if len(ok) != len(tracks):
        return _place_with_ffmpeg(tl, tracks, dest, gains)

    total = round(tl.duration * RATE)
    starts = [round(seg.start * RATE) for seg in tl.segments]
    try:
        _place(ok, starts, total, dest, gains)
    except OSError as e:
        raise StoryboardError(f"placing the clips' sound: {write_error(dest, e)}") from None
    return dest


def _place(
    wavs: list[WavInfo], starts: list[int], total: int, dest: Path, gains: list[float]
) -> None:
    import wave

    import numpy as np

    with open(dest, "wb") as fh, wave.open(fh, "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(RATE)
        for b0 in range(0, total, PLACE_BLOCK):
            b1 = min(total, b0 + PLACE_BLOCK)
            acc = np.zeros((b1 - b0, 2), np.float32)
            for w, start, gain in zip(wavs, starts, gains, strict=True):
                a, z = max(b0, start), min(b1, start + w.samples)
                if a >= z or gain == 0.0:
                    continue
                with open(w.path, "rb") as src:
                    src.seek(w.offset + (a - start) * w.block)
                    got = np.frombuffer(src.read((z - a) * w.block), "<f4").reshape(-1, 2)
                acc[a - b0 : a - b0 + len(got)] += got if gain == 1.0 else got * np.float32(gain)
            pcm = np.clip(np.rint(acc * 32768.0), -32768, 32767).astype("<i2")
            out.writeframes(pcm.tobytes())


def _place_with_ffmpeg(
    tl: Timeline, tracks: list[Path], dest: Path, gains: list[float] | None = None
) -> Path:
    args: list[str] = []
    parts: list[str] = []
    gains = gains or [1.0] * len(tracks)
    for i, (seg, track, gain) in enumerate(zip(tl.segments, tracks, gains, strict=True)):
        args += ["-i", str(track)]
        volume = f"volume={gain:.6f}," if gain != 1.0 else ""
        parts.append(f"[{i}:a]{volume}adelay={round(seg.start * RATE)}S:all=1[a{i}]")
    n = len(tracks)
    mix = "".join(f"[a{i}]" for i in range(n))
    graph = (
        ";".join(parts) + f";{mix}amix=inputs={n}:normalize=0:dropout_transition=0,"
        f"apad=whole_dur={tl.duration:.6f},atrim=duration={tl.duration:.6f}[out]"
    )
    return mix_to_wav(args, graph, dest, codec="pcm_s16le", what="clip audio")


def mix_to_wav(args: list[str], graph: str, dest: Path, *, codec: str, what: str) -> Path:
    """Run one filter graph ending in ``[out]`` over the inputs in ``args`` into a WAV at ``dest``.

    The graph goes through a script file: a film of many segments makes a graph longer than a
    command line may be.
    """
    script = dest.with_name(dest.name + ".graph.txt")
    script.write_text(graph)
    try:
        run_ffmpeg(
            [
                *args,
                "-/filter_complex",
                str(script),
                "-map",
                "[out]",
                "-c:a",
                codec,
                "-ar",
                str(RATE),
                "-f",
                "wav",
                str(dest),
            ],
            what=what,
        )
    finally:
        script.unlink(missing_ok=True)
    return dest


def duck_spans(tl: Timeline) -> list[tuple[float, float]]:
    """Where the music is lowered: under speech when lines are spoken (issue 18), else under
    every scene with dialogue."""
    from .voice_mix import speech_spans  # the voices build on this module

    spoken = speech_spans(tl)
    if spoken:
        return spoken
    return [(s.start + s.overlap, s.end) for s in tl.segments if s.dialogue]


def music_graph(music: Music, tl: Timeline, native: str, bed: str, out: str) -> str:
    """Filter text: loop/trim/fade the bed, duck it under dialogue and loud sound, mix."""
    dur = tl.duration
    env = "+".join(f"between(t,{a:.3f},{b:.3f})" for a, b in duck_spans(tl)) or "0"
    fade_out_start = max(0.0, dur - music.fade_out)
    fades = ""  # afade with d=0 would mean its default (one second): leave zero fades out
    if music.fade_in > 0:
        fades += f",afade=t=in:st=0:d={music.fade_in:.3f}"
    if music.fade_out > 0:
        fades += f",afade=t=out:st={fade_out_start:.3f}:d={music.fade_out:.3f}"
    # both run a second past the film's end (a bed that ends sooner padded with silence), cut
    # there: the compressor ends its two streams as they arrive, and its last ~0.1 s came out
    # differently from one run to the next (a music mix made again then changed the last AAC
    # segment's sound; hostile N1: a bed that does not loop, ending inside the film)
    tail = 1.0
    g = (
        f"{bed}atrim=duration={dur + tail:.6f},asetpts=PTS-STARTPTS,aresample={RATE},"
        f"aformat=sample_fmts=fltp:channel_layouts=stereo,apad=whole_dur={dur + tail:.6f},"
        f"volume={music.volume:.4f},"
        f"volume='if(gt({env},0),{music.duck:.4f},1)':eval=frame{fades}[bed];"
        f"{native}apad=pad_dur={tail},asplit=2[nat][key];"
        f"[bed][key]sidechaincompress=threshold=0.1:ratio=4:attack=20:release=400[ducked];"
        f"[nat][ducked]amix=inputs=2:normalize=0:duration=longest,atrim=duration={dur:.6f}{out}"
    )
    return g


def measure_loudness(path: Path, target: float, true_peak: float) -> dict[str, float]:
    """First loudness pass: the input's integrated loudness, range, true peak and gating
    threshold, measured by ``ebur128`` (the BS.1770 meter loudnorm's first pass also uses, at
    a seventh of its cost: loudnorm runs at 192 kHz); loudnorm's own pass when the meter has
    no finite answer (silence)."""
    text = ffmpeg_report(
        ["-i", str(path), "-vn", "-af", "ebur128=peak=true:framelog=quiet", "-f", "null", "-"],
        what="loudness measurement",
    )
    summary = text[text.rfind("Summary:") :]
    found = {
        k: re.search(rf"{label}:\s+(-?[\d.]+|-?inf)", summary)
        for k, label in (("input_i", "I"), ("input_thresh", "Threshold"))
    }
    found["input_lra"] = re.search(r"LRA:\s+(-?[\d.]+|-?inf)", summary)
    found["input_tp"] = re.search(r"Peak:\s+(-?[\d.]+|-?inf)", summary)
    values = {k: float(m.group(1)) for k, m in found.items() if m}
    if len(values) == 4 and all(math.isfinite(v) for v in values.values()):
        return {**values, "target_offset": 0.0}
    return _loudnorm_measure(path, target, true_peak)


def _loudnorm_measure(path: Path, target: float, true_peak: float) -> dict[str, float]:
    text = ffmpeg_report(
        [
            "-i",
            str(path),
            "-vn",
            "-af",
            f"loudnorm=I={target}:TP={true_peak}:LRA=11:print_format=json",
            "-f",
            "null",
            "-",
        ],
        what="loudness measurement",
    )
    m = re.search(r"\{[^{}]*\"input_i\"[^{}]*\}", text, re.S)
    if not m:
        raise ComposeError(f"could not measure the loudness of {path.name}")
    return {k: float(v) for k, v in json.loads(m.group(0)).items() if _num(v)}


def _num(v: object) -> bool:
    try:
        float(str(v))
    except ValueError:
        return False
    return True


TOLERANCE = 0.5
"""LU: how far from its target the film's loudness may land when the last cut's gain is kept
(an edit then re-encodes only the sound it changed). A fresh cut lands on the target."""


def linear_gain(
    measured: dict[str, float], target: float, true_peak: float, last: float | None = None
) -> float | None:
    """The second pass as one constant gain (dB), where loudnorm would normalise linearly (its
    rule: a range within 11 LU and the true peak still under the limit after the gain); None
    where it must be loudnorm, dynamic.

    ``last``: the gain the last cut of this film applied. It is kept while the film still lands
    within :data:`TOLERANCE` of the target with it (and under the peak limit): a one-scene edit
    moves the film's loudness a little, and a new gain would change every sample of the sound,
    so every stretch of its AAC would be encoded again."""
    i, tp = measured["input_i"], measured["input_tp"]
    lra, thresh = measured["input_lra"], measured["input_thresh"]
    gain = round(target - i, 4)
    valid = tp != 99 and thresh != -70 and lra != 0 and i != 0
    if not (valid and tp + gain <= true_peak and lra <= 11):
        return None
    if last is not None and abs(i + last - target) <= TOLERANCE and tp + last <= true_peak:
        return last
    return gain


def loudnorm_filter(measured: dict[str, float], target: float, true_peak: float) -> str:
    """Second pass. Where loudnorm would normalise linearly (:func:`linear_gain`), that is one
    constant gain: applied as ``volume``, without loudnorm's 192 kHz round trip. Otherwise
    loudnorm, dynamic."""
    gain = linear_gain(measured, target, true_peak)
    if gain is not None:
        return f"volume={gain:.4f}dB"
    i, tp = measured["input_i"], measured["input_tp"]
    lra, thresh = measured["input_lra"], measured["input_thresh"]
    return (
        f"loudnorm=I={target}:TP={true_peak}:LRA=11:measured_I={i}"
        f":measured_TP={tp}:measured_LRA={lra}"
        f":measured_thresh={thresh}:offset={measured['target_offset']}"
        f":linear=true:print_format=summary"
    )


def integrated_loudness(path: Path) -> float:
    """EBU R128 integrated loudness (LUFS) of a file's audio, via the ebur128 filter."""
    text = ffmpeg_report(
        ["-i", str(path), "-vn", "-af", "ebur128=framelog=quiet", "-f", "null", "-"],
        what="loudness",
    )
    m = re.findall(r"I:\s+(-?[\d.]+) LUFS", text)
    if not m:
        raise ComposeError(f"no loudness summary for {path.name}")
    return float(m[-1])


def music_start(edit: Edit, path: Path | None, log: Callable[[str], None] | None = None) -> Edit:
    """``edit`` with ``music.start`` inside the music file (``path``): past its end, a looped
    bed starts where the loop would be, another from 0 (with a warning, not silence)."""
    m = edit.music
    if m is None or m.start <= 0 or path is None:
        return edit
    length = media_duration(path)
    if length <= 0 or m.start < length:
        return edit
    start = m.start % length if m.loop else 0.0
    if log is not None:
        log(
            f"warning: music.start {m.start:g} s is past the end of {m.file or 'the music'} "
            f"({length:.2f} s); the music starts at {start:.2f} s"
        )
    return edit.model_copy(update={"music": m.model_copy(update={"start": start})})


def mix_music(native: Path, edit: Edit, tl: Timeline, path: Path, dest: Path) -> Path:
    """The music bed (the file at ``path``) mixed under the native track (``edit.music`` must be
    set)."""
    m = edit.music
    assert m is not None
    music_in = [
        "-stream_loop",
        "-1" if m.loop else "0",
        "-ss",
        f"{m.start:.3f}",
        "-i",
        str(path),
    ]
    graph = music_graph(m, tl, "[0:a]", "[1:a]", "[out]")
    run_ffmpeg(
        [
            "-i",
            str(native),
            *music_in,
            "-filter_complex",
            graph,
            "-map",
            "[out]",
            "-t",
            f"{tl.duration:.6f}",
            "-c:a",
            "pcm_s16le",
            "-ar",
            str(RATE),
            "-f",
            "wav",
            str(dest),
        ],
        what="music mix",
    )
    return dest


def normalise(mixed: Path, chain: str, tl: Timeline, dest: Path) -> Path:
    """The mix through loudnorm's second pass (``chain``) as a WAV, to be measured again."""
    run_ffmpeg(
        ["-i", str(mixed), "-map", "0:a:0", "-af", chain, "-t", f"{tl.duration:.6f}"]
        + ["-c:a", "pcm_s16le", "-ar", str(RATE), "-f", "wav", str(dest)],
        what="loudness (dynamic)",
    )
    return dest


AUDIO_EXT = {"MP4": "m4a", "MOV": "m4a", "WEBM": "ogg"}


def encode_audio(mixed: Path, af: list[str], dest: Path, tl: Timeline, fmt: str) -> Path:
    """The film's sound encoded once (second loudness pass applied), ready to be stream-copied."""
    container = {"m4a": "ipod", "ogg": "ogg"}[AUDIO_EXT[fmt]]
    run_ffmpeg(
        [
            "-i",
            str(mixed),
            "-map",
            "0:a:0",
            *af,
            *audio_codec_args(fmt),
            "-t",
            f"{tl.duration:.6f}",
            "-f",
            container,
            str(dest),
        ],
        what="encoding the sound",
    )
    return dest


FORMAT_NAMES = {"MP4": "mp4", "WEBM": "webm", "MOV": "mov"}


def mux_args(audio: Path, fmt: str) -> list[str]:
    """After the picture's input: the encoded sound as the second input, both streams copied,
    into the film's container (an MP4 starts with its index: it plays while it loads)."""
    faststart = ["-movflags", "+faststart"] if fmt == "MP4" else []
    streams = ["-map", "0:v:0", "-map", "1:a:0", "-c", "copy"]
    return ["-i", str(audio), *streams, *faststart, "-f", FORMAT_NAMES[fmt]]


def mux(video: Path, audio: Path, dest: Path, fmt: str) -> None:
    """The film: the picture and the encoded sound, both copied."""
    run_ffmpeg(
        ["-i", str(video), *mux_args(audio, fmt), str(dest)],
        what="final mux",
    )
