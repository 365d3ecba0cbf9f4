"""Content-addressed thumbnails of takes (``build/thumbs/``), keyed by file hash and time.

They are made once: the executor makes each take's first and last thumbnail right after
downloading it, and the contact sheet and the review page reuse them.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from storyboard.errors import StoryboardError
from storyboard.files import atomic_write

from .frames import frame_at, last_frame_png

if TYPE_CHECKING:
    from PIL import Image


class TakeFile(Protocol):
    """What a thumbnail needs of a take: its file (relative to the project) and hash."""

    @property
    def file(self) -> str: ...
    @property
    def sha256(self) -> str: ...
    @property
    def offset(self) -> float: ...


THUMB_W = 320


def thumb_path(build: Path, take: TakeFile, which: str) -> Path:
    return build / "thumbs" / f"{take.sha256[:20]}-{which}.png"


def thumbnail(root: Path, take: TakeFile, which: str, t: float | None = None) -> Image.Image:
    """``which`` is 'last' (the true last frame) or a time in ms; cached under build/thumbs/."""
    from PIL import Image  # imported when used: start-up stays quick

    cache = thumb_path(root / "build", take, which)
    if cache.is_file():
        with Image.open(cache) as im:
            return im.convert("RGB")
    path = root / take.file
    data = last_frame_png(path) if which == "last" else frame_at(path, (t or 0.0))
    with Image.open(io.BytesIO(data)) as im:
        small = im.convert("RGB")
        small.thumbnail((THUMB_W, THUMB_W * 4))
    buf = io.BytesIO()
    small.save(buf, format="PNG")
    atomic_write(cache, buf.getvalue())
    return small


def prefill(root: Path, take: TakeFile) -> None:
    """Make a fresh take's first and last thumbnails (right after its download)."""
    try:
        thumbnail(root, take, f"{round(take.offset * 1000)}", take.offset)
        thumbnail(root, take, "last")
    except StoryboardError:
        pass  # a thumbnail is a convenience: compose will try again
