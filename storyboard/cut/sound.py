"""The film's sound, every step kept in the chunk cache: each segment's own sound, the native
track they make together, the music mix, the loudness measurement and the encoded track.

A music change re-makes the mix, the measurement and the encoding, nothing before them; a
one-scene edit re-makes that segment's sound and what is built on it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from storyboard.board.spec import Project
from storyboard.files import atomic_write
from storyboard.media.ffmpeg import audio_codec_args
from storyboard.media.probe import ClipInfo

from .aac import SEGMENTED, encode_segmented, read_wav, segmentable, workers
from .audio import (
    AUDIO_EXT,
    RATE,
    TOLERANCE,
    duck_spans,
    encode_audio,
    fades,
    linear_gain,
    loudnorm_filter,
    measure_loudness,
    mix_music,
    music_start,
    normalise,
    place_segments,
    segment_track,
)
from .chunks import ChunkCache, chunk_key
from .filmkey import music_hash
from .timeline import Timeline
from .voice_mix import FilmSounds, native_gain_expr, overlay, shape_native

Log = Callable[[str], None]
GUESS_CPUS = 4  # CPUs from which the sound is encoded while its loudness is measured


def _r(x: float) -> float:
    return round(x, 6)


@dataclass(frozen=True)
class Loudness:
    """The constant gain the film's sound was given (two-pass loudness, linear), recorded in the
    film's stamp so the next cut can keep it (:func:`linear_gain`)."""

    target: float
    true_peak: float
    gain: float


@dataclass(frozen=True)
class FilmSound:
    path: Path  # the encoded track, ready to be stream-copied
    loudness: Loudness | None  # the constant gain applied, None when none was (or loudnorm)


def film_sound(
    tl: Timeline,
    project: Project,
    infos: dict[str, ClipInfo],
    cache: ChunkCache,
    log: Log | None = None,
    sounds: FilmSounds | None = None,
    kept: Loudness | None = None,
) -> FilmSound:
    """The encoded sound track of the film (a cached file, ready to be stream-copied).

    ``sounds``: the spoken lines, placed sounds and generated music (issue 18). ``kept``: the
    last cut's loudness gain (from its stamp), kept while the film stays within
    :data:`TOLERANCE` of its target with it."""
    root = project.root
    sounds = sounds or FilmSounds()
    music = project.board.edit.music
    music_path: Path | None = None
    if music is not None:
        music_path = sounds.music if music.prompt is not None else root / str(music.file)
    edit = music_start(project.board.edit, music_path, log)
    fmt = project.board.output.format
    seg_keys = []
    tracks = []
    for i, seg in enumerate(tl.segments):
        info = infos[seg.file]
        fin, fout = fades(tl, i)
        key = chunk_key(
            "sound-segment",
            {
                "take": f"{seg.take.media_key}@{seg.take.offset}",
                "audio": info.has_audio,
                "src": _r(seg.src_start),
                "duration": _r(seg.duration),
                "fades": [_r(fin), _r(fout)],
                "rate": RATE,
                "from": "file start",  # a late sound padded (hostile helper-57)
            },
        )
        seg_keys.append(key)
        tracks.append(cache.make(key, "wav", partial(segment_track, tl, i, root, info)))
    gains = [sounds.scene_gain.get(s.scene, 1.0) for s in tl.segments]
    placing: dict[str, object] = {
        "segments": seg_keys,
        "starts": [_r(s.start) for s in tl.segments],
        "duration": _r(tl.duration),
    }
    if any(g != 1.0 for g in gains):  # native_audio, each on its own scene's sound
        placing["gains"] = [round(g, 6) for g in gains]
    native_key = chunk_key("sound-native", placing)
    mixed_key = native_key
    mixed = cache.make(native_key, "wav", lambda p: place_segments(tl, tracks, p, gains))
    expr = native_gain_expr(tl)
    if expr is not None:  # issue 18: the clips' sound lowered under speech
        placed = mixed
        mixed_key = chunk_key("sound-shaped", {"native": native_key, "expr": expr})
        mixed = cache.make(mixed_key, "wav", lambda p: shape_native(placed, expr, tl, p))
    if edit.music is not None and music_path is not None:
        native, bed = mixed, music_path
        mixed_key = chunk_key(
            "sound-music",
            {
                "native": mixed_key,
                "music": edit.music.model_dump(mode="json", exclude={"price"}),
                "file": music_hash(project) or sounds.music_key,
                "duck": [[_r(a), _r(b)] for a, b in duck_spans(tl)],
                "duration": _r(tl.duration),
            },
        )
        mixed = cache.make(mixed_key, "wav", lambda p: mix_music(native, edit, tl, bed, p))
    elif edit.music is not None and log is not None:
        log("warning: the music is not generated yet; the film has none")
    if sounds.overlays:  # issue 18: the spoken lines and the scenes' sounds, at their times
        under = mixed
        mixed_key = chunk_key(
            "sound-voices",
            {"mixed": mixed_key, "items": sounds.keys, "duration": _r(tl.duration)},
        )
        mixed = cache.make(mixed_key, "wav", lambda p: overlay(under, sounds.overlays, tl, p))

    def encoded(
        af: list[str], say: Log | None = log, src: Path | None = None, src_key: str | None = None
    ) -> Path:
        """The mix (or ``src``, kept under ``src_key``) through ``af`` in the film's codec. AAC
        with a constant gain (or none) is encoded in segments, each kept by the PCM it
        encodes, so an edit re-encodes only the stretches whose sound changed (issue 19); Opus
        is encoded whole."""
        source, source_key = (src, src_key) if src is not None else (mixed, mixed_key)
        wav = read_wav(source) if segmentable(fmt, af) else None
        enc_key = chunk_key(
            "sound-encoded",
            {
                "mixed": source_key,
                "af": af,
                "codec": audio_codec_args(fmt),
                "container": AUDIO_EXT[fmt],
                "duration": _r(tl.duration),
                "by": SEGMENTED if wav is not None else "whole",
            },
        )
        if wav is not None:
            chain = af[1] if af else None
            return cache.make(
                enc_key, AUDIO_EXT[fmt], lambda p: encode_segmented(wav, chain, fmt, p, cache, say)
            )
        return cache.make(enc_key, AUDIO_EXT[fmt], lambda p: encode_audio(source, af, p, tl, fmt))

    if edit.loudness == "off":
        return FilmSound(encoded([]), None)
    target = float(edit.loudness)
    tp = edit.true_peak
    last = kept.gain if kept and (kept.target, kept.true_peak) == (target, tp) else None

    def loudness_of(path: Path, key: str) -> dict[str, float]:
        """The first loudness pass over ``path`` (kept in the cache under ``key``'s)."""
        spec = {"mixed": key, "target": target, "tp": tp, "by": "ebur128"}
        found = cache.make(
            chunk_key("sound-loudness", spec),
            "json",
            lambda p: atomic_write(p, json.dumps(measure_loudness(path, target, tp)).encode()),
        )
        return {k: float(v) for k, v in json.loads(found.read_text()).items()}

    def dynamic(measured: dict[str, float]) -> Path:
        """The film's sound through loudnorm working dynamically (a range over 11 LU, or a
        peak the gain would push over the limit), measured again and brought onto the target
        by one constant gain within the peak limit: loudnorm's dynamic mode lands beside the
        target, 1.2-1.4 LU on a film of a loud scene among quiet ones (hostile helper-48)."""
        chain = loudnorm_filter(measured, target, tp) + f",aresample={RATE}"
        normed_key = chunk_key("sound-normed", {"mixed": mixed_key, "af": chain})
        normed = cache.make(normed_key, "wav", lambda p: normalise(mixed, chain, tl, p))
        after = loudness_of(normed, normed_key)
        level = after.get("input_i", math.nan)
        fix = round(target - level, 2) if math.isfinite(level) else 0.0
        room = tp - after.get("input_tp", 0.0)
        if fix > 0 and math.isfinite(room):
            fix = max(0.0, min(fix, round(room, 2)))  # never over the peak limit
        if log is not None:
            lands = level + fix if math.isfinite(level) else target
            log(
                f"loudness: {measured['input_i']:.1f} LUFS measured (range "
                f"{measured['input_lra']:.1f} LU, true peak {measured['input_tp']:.1f} dBTP: "
                f"loudnorm, dynamic) -> {lands:.1f} LUFS (true peak <= {tp:g} dBTP)"
            )
        af = ["-af", f"volume={fix:.2f}dB,aresample={RATE}"] if abs(fix) >= 0.05 else []
        return encoded(af, log, normed, normed_key)

    # with CPUs to spare, the sound is encoded with the last cut's gain while the loudness is
    # measured: an edit usually keeps it (the guess is used only if it is kept; else its
    # segments are left to the cache). On fewer CPUs the picture has them all, and a wrong
    # guess would cost a whole encode of the sound it changed
    guess = None if last is None else ["-af", f"volume={last:.4f}dB,aresample={RATE}"]
    if guess is not None and (not segmentable(fmt, guess) or workers() < GUESS_CPUS):
        guess = None
    with ThreadPoolExecutor(1) as pool:
        guessing = None if log is None else (lambda line: log(f"{line} (a guess: the last gain)"))
        early = pool.submit(encoded, guess, guessing) if guess else None
        measured = loudness_of(mixed, mixed_key)
        if not math.isfinite(measured.get("input_i", math.nan)):
            # silence (an animatic before its voices and music are made): nothing to bring
            # to the target, and loudnorm refuses a level of -inf (hostile helper-47)
            if log is not None:
                log("loudness: the sound is silent: not normalised")
            return FilmSound(encoded([]), None)
        gain = linear_gain(measured, target, tp, last)
        loud: Loudness | None = None
        if gain is None:  # loudnorm, dynamic: then measured again, and brought onto the target
            return FilmSound(dynamic(measured), None)
        else:
            af = ["-af", f"volume={gain:.4f}dB,aresample={RATE}"]
            loud = Loudness(target, tp, gain)
        if log is not None:
            level = measured["input_i"]
            if gain is not None and gain == last and round(target - level, 4) != gain:
                log(
                    f"loudness: {level:.1f} LUFS measured -> {level + gain:.1f} LUFS with the "
                    f"last cut's gain ({gain:+.1f} dB: within {TOLERANCE:g} LU of {target:g}, "
                    f"so the sound it did not change is not encoded again; true peak <= "
                    f"{tp:g} dBTP)"
                )
            else:
                log(
                    f"loudness: {level:.1f} LUFS measured -> {target:g} LUFS "
                    f"(true peak <= {tp:g} dBTP)"
                )
        if early is not None and af == guess:
            return FilmSound(early.result(), loud)
        return FilmSound(encoded(af), loud)
