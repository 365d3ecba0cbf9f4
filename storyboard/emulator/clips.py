"""Placeholder clips: the scene's prompt legible over moving imagery, with a sound track.

A first-frame image really is the first frame (overlays fade in from zero opacity); an
extension starts from its source clip's last frame.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from storyboard.media.ffmpeg import (
    audio_codec_args,
    film_colour_args,
    run_ffmpeg,
    tags_filter,
    video_codec_args,
)
from storyboard.media.frames import conform_image

from .lettering import draw_prompt_box

EXTENSIONS = {"MP4": "mp4", "WEBM": "webm", "MOV": "mov"}


@dataclass(frozen=True)
class ClipSpec:
    prompt: str
    width: int
    height: int
    duration: float
    fps: int = 30
    fmt: str = "MP4"
    quality: int = 95
    seed: int = 0
    first_frame: bytes | None = None  # image bytes (any size; conformed here)
    draft: bool = False  # fast encoder preset for tests


def _palette(seed: int) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    h = hashlib.sha256(str(seed).encode()).digest()
    a = (40 + h[0] % 120, 40 + h[1] % 120, 60 + h[2] % 140)
    b = (h[3] % 90, h[4] % 90, 30 + h[5] % 100)
    return a, b


def text_overlay(prompt: str, width: int, height: int, label: str) -> bytes:
    """An RGBA PNG: the prompt wrapped in a dark box over the lower part of the frame."""
    im = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw_prompt_box(im, prompt, label, max(10, height // 26), min_chars=20)
    buf = io.BytesIO()
    im.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def sprite(size: int, color: tuple[int, int, int]) -> bytes:
    im = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    ImageDraw.Draw(im).ellipse([0, 0, size - 1, size - 1], fill=(*color, 230))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def _codec_args(fmt: str, quality: int, draft: bool, fps: int = 30) -> list[str]:
    """The clip's encoder settings. Full-size H.264 placeholders are made in the stream
    settings of the film's own chunks (same x264 preset and quality, BT.709 tags) with a
    keyframe every 2 s, so a film at the defaults copies their untouched stretches as whole
    GOPs (issue 19), as it would a real take made that way; they stay placeholders (the
    lock's ``made_by`` says so)."""
    args = [*video_codec_args(fmt, quality, preset="ultrafast" if draft else "veryfast")]
    if fmt != "WEBM" and not draft:
        args += [*film_colour_args(fmt), "-g", str(2 * fps)]
    args += audio_codec_args(fmt, "96k" if fmt == "WEBM" else "128k")
    return args + (["-movflags", "+faststart"] if fmt == "MP4" else [])


def _still(path: Path, fps: int, seconds: float) -> list[str]:
    """An image as a looping video input."""
    return ["-loop", "1", "-framerate", str(fps), "-t", f"{seconds}", "-i", str(path)]


def render_clip(spec: ClipSpec, dest: Path, label: str = "") -> Path:
    """Render ``spec`` to ``dest`` (extension decides nothing: ``spec.fmt`` does)."""
    w, h, fps, dur = spec.width, spec.height, spec.fps, spec.duration
    c0, c1 = _palette(spec.seed)
    with tempfile.TemporaryDirectory(prefix=f"sb-emu-{os.getpid()}-") as d:
        tmp = Path(d)
        (tmp / "text.png").write_bytes(text_overlay(spec.prompt, w, h, label or "storyboard"))
        (tmp / "dot.png").write_bytes(sprite(max(8, h // 10), (255, 200, 80)))
        inputs: list[str] = []
        if spec.first_frame is not None:
            png, _ = conform_image(spec.first_frame, w, h)
            (tmp / "bg.png").write_bytes(png)
            inputs += _still(tmp / "bg.png", fps, dur)
        else:
            inputs += [
                "-f",
                "lavfi",
                "-i",
                f"gradients=s={w}x{h}:r={fps}:d={dur}:speed=0.03:seed={spec.seed % 100000}"
                f":c0=0x{c0[0]:02x}{c0[1]:02x}{c0[2]:02x}"
                f":c1=0x{c1[0]:02x}{c1[1]:02x}{c1[2]:02x}",
            ]
        inputs += _still(tmp / "text.png", fps, dur) + _still(tmp / "dot.png", fps, dur)
        tone = 110 + spec.seed % 330
        inputs += [
            "-f",
            "lavfi",
            "-i",
            f"aevalsrc='0.25*sin(2*PI*{tone}*t)*(0.55+0.45*sin(2*PI*1.5*t))"
            f"+0.08*sin(2*PI*{tone * 1.5:.1f}*t)':s=48000:d={dur}",
        ]
        period = max(2.0, dur / 2)
        codec = _codec_args(spec.fmt, spec.quality, spec.draft, fps)
        # tagged as the film's chunks are (tags_filter): a clip in the film's settings is copied
        tags = "" if spec.draft else f",{tags_filter(codec)}"
        graph = (
            f"[0:v]format=yuv420p,setsar=1[bg];"
            f"[1:v]format=rgba,fade=in:st=0:d=0.5:alpha=1[txt];"
            f"[2:v]format=rgba,fade=in:st=0:d=0.3:alpha=1[dot];"
            f"[bg][dot]overlay=x='(W-w)*(0.5+0.45*sin(2*PI*t/{period:.3f}))'"
            f":y='H*0.15+H*0.1*abs(sin(2*PI*t))':eval=frame[m];"
            f"[m][txt]overlay=0:0:format=auto,format=yuv420p{tags}[v]"
        )
        args = [
            *inputs,
            "-filter_complex",
            graph,
            "-map",
            "[v]",
            "-map",
            "3:a",
            "-r",
            str(fps),
            "-t",
            f"{dur}",
            *codec,
            "-f",
            {"MP4": "mp4", "WEBM": "webm", "MOV": "mov"}[spec.fmt],
            str(dest),
        ]
        run_ffmpeg(args, what="emulator clip")
    return dest


def concat_clips(
    first: Path, second: Path, dest: Path, fmt: str, quality: int, draft: bool
) -> Path:
    """``first`` then ``second`` as one file (an extension that returns the whole video)."""
    graph = "[0:v][0:a][1:v][1:a]concat=n=2:v=1:a=1[v][a]"
    run_ffmpeg(
        [
            "-i",
            str(first),
            "-i",
            str(second),
            "-filter_complex",
            graph,
            "-map",
            "[v]",
            "-map",
            "[a]",
            *_codec_args(fmt, quality, draft),
            "-f",
            {"MP4": "mp4", "WEBM": "webm", "MOV": "mov"}[fmt],
            str(dest),
        ],
        what="emulator extension",
    )
    return dest
