"""Frame grabs: a clip's true last frame, a frame at a time, and image conforming."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from PIL import Image, ImageOps

from storyboard.errors import StoryboardError
from storyboard.media.ffmpeg import run_ffmpeg


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
