"""The ffmpeg layer under everything: running ffmpeg, its reports, and the codec settings.

ffmpeg comes from the ``imageio-ffmpeg`` wheel.
"""

from __future__ import annotations

import subprocess

from storyboard.errors import StoryboardError


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
