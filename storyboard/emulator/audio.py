"""The emulator's ``audioInference`` (speech, music, sound effects) and lip-sync tasks.

Requests are checked against the audio catalogue (``board/catalogue/audio_models.json``) and
charged its price. The placeholders are real audio files made to be told apart in a film:

* speech: a warbling tone between 1 and 2.1 kHz (the pitch is the voice's), as long as the text
  takes to say, starting at full level on its first sample: a test finds each line in the
  film's sound by the energy above 900 Hz, where neither the clips' sound nor the music reach;
* music: a soft chord below 400 Hz, 30 s long (a real track's length is n/f) or ``duration``;
* effects: a low decaying thump (90 and 180 Hz) of ``duration`` seconds.

A lip-sync task returns the source clip with the lines as its sound.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from storyboard.board.audio_models import (
    AudioProfile,
    audio_common,
    audio_profile,
    estimated_speech_seconds,
)
from storyboard.media.ffmpeg import run_ffmpeg

from .rules import ApiError

RATE = 48000
MUSIC_SECONDS = 30.0  # placeholder track length (MiniMax Music returns "a full song", length n/f)
EFFECT_SECONDS = 10.0  # Mirelo's default duration (reference section 7)
SPEECH_BAND = (1000.0, 2050.0)  # Hz: placeholder voices live here, nothing else does
AUDIO_EXT = {"MP3": "mp3", "WAV": "wav", "FLAC": "flac", "OGG": "ogg"}
_CODEC = {
    "MP3": ["-c:a", "libmp3lame", "-b:a", "128k"],
    "WAV": ["-c:a", "pcm_s16le"],
    "FLAC": ["-c:a", "flac"],
    "OGG": ["-c:a", "libvorbis", "-q:a", "4"],
}
_MUXER = {"MP3": "mp3", "WAV": "wav", "FLAC": "flac", "OGG": "ogg"}


def _bad(code: str, message: str, parameter: str) -> ApiError:
    return ApiError(400, code, message, parameter)


def is_lipsync(task: dict[str, Any]) -> bool:
    p = audio_profile(str(task.get("model")))
    return p is not None and p.kind == "lipsync"


def voice_pitch(voice: str) -> float:
    """The placeholder pitch of a voice (Hz, inside ``SPEECH_BAND``): each voice its own."""
    h = int(hashlib.sha256(voice.casefold().encode()).hexdigest()[:8], 16)
    lo, hi = SPEECH_BAND
    return lo + (h % 8) * (hi - lo) / 7


def validate_audio(t: dict[str, Any]) -> tuple[AudioProfile, float | None]:
    """Apply the catalogue's rules to an ``audioInference`` task; returns its profile and cost
    (None: no source gives the model's price)."""
    model = t.get("model")
    p = audio_profile(str(model))
    if p is None or p.task_type != "audioInference":
        raise _bad("invalidModel", f"unknown audio model {model!r}", "model")
    common = {
        "taskType",
        "taskUUID",
        "model",
        "outputType",
        "outputFormat",
        "includeCost",
        "numberResults",
        "deliveryMethod",
        "uploadEndpoint",
        "webhookURL",
        "ttl",
    }
    for k in t:
        if k not in common and k not in p.params:
            raise _bad("unknownParameter", f"unknown parameter {k!r} for {model}", k)
    fmt = str(t.get("outputFormat", audio_common()["format_default"]))
    if fmt not in audio_common()["formats"]:
        raise _bad(
            "invalidOutputFormat",
            f"outputFormat must be one of {', '.join(audio_common()['formats'])}",
            "outputFormat",
        )
    if "audioSettings" in t and fmt in ("WAV", "FLAC"):
        raise _bad(
            "incompatibleParameters", "audioSettings is only for MP3 and OGG", "audioSettings"
        )
    if t.get("deliveryMethod", "sync") not in audio_common()["delivery"]:
        raise _bad(
            "invalidDeliveryMethod", "deliveryMethod must be sync or async", "deliveryMethod"
        )
    if p.kind == "speech":
        speech = t.get("speech")
        if not isinstance(speech, dict):
            raise _bad("missingSpeech", f"speech is required for {model}", "speech")
        text = speech.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _bad("missingSpeechText", "speech.text is required", "speech.text")
        if not isinstance(speech.get("voice"), str) or not speech["voice"]:
            raise _bad("missingVoice", "speech.voice is required", "speech.voice")
        if "language" in speech and not p.language_field:
            raise _bad("unknownParameter", f"{model} takes no speech.language", "speech.language")
        voice, lang = str(speech["voice"]), speech.get("language")
        if p.voices_complete and not p.voice_listed(voice, lang):
            raise _bad(
                "invalidVoice",
                f"unknown voice {voice!r} for {model} (voices: {', '.join(p.known_voices(lang))})",
                "speech.voice",
            )
        return p, _cost(p, chars=len(text))
    prompt = t.get("positivePrompt")
    if p.prompt_chars is not None:
        lo, hi = p.prompt_chars
        if not isinstance(prompt, str) or len(prompt) < lo or (hi is not None and len(prompt) > hi):
            limit = f"{lo} to {hi}" if hi is not None else f"at least {lo}"
            raise _bad(
                "invalidPositivePrompt",
                f"positivePrompt must have {limit} characters",
                "positivePrompt",
            )
    if "duration" in t:
        d = t["duration"]
        rng = p.duration_range
        if "duration" not in p.params or rng is None:
            raise _bad("unknownParameter", f"{model} takes no duration", "duration")
        if not isinstance(d, int | float) or not rng[0] <= d <= rng[1]:
            raise _bad("invalidDuration", f"duration must be {rng[0]:g} to {rng[1]:g}", "duration")
    return p, _cost(p)


def audio_seconds(t: dict[str, Any], p: AudioProfile) -> float:
    """How long the placeholder for this request is."""
    if p.kind == "speech":
        return estimated_speech_seconds(str(t["speech"]["text"]))
    if "duration" in t:
        return float(t["duration"])
    return MUSIC_SECONDS if p.kind == "music" else EFFECT_SECONDS


def _expr(t: dict[str, Any], p: AudioProfile, seconds: float, seed: int) -> str:
    if p.kind == "speech":
        f = voice_pitch(str(t["speech"]["voice"]))
        # full level at t=0 (cos), 5 "syllables" a second, never silent inside the line
        return f"0.45*sin(2*PI*{f:.2f}*t)*(0.6+0.4*cos(2*PI*5*t))*min(1,({seconds:.4f}-t)/0.03)"
    if p.kind == "music":
        root = 110.0 * (1 + (seed % 4) / 8)
        return (
            f"0.12*(sin(2*PI*{root:.2f}*t)+sin(2*PI*{root * 1.26:.2f}*t)"
            f"+sin(2*PI*{root * 1.5:.2f}*t))*(0.7+0.3*sin(2*PI*0.25*t))"
        )
    return "0.6*(sin(2*PI*90*t)+0.5*sin(2*PI*180*t))*exp(-3*t)"


def render_audio(t: dict[str, Any], p: AudioProfile, dest: Path, seed: int) -> Path:
    """Write the placeholder for an ``audioInference`` request to ``dest``."""
    fmt = str(t.get("outputFormat", audio_common()["format_default"]))
    seconds = audio_seconds(t, p)
    run_ffmpeg(
        [
            "-f",
            "lavfi",
            "-i",
            f"aevalsrc='{_expr(t, p, seconds, seed)}':s={RATE}:c=stereo:d={seconds:.4f}",
            *_CODEC[fmt],
            "-f",
            _MUXER[fmt],
            str(dest),
        ],
        what="emulator audio",
    )
    return dest


def validate_lipsync(t: dict[str, Any], audio_length: Any) -> tuple[AudioProfile, float | None]:
    """A lip-sync ``videoInference`` task: ``inputs.video`` a clip and ``inputs.audios`` sounds
    the emulator made. ``audio_length(uuid)`` is a sound's length in seconds (None: unknown)."""
    p = audio_profile(str(t.get("model")))
    assert p is not None
    common = {
        "taskType",
        "taskUUID",
        "model",
        "outputType",
        "outputFormat",
        "includeCost",
        "deliveryMethod",
        "uploadEndpoint",
        "webhookURL",
        "ttl",
        "outputQuality",
    }
    for k in t:
        if k not in common and k not in p.params:
            raise _bad("unknownParameter", f"unknown parameter {k!r} for {p.air}", k)
    inputs = t.get("inputs")
    if not isinstance(inputs, dict) or not inputs.get("video"):
        raise _bad("missingInputs", "inputs.video is required", "inputs.video")
    audios = inputs.get("audios")
    if not isinstance(audios, list) or not audios:
        raise _bad("missingInputs", "inputs.audios is required", "inputs.audios")
    seconds = 0.0
    for i, a in enumerate(audios):
        src = a.get("source") if isinstance(a, dict) else None
        length = audio_length(str(src)) if src else None
        if length is None:
            raise _bad(
                "invalidAudio",
                f"inputs.audios[{i}].source is no audio this account made",
                f"inputs.audios[{i}].source",
            )
        seconds += length
    return p, _cost(p, seconds=seconds)


def _cost(p: AudioProfile, *, chars: int = 0, seconds: float = 0.0) -> float | None:
    """What the catalogue says a request costs; None where no source gives the price."""
    return p.cost(chars=chars, seconds=seconds) if p.priced else None


def render_lipsync(video: Path, audios: list[tuple[Path, float]], dest: Path) -> Path:
    """The clip with the given sounds laid at their offsets as its only sound track."""
    args = ["-i", str(video)]
    parts = []
    for i, (path, at) in enumerate(audios, 1):
        args += ["-i", str(path)]
        parts.append(f"[{i}:a]aresample={RATE},adelay={round(at * 1000)}:all=1[a{i}]")
    mix = "".join(f"[a{i}]" for i in range(1, len(audios) + 1))
    graph = (
        ";".join(parts) + f";{mix}amix=inputs={len(audios)}:normalize=0:duration=longest,apad[a]"
    )
    run_ffmpeg(
        [
            *args,
            "-filter_complex",
            graph,
            "-map",
            "0:v:0",
            "-map",
            "[a]",
            "-c:v",
            "copy",
            "-c:a",
            "aac",
            "-b:a",
            "128k",
            "-shortest",
            "-f",
            "mp4",
            str(dest),
        ],
        what="emulator lip sync",
    )
    return dest
