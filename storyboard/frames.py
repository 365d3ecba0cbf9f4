"""Frames and probes: the true last frame of a clip, image conforming, clip metadata.

ffmpeg comes from the ``imageio-ffmpeg`` wheel; probing uses moviepy's ffmpeg parser.
"""

from __future__ import annotations

import io
import re
import subprocess
import tempfile
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageOps

from .errors import StoryboardError


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def run_ffmpeg(
    args: list[str], *, what: str, timeout: float = 600
) -> subprocess.CompletedProcess[bytes]:
    """Run ffmpeg quietly; a failure becomes one readable :class:`StoryboardError`."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise StoryboardError(f"{what}: ffmpeg could not run: {e}") from None
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise StoryboardError(f"{what}: ffmpeg failed: {' | '.join(tail) or proc.returncode}")
    return proc


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

    @property
    def drift(self) -> float:
        """How much longer the audio stream is than the video stream (0 if unknown)."""
        if self.video_seconds is None or self.audio_seconds is None:
            return 0.0
        return self.audio_seconds - self.video_seconds


_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #\d+:\d+[^:]*: Video: (\w+)[^\n]*?, (\d{2,5})x(\d{2,5})[^\n]*")
_FPS = re.compile(r"([\d.]+) (?:fps|tbr)")
_AUDIO = re.compile(r"Stream #\d+:\d+[^:]*: Audio: (\w+)[^\n]*?, (\d+) Hz")


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
        proc = subprocess.run(args, capture_output=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise StoryboardError(f"ffmpeg could not run: {e}") from None
    err = proc.stderr.decode(errors="replace")
    if proc.returncode != 0:
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
    # a stream-copy join keeps whole packets: count them at their full length
    count: dict[int, int] = {}
    longest: dict[int, int] = {}
    for line in out.splitlines():
        if not line or line.startswith("#"):
            continue
        parts = [x.strip() for x in line.split(",")]
        stream, pts, dur = int(parts[0]), int(parts[2]), int(parts[3])
        if pts < 0:  # encoder priming, dropped by the decoder (and by `inpoint 0`)
            continue
        count[stream] = count.get(stream, 0) + 1
        longest[stream] = max(longest.get(stream, 0), dur)
    for outp, (inp, kind) in kinds.items():
        info = infos[inp]
        if kind == "v":
            value = round(count.get(outp, 0) / info.fps, 6) if info.fps else 0.0
        else:
            value = round(count.get(outp, 0) * longest.get(outp, 0) * tbs.get(outp, 0.0), 6)
        if kind == "v":
            infos[inp] = replace(info, video_seconds=value)
        else:
            infos[inp] = replace(info, audio_seconds=value)
    return {uniq[i]: infos[i] for i in range(len(uniq))}


def probe_cached(items: list[tuple[Path, str]], cache_dir: Path) -> dict[Path, ClipInfo]:
    """``probe_many`` with a cache keyed by content (``key``: the file's hash and size)."""
    import json
    from dataclasses import asdict

    out: dict[Path, ClipInfo] = {}
    missing: list[tuple[Path, str]] = []
    for path, key in items:
        f = cache_dir / f"{key}.json"
        if key and f.is_file():
            try:
                out[path] = ClipInfo(**json.loads(f.read_text()))
                continue
            except (ValueError, TypeError, OSError):
                pass
        missing.append((path, key))
    if missing:
        probed = probe_many([p for p, _ in missing])
        for path, key in missing:
            out[path] = probed[path]
            if key:
                try:
                    cache_dir.mkdir(parents=True, exist_ok=True)
                    (cache_dir / f"{key}.json").write_text(json.dumps(asdict(probed[path])))
                except OSError:
                    pass  # a cache, not a record
    return out


def probe(path: Path) -> ClipInfo:
    """Duration, size, frame rate, codecs and audio presence, from ffmpeg's stream report."""
    if not Path(path).is_file():
        raise StoryboardError(f"{path}: no such file")
    return _parse_info(ffmpeg_report(["-i", str(path)], what=str(path)), path)


def last_frame_png(path: Path) -> bytes:
    """The clip's true final frame (the last decoded frame, not a seek guess), as PNG bytes."""
    with tempfile.TemporaryDirectory(prefix="sb-frame-") as d:
        out = Path(d) / "last.bmp"
        # seek near the end, decode every remaining frame, keep overwriting: the file left
        # behind is the last frame the decoder produced (BMP: cheap to write many times).
        # A clip shorter than the window is read from its start.
        for seek in (["-sseof", "-0.5"], ["-sseof", "-3"], []):
            args = [*seek, "-i", str(path), "-map", "0:v:0", "-fps_mode", "passthrough"]
            run_ffmpeg([*args, "-update", "1", str(out)], what=f"last frame of {path.name}")
            if out.exists():
                break
        with Image.open(out) as im:
            buf = io.BytesIO()
            im.convert("RGB").save(buf, format="PNG", compress_level=3)
        return buf.getvalue()


def frame_at(path: Path, t: float) -> bytes:
    """The frame shown at ``t`` seconds (accurate seek), as PNG bytes."""
    with tempfile.TemporaryDirectory(prefix="sb-frame-") as d:
        out = Path(d) / "f.png"
        args = ["-ss", f"{max(0.0, t):.3f}", "-i", str(path), "-map", "0:v:0", "-frames:v", "1"]
        run_ffmpeg([*args, str(out)], what=f"frame of {path.name}")
        if not out.exists():  # past the last frame
            return last_frame_png(path)
        return out.read_bytes()


def first_frame_png(path: Path) -> bytes:
    return frame_at(path, 0.0)


def ffmpeg_report(args: list[str], *, what: str) -> str:
    """Run ffmpeg at info level and return what it reported (for analysis filters)."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise StoryboardError(f"{what}: ffmpeg could not run: {e}") from None
    return proc.stderr.decode(errors="replace")


def video_codec_args(
    fmt: str, quality: int, *, preset: str = "veryfast", threads: int | None = None
) -> list[str]:
    """Encoder settings for a container format and a 20-99 quality (95 -> crf 17)."""
    crf = round(51 - quality * 0.36)
    thread_args = ["-threads", str(threads)] if threads else []
    if fmt == "WEBM":
        return [
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-row-mt",
            "1",
            "-crf",
            str(min(63, crf + 10)),
            "-b:v",
            "0",
            "-pix_fmt",
            "yuv420p",
            *thread_args,
        ]
    return [
        "-c:v",
        "libx264",
        "-preset",
        preset,
        "-crf",
        str(crf),
        "-pix_fmt",
        "yuv420p",
        *thread_args,
    ]


def audio_codec_args(fmt: str, bitrate: str = "192k") -> list[str]:
    if fmt == "WEBM":
        return ["-c:a", "libopus", "-b:a", bitrate, "-ar", "48000"]
    return ["-c:a", "aac", "-b:a", bitrate, "-ar", "48000"]


def conform_image(data: bytes, width: int, height: int) -> tuple[bytes, tuple[int, int]]:
    """Cover-crop an image to exactly ``width``x``height``.

    Returns the PNG bytes and the image's original size."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            original = im.size
            rgb = ImageOps.exif_transpose(im).convert("RGB")
    except (OSError, ValueError) as e:
        raise StoryboardError(f"not a readable image: {e}") from None
    if rgb.size != (width, height):
        rgb = ImageOps.fit(rgb, (width, height), method=Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    rgb.save(buf, format="PNG", optimize=False, compress_level=3)
    return buf.getvalue(), original
