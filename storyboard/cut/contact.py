"""The contact sheet (``build/contact-sheet.png``) and its content-addressed thumbnail cache.

Thumbnails are keyed by the take's file hash and the time they show, so they are made once:
the executor makes each take's first and last thumbnail right after downloading it.

The sheet is drawn again only when what it shows changed (a compose that changed only the
sound keeps it): ``build/media/<sheet>.json`` records the key of what was drawn and the sha256
of the file written, and both must match (the sheet a regular file, not a link).
"""

from __future__ import annotations

import hashlib
import io
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storyboard.errors import StoryboardError
from storyboard.files import atomic_write
from storyboard.media.thumbs import THUMB_W, thumbnail

from .chunks import read_head, sha256_nofollow
from .timeline import Timeline

if TYPE_CHECKING:
    from PIL import Image


def _pair(root: Path, tl: Timeline, i: int) -> tuple[Image.Image, Image.Image] | None:
    seg = tl.segments[i]
    take = seg.take
    end = seg.src_start + seg.duration
    try:
        first = thumbnail(root, take, f"{round(seg.src_start * 1000)}", seg.src_start)
        if take.duration is not None and abs(end - take.duration) < 1.5 / tl.fps:
            last = thumbnail(root, take, "last")
        else:
            t = end - 1.0 / tl.fps
            last = thumbnail(root, take, f"{round(t * 1000)}", t)
    except StoryboardError:
        return None
    return first, last


def _board(path: Path | None) -> Image.Image | None:
    if path is None:
        return None
    from PIL import Image

    from storyboard.media.frames import to_rgb

    try:
        with Image.open(path) as im:
            return to_rgb(im)  # a deep (16-bit) picture scaled, not clipped white
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


SHEET_STYLE = "2"  # bump when the sheet is drawn differently: every kept sheet is drawn again


BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def _fitted(title: str, tail: str, font: Any, room: int) -> str:
    """``title`` then ``tail`` in ``room`` pixels: the title cut with an ellipsis where it is
    too long, so the length after it always shows; without the bidirectional controls that
    would reorder the text after them (hostile helper-41)."""
    title = title.translate(BIDI_CONTROLS)
    if font.getlength(title + tail) <= room:
        return title + tail
    while title and font.getlength(title + "…" + tail) > room:
        title = title[:-1]
    return title.rstrip() + "…" + tail


def sheet_key(tl: Timeline, title: str, boards: dict[str, tuple[Path, str]]) -> str:
    """What the sheet shows: the title and length, each row's scene, take (by content), the
    stretch of it shown, duration and transition, and each board (by content)."""
    rows = [
        [s.scene, s.take.n, s.take.sha256, s.take.duration, s.src_start, s.duration, s.transition]
        for s in tl.segments
    ]
    shown = {scene: sha for scene, (_, sha) in sorted(boards.items())}
    what = [SHEET_STYLE, title, tl.duration, tl.width, tl.height, tl.fps, rows, shown]
    return hashlib.sha256(json.dumps(what, default=str).encode()).hexdigest()


def _record(dest: Path) -> Path:
    return dest.parent / "media" / f"{dest.name}.json"


def _kept(dest: Path, key: str) -> bool:
    """Is ``dest`` the sheet drawn for ``key`` (recorded, and the same bytes)?"""
    raw = read_head(_record(dest), 4096)
    try:
        rec = json.loads(raw or b"")
    except ValueError:
        return False
    found = sha256_nofollow(dest)
    return (
        isinstance(rec, dict)
        and rec.get("key") == key
        and found is not None
        and rec.get("sha256") == found[1]
    )


def contact_sheet(
    tl: Timeline,
    root: Path,
    title: str,
    dest: Path,
    boards: dict[str, tuple[Path, str]] | None = None,
) -> Path:
    """Per scene its first and last frame with id, duration and take: continuity at a glance.

    ``boards`` (issue 17): scene id -> its chosen board's file and sha256 (checked against the
    lock by the caller, so not hashed again here); when any scene has one, the
    sheet has a board column before the clip's frames (empty for a scene without a board).
    Kept as it is when it already shows all of this (see the module's note).
    """
    key = sheet_key(tl, title, boards or {})
    if _kept(dest, key):
        return dest
    from PIL import Image, ImageDraw  # imported when used: start-up stays quick

    from storyboard.media.fonts import drawable, text_font

    with ThreadPoolExecutor(2) as pool:
        pairs = list(pool.map(lambda i: _pair(root, tl, i), range(len(tl.segments))))
    thumb_h = round(THUMB_W * tl.height / tl.width)
    pad, label_w = 12, 230
    boards = boards or {}
    cols = 3 if boards else 2
    head = 36 + (20 if boards else 0)  # the column names, when there is a board column
    sheet = Image.new(
        "RGB",
        (
            label_w + cols * THUMB_W + (cols + 2) * pad,
            len(tl.segments) * (thumb_h + pad) + pad + head,
        ),
        (24, 24, 28),
    )
    draw = ImageDraw.Draw(sheet)
    font, small = text_font(16), text_font(13)  # the captions' font: accents are letters
    heading = _fitted(drawable(title), f": {tl.duration:.1f} s", font, sheet.width - 2 * pad)
    draw.text((pad, 10), heading, font=font, fill=(255, 220, 120))
    if boards:
        for c, name in enumerate(("board", "first frame", "last frame")):
            x = label_w + 2 * pad + c * (THUMB_W + pad)
            draw.text((x, 36), name, font=small, fill=(160, 160, 160))
    for r, (seg, pair) in enumerate(zip(tl.segments, pairs, strict=True)):
        y = head + pad + r * (thumb_h + pad)
        frames: list[Image.Image | None] = list(pair) if pair is not None else []
        if boards:
            board = boards.get(seg.scene)
            frames.insert(0, _board(board[0] if board is not None else None))
        for c, im in enumerate(frames):
            if im is None:
                continue
            fitted = im.copy()
            fitted.thumbnail((THUMB_W, thumb_h))
            x = label_w + 2 * pad + c * (THUMB_W + pad) + (THUMB_W - fitted.width) // 2
            sheet.paste(fitted, (x, y + (thumb_h - fitted.height) // 2))
        draw.text((pad, y + 4), seg.scene, font=font, fill=(255, 255, 255))
        draw.text(
            (pad, y + 28),
            f"{seg.duration:.2f} s  take {seg.take.n}",
            font=small,
            fill=(200, 200, 200),
        )
        draw.text(
            (pad, y + 48),
            f"in: {seg.transition if r else 'start'}",
            font=small,
            fill=(160, 160, 160),
        )
        if pair is None:
            x = label_w + 2 * pad + (THUMB_W + pad if boards else 0)
            draw.text((x, y + 4), "(frames unavailable)", font=small, fill=(255, 120, 120))
    buf = io.BytesIO()
    sheet.save(buf, format="PNG", compress_level=1)
    png = buf.getvalue()
    record = _record(dest)
    try:
        record.unlink(missing_ok=True)  # no record while the sheet is replaced
    except OSError:
        pass  # not a file (a folder?): it is never read as a record (_kept)
    atomic_write(dest, png)
    if all(pair is not None for pair in pairs):  # frames missing: try again next time
        try:
            record.parent.mkdir(parents=True, exist_ok=True)
            key_of = {"key": key, "sha256": hashlib.sha256(png).hexdigest()}
            atomic_write(record, json.dumps(key_of).encode())
        except (OSError, StoryboardError):
            pass  # a record of a convenience: without it the sheet is drawn again
    return dest
