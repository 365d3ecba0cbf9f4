"""Frames and probes: the true last frame of a clip, image conforming, clip metadata.

ffmpeg comes from the ``imageio-ffmpeg`` wheel; probing uses moviepy's ffmpeg parser.
"""

from __future__ import annotations

import io
import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageOps

from .errors import StoryboardError


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def run_ffmpeg(args: list[str], *, what: str, timeout: float = 600) -> subprocess.CompletedProcess[bytes]:
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


def probe(path: Path) -> ClipInfo:
    """Duration, size, frame rate and audio presence of a video file."""
    from moviepy.video.io.ffmpeg_reader import ffmpeg_parse_infos

    try:
        info = ffmpeg_parse_infos(str(path), decode_file=False)
    except (OSError, IOError, ValueError, IndexError) as e:
        raise StoryboardError(f"{path}: not a readable video ({e})") from None
    w, h = info.get("video_size") or (0, 0)
    return ClipInfo(
        duration=float(info.get("duration") or 0.0),
        width=int(w),
        height=int(h),
        fps=float(info.get("video_fps") or 0.0),
        has_audio=bool(info.get("audio_found")),
        audio_fps=info.get("audio_fps"),
    )


def last_frame_png(path: Path) -> bytes:
    """The clip's true final frame (the last decoded frame, not a seek guess), as PNG bytes."""
    with tempfile.TemporaryDirectory(prefix="sb-frame-") as d:
        out = Path(d) / "last.bmp"
        # seek near the end, decode every remaining frame, keep overwriting: the file left
        # behind is the last frame the decoder produced (BMP: cheap to write many times)
        for window in ("-0.5", "-3"):
            run_ffmpeg(["-sseof", window, "-i", str(path), "-map", "0:v:0",
                        "-fps_mode", "passthrough", "-update", "1", str(out)],
                       what=f"last frame of {path.name}")
            if out.exists():
                break
        if not out.exists():
            run_ffmpeg(["-i", str(path), "-map", "0:v:0", "-fps_mode", "passthrough",
                        "-update", "1", str(out)], what=f"last frame of {path.name}")
        with Image.open(out) as im:
            buf = io.BytesIO()
            im.convert("RGB").save(buf, format="PNG", compress_level=3)
        return buf.getvalue()


def first_frame_png(path: Path) -> bytes:
    with tempfile.TemporaryDirectory(prefix="sb-frame-") as d:
        out = Path(d) / "first.png"
        run_ffmpeg(["-i", str(path), "-map", "0:v:0", "-frames:v", "1", str(out)],
                   what=f"first frame of {path.name}")
        return out.read_bytes()


def conform_image(data: bytes, width: int, height: int) -> tuple[bytes, tuple[int, int]]:
    """Cover-crop an image to exactly ``width``x``height``; returns PNG bytes and the original size."""
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
