"""Frame grabs: a clip's true last frame, a frame at a time, and image conforming."""

from __future__ import annotations

import io
import tempfile
import warnings
from pathlib import Path
from typing import Any, BinaryIO

from storyboard.errors import StoryboardError
from storyboard.media.ffmpeg import run_ffmpeg


def last_frame_png(path: Path) -> bytes:
    """The clip's true final frame (the last decoded frame, not a seek guess), as PNG bytes."""
    from PIL import Image  # imported when used: start-up stays quick

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


def frame_before_png(path: Path, until: float | None) -> bytes:
    """The last frame shown before ``until`` seconds (where a trimmed part of the clip ends),
    or, with ``until`` None, the clip's true last frame; PNG bytes."""
    if until is None:
        return last_frame_png(path)
    from PIL import Image  # imported when used: start-up stays quick

    with tempfile.TemporaryDirectory(prefix="sb-frame-") as d:
        out = Path(d) / "last.bmp"
        start = max(0.0, until - 1.0)
        # decode the last second before ``until`` and keep overwriting: what is left is the
        # last frame whose time is before it (the part shows [in, out))
        args = ["-ss", f"{start:.6f}", "-i", str(path), "-t", f"{until - start:.6f}"]
        args += ["-map", "0:v:0", "-fps_mode", "passthrough", "-update", "1", str(out)]
        run_ffmpeg(args, what=f"frame of {path.name} before {until:g} s")
        if not out.exists():  # ``until`` is past the end
            return last_frame_png(path)
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


MAX_PIXELS = 40_000_000  # an 8K frame is 33 megapixels


class ImageRefused(StoryboardError):
    """Not an image Pillow can read, or one too big to decode."""


def image_size(src: Path | BinaryIO) -> tuple[int, int]:
    """Width and height read from the header alone (nothing is decoded).

    Raises :class:`ImageRefused` for what is not an image, and for images over
    :data:`MAX_PIXELS` (decompression bombs among them) before any pixel is decoded."""
    from PIL import Image  # imported when used: start-up stays quick

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(src) as im:
                width, height = im.size
    except Image.DecompressionBombError:
        raise ImageRefused(
            f"has more than {MAX_PIXELS // 1_000_000} megapixels (a decompression bomb?); "
            f"an image may have at most {MAX_PIXELS // 1_000_000} megapixels"
        ) from None
    except (OSError, ValueError, SyntaxError):
        raise ImageRefused("is not an image Pillow can read") from None
    if width * height > MAX_PIXELS:
        raise ImageRefused(
            f"is {width}x{height} ({width * height / 1e6:.0f} megapixels); an image may "
            f"have at most {MAX_PIXELS // 1_000_000} megapixels"
        )
    return width, height


def image_decodes(path: Path) -> bool:
    """Whether every pixel of the image decodes (a truncated or damaged file does not);
    call after :func:`image_size` has refused bombs and non-images."""
    from PIL import Image  # imported when used: start-up stays quick

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                im.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return False
    return True


def first_frame_png(path: Path) -> bytes:
    return frame_at(path, 0.0)


DEEP = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")
"""Pillow's modes of more than 8 bits a channel (greyscale): its RGB conversion clips them."""


def to_rgb(im: Any) -> Any:
    """``im`` as 8-bit RGB. A picture of more than 8 bits (a 16-bit greyscale PNG, Pillow's
    ``I;16``/``I``/``F``) is scaled to 8 bits: Pillow's own conversion clips its values at
    255, and all but the first 1/256 of it came out white (hostile helper-47). ``I`` is read as
    16-bit where it goes past 255, ``F`` as 0-1 where it stays within it."""
    if im.mode not in DEEP:
        return im.convert("RGB")
    import numpy as np
    from PIL import Image

    a = np.asarray(im, dtype=np.float64)
    peak = float(a.max()) if a.size else 0.0
    if im.mode.startswith("I;16") or peak > 255:
        top = 65535.0
    elif im.mode == "F" and peak <= 1.0:
        top = 1.0
    else:
        top = 255.0
    grey = np.clip(np.rint(a * (255.0 / top)), 0, 255).astype(np.uint8)
    return Image.fromarray(grey).convert("RGB")  # uint8, 2-D: mode L


def conform_image(data: bytes, width: int, height: int) -> tuple[bytes, tuple[int, int]]:
    """Cover-crop an image to exactly ``width``x``height``, turned upright first by its EXIF
    orientation.

    Returns the PNG bytes and the image's size upright (what was scaled or cropped: hostile
    fix-44 P4 noted a turned picture at its stored size)."""
    from PIL import Image, ImageOps  # imported when used: start-up stays quick

    try:
        image_size(io.BytesIO(data))
    except ImageRefused as e:
        raise StoryboardError(f"the first frame {e}") from None
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            rgb = to_rgb(ImageOps.exif_transpose(im))
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise StoryboardError(f"not a readable image: {e}") from None
    upright = rgb.size
    if rgb.size != (width, height):
        rgb = ImageOps.fit(rgb, (width, height), method=Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    rgb.save(buf, format="PNG", optimize=False, compress_level=3)
    return buf.getvalue(), upright


def conform_note(size: tuple[int, int], width: int, height: int) -> str | None:
    """What :func:`conform_image` did to a picture ``size`` (upright) for ``width``x``height``,
    in words (None: nothing): scaled alone when the shapes match, else cover-cropped."""
    w, h = size
    if (w, h) == (width, height):
        return None
    if w * height == h * width:
        return f"is {w}x{h}; scaled to {width}x{height} (no crop)"
    return f"is {w}x{h}; cover-cropped to {width}x{height}"
