"""Clip metadata (duration, size, frame rate, codecs, audio) from ffmpeg's stream report,
with a content-keyed cache."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from storyboard.errors import StoryboardError
from storyboard.media.ffmpeg import ffmpeg_exe, ffmpeg_report, run_child


def media_key(sha256: str, size: int) -> str:
    """The cache key of a media file (build/media, build/thumbs): its content hash and size."""
    return f"{sha256[:32]}-{size}"


@dataclass(frozen=True)
class ClipInfo:
    duration: float
    width: int
    height: int
    fps: float
    has_audio: bool
    audio_fps: int | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    video_seconds: float | None = None  # exact, from packet durations (probe_many)
    audio_seconds: float | None = None  # exact, priming packets excluded (probe_many)
    picture_end: float | None = None  # when the last frame ends (probe_many), in seconds
    audio_layout: str | None = None  # the sound's channels as ffmpeg names them (mono, stereo)
    last_frame: float | None = None  # when the last frame starts (probe_many), in seconds
    audio_start: float | None = None  # when the sound's first sample plays (probe_many), s

    @property
    def picture_seconds(self) -> float:
        """How long the picture plays: the file's length, unless its sound runs on past the
        last frame (hostile5 Q5: the scene was as long as the sound)."""
        if self.picture_end is None or self.picture_end <= 0:
            return self.duration
        return min(self.duration, self.picture_end)

    @property
    def drift(self) -> float:
        """How much longer the audio stream is than the video stream (0 if unknown)."""
        if self.video_seconds is None or self.audio_seconds is None:
            return 0.0
        return self.audio_seconds - self.video_seconds


_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #\d+:\d+[^:]*: Video: (\w+)[^\n]*?, (\d{2,5})x(\d{2,5})[^\n]*")
_FPS = re.compile(r"([\d.]+) (?:fps|tbr)")
_AUDIO = re.compile(r"Stream #\d+:\d+[^:]*: Audio: (\w+)[^\n]*?, (\d+) Hz(?:, ([^,\n]+))?")


def media_duration(path: Path) -> float:
    """The length in seconds of any media file ffmpeg reads (audio-only too)."""
    text = ffmpeg_report(["-i", str(path)], what=str(path))
    d = _DURATION.search(text)
    if d is None:
        raise StoryboardError(f"{path}: not a readable audio or video file")
    return int(d.group(1)) * 3600 + int(d.group(2)) * 60 + float(d.group(3))


def line_digest(name: str, value: str) -> str:
    """The digest kept under a one-line value: the sha256 of the entry's name (its key) and the
    value, so a value edited after it was kept, or moved to another key, no longer matches."""
    import hashlib
    import json

    return hashlib.sha256(json.dumps([name, value]).encode()).hexdigest()


def kept_line(f: Path | None, make: Callable[[], str], ok: Callable[[str], bool]) -> str:
    """A one-line value kept in the file ``f`` (None: not kept): read back when it was written
    whole with its digest (:func:`line_digest`; older entries without one are made again) and
    ``ok`` accepts it, else made by ``make`` and written."""
    if f is not None:
        try:
            value, sep, rest = f.read_text().partition("\n")
            if sep and rest == line_digest(f.name, value) + "\n" and ok(value):
                return value
        except (OSError, UnicodeDecodeError, ValueError):
            pass
    value = make()
    if f is not None:
        try:
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(f"{value}\n{line_digest(f.name, value)}\n")
        except OSError:
            pass  # a cache, not a record
    return value


def _a_length(text: str) -> bool:
    import math

    seconds = float(text)
    return math.isfinite(seconds) and seconds >= 0


def duration_cached(path: Path, key: str, cache_dir: Path) -> float:
    """:func:`media_duration`, kept under ``cache_dir`` by the file's content key (``key``:
    :func:`media_key`; no key: read every time)."""
    f = cache_dir / f"{key}.duration" if key else None
    return float(kept_line(f, lambda: repr(media_duration(path)), _a_length))


def _parse_info(text: str, path: Path) -> ClipInfo:
    d = _DURATION.search(text)
    v = _VIDEO.search(text)
    if d is None or v is None:
        raise StoryboardError(f"{path}: not a readable video")
    fps = _FPS.search(v.group(0))
    a = _AUDIO.search(text)
    return ClipInfo(
        duration=int(d.group(1)) * 3600 + int(d.group(2)) * 60 + float(d.group(3)),
        width=int(v.group(2)),
        height=int(v.group(3)),
        fps=float(fps.group(1)) if fps else 0.0,
        has_audio=a is not None,
        audio_fps=int(a.group(2)) if a else None,
        video_codec=v.group(1),
        audio_codec=a.group(1) if a else None,
        audio_layout=(a.group(3) or "").strip() or None if a else None,
    )


_INPUT = re.compile(r"^Input #(\d+), ", re.M)
_MAPPING = re.compile(r"Stream #(\d+):(\d+) -> #0:(\d+)")
_TB = re.compile(r"^#tb (\d+): (\d+)/(\d+)", re.M)


def probe_many(paths: list[Path]) -> dict[Path, ClipInfo]:
    """Probe several files with one ffmpeg run, including exact stream lengths from packets."""
    uniq = list(dict.fromkeys(paths))
    for p in uniq:
        if not p.is_file():
            raise StoryboardError(f"{p}: no such file")
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin"]
    for p in uniq:
        args += ["-i", str(p)]
    for i in range(len(uniq)):
        args += ["-map", f"{i}:v:0", "-map", f"{i}:a:0?"]
    args += ["-c", "copy", "-f", "framecrc", "-"]
    try:
        proc = run_child(args, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise StoryboardError(f"ffmpeg could not run: {e}") from None
    err = proc.stderr.decode(errors="replace")
    if proc.returncode != 0:
        heads = list(_INPUT.finditer(err))
        for k, m in enumerate(heads):
            block = err[m.start() : heads[k + 1].start() if k + 1 < len(heads) else len(err)]
            if "Stream #" in block and "Video:" not in block:  # hostile helper-57: unnamed
                raise StoryboardError(f"{uniq[int(m.group(1))]}: no picture (no video stream)")
        tail = " | ".join(err.strip().splitlines()[-2:])
        raise StoryboardError(f"cannot read the clips: {tail}")
    # split the report into one block per input
    starts = [(int(m.group(1)), m.start()) for m in _INPUT.finditer(err)]
    infos: dict[int, ClipInfo] = {}
    for k, (idx, pos) in enumerate(starts):
        end = starts[k + 1][1] if k + 1 < len(starts) else len(err)
        infos[idx] = _parse_info(err[pos:end], uniq[idx])
    kinds: dict[int, tuple[int, str]] = {}  # output stream -> (input, 'v'|'a')
    for m in _MAPPING.finditer(err):
        inp, _, outp = int(m.group(1)), int(m.group(2)), int(m.group(3))
        kinds[outp] = (inp, "v" if (inp, "v") not in kinds.values() else "a")
    out = proc.stdout.decode(errors="replace")
    tbs = {int(m.group(1)): int(m.group(2)) / int(m.group(3)) for m in _TB.finditer(out)}
    # a stream-copy join keeps whole packets: count them at their full length (the length
    # most of them have: one packet that spans a gap in the timestamps is not the stream's
    # packet length; hostile helper-58: "copied audio would drift +81520 ms"), and the gap is
    # counted as the time it is
    count: dict[int, int] = {}
    lengths: dict[int, dict[int, int]] = {}
    ends: dict[int, int] = {}
    lasts: dict[int, int] = {}  # the latest presentation time: the last frame's start
    firsts: dict[int, int] = {}  # the earliest: where a stream starts
    for line in out.splitlines():
        if not line or line.startswith("#"):
            continue
        parts = [x.strip() for x in line.split(",")]
        stream, pts, dur = int(parts[0]), int(parts[2]), int(parts[3])
        if pts < 0:  # encoder priming, dropped by the decoder (and by `inpoint 0`)
            continue
        count[stream] = count.get(stream, 0) + 1
        seen = lengths.setdefault(stream, {})
        seen[dur] = seen.get(dur, 0) + 1
        ends[stream] = max(ends.get(stream, 0), pts + dur)
        lasts[stream] = max(lasts.get(stream, 0), pts)
        firsts[stream] = min(firsts.get(stream, pts), pts)
    for outp, (inp, kind) in kinds.items():
        info = infos[inp]
        if kind == "v":
            value = round(count.get(outp, 0) / info.fps, 6) if info.fps else 0.0
        else:
            seen = lengths.get(outp, {})
            usual = max(seen, key=lambda d: (seen[d], d)) if seen else 0  # the commonest, longest
            # and at least the span its timestamps cover (a gap in them is time it takes)
            span = ends.get(outp, 0) - firsts.get(outp, 0)
            value = round(max(count.get(outp, 0) * usual, span) * tbs.get(outp, 0.0), 6)
        if kind == "v":
            last = round(ends.get(outp, 0) * tbs.get(outp, 0.0), 6)
            start = round(lasts[outp] * tbs.get(outp, 0.0), 6) if outp in lasts else None
            infos[inp] = replace(
                info, video_seconds=value, picture_end=last or None, last_frame=start
            )
        else:
            first = round(firsts[outp] * tbs.get(outp, 0.0), 6) if outp in firsts else None
            infos[inp] = replace(info, audio_seconds=value, audio_start=first)
    return {uniq[i]: infos[i] for i in range(len(uniq))}


def record_digest(key: str, fields: dict[str, object]) -> str:
    """The digest a probe record carries: the sha256 of the file's key (its content hash and
    size) and of the record's fields, so a record edited after it was written, or copied to
    another file's name, no longer matches (as a chunk's record proves its chunk)."""
    import hashlib
    import json

    blob = json.dumps({"key": key, "info": fields}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def read_record(f: Path, key: str) -> dict[str, Any] | None:
    """The fields kept in ``f`` for the file ``key`` (without their digest), or None when it
    is missing, not whole, of another file, or without its digest (older records: made again
    once). The probe records here and the GOP layout records (``gop.layouts_cached``) both."""
    import json

    try:
        known = json.loads(f.read_text())
    except (ValueError, OSError):
        return None
    if not isinstance(known, dict):
        return None
    digest = known.pop("digest", None)
    if not isinstance(digest, str) or digest != record_digest(key, known):
        return None
    return known


def write_record(f: Path, key: str, fields: dict[str, Any]) -> None:
    """Keep ``fields`` in ``f`` with their digest (see :func:`read_record`); a cache, not a
    record of anything paid for: a write that fails is left."""
    import json

    try:
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(fields | {"digest": record_digest(key, fields)}))
    except OSError:
        pass


def _read_info(f: Path, key: str) -> ClipInfo | None:
    known = read_record(f, key)
    if known is not None and known.get("has_audio") and "audio_start" not in known:
        return None  # kept before a sound's start was read (hostile helper-57): probed again
    try:
        return ClipInfo(**known) if known is not None else None
    except TypeError:  # fields of another version
        return None


def probe_cached(
    items: list[tuple[Path, str]], cache_dir: Path, fresh: bool = False
) -> dict[Path, ClipInfo]:
    """``probe_many`` with a cache keyed by content (``key``: the file's hash and size).

    A record is trusted only when its digest (:func:`record_digest`) matches its fields and
    the key; otherwise the file is probed again and the record written anew. ``fresh``:
    probe every file again whatever its record says (``compose --force``)."""
    from dataclasses import asdict

    out: dict[Path, ClipInfo] = {}
    missing: list[tuple[Path, str]] = []
    for path, key in items:
        known = _read_info(cache_dir / f"{key}.json", key) if key and not fresh else None
        if known is not None:
            out[path] = known
        else:
            missing.append((path, key))
    if missing:
        probed = probe_many([p for p, _ in missing])
        for path, key in missing:
            out[path] = probed[path]
            if key:
                write_record(cache_dir / f"{key}.json", key, asdict(probed[path]))
    return out


def probe(path: Path) -> ClipInfo:
    """Duration, size, frame rate, codecs and audio presence, from ffmpeg's stream report."""
    if not Path(path).is_file():
        raise StoryboardError(f"{path}: no such file")
    return _parse_info(ffmpeg_report(["-i", str(path)], what=str(path)), path)


MAX_SOUND_BYTES = 2**30  # 1 GiB: over an hour of 48 kHz stereo WAV
SOUND_CHECK_SECONDS = 15  # decoding half a second of a real sound file takes well under one


def audio_problem(path: Path) -> str | None:
    """Why ``path`` is not usable as sound (no audio stream, or one that does not decode), or
    None. Decodes its first half second, so a renamed picture or a broken file is caught
    before a render spends money, not in the final mix."""
    try:
        size = path.stat().st_size
    except OSError as e:
        return f"cannot be read ({e.strerror or e})"
    if size > MAX_SOUND_BYTES:  # hostile F15: 2 GiB of zeros kept ffmpeg busy for a minute
        return f"is {size // 2**20} MiB; a sound file may be at most {MAX_SOUND_BYTES // 2**20} MiB"
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)]
    args += ["-map", "0:a:0", "-t", "0.5", "-f", "null", "-"]
    try:
        proc = run_child(args, timeout=SOUND_CHECK_SECONDS)
    except subprocess.TimeoutExpired:
        return f"could not be read as sound within {SOUND_CHECK_SECONDS} s"
    except OSError as e:
        return f"could not be read ({e.strerror or e})"
    err = proc.stderr.decode(errors="replace")
    if not re.search(r"Stream #0:\d+.*: Audio:", err):
        return "has no audio stream"
    if proc.returncode != 0:
        return "has an audio stream that does not decode"
    return None
