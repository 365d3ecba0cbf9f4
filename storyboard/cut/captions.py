"""Burnt-in captions: dialogue lines drawn in the packaged font (:mod:`storyboard.media.fonts`,
Noto Sans), and a warning for what it lacks.

Pillow's bundled font (used before) drew every accented letter as a box (hostile helper-30).
What the font has no glyph for (CJK, Arabic, emoji...) is read from its character map and is a
warning at the compose (:func:`caption_warnings`), never a silent box.
"""

from __future__ import annotations

import unicodedata

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from storyboard.media.fonts import TEXT_FONT, text_font, undrawable

from .timeline import Caption, Timeline

CAPTION_FONT = TEXT_FONT
"""The family burnt-in captions are drawn in."""


def _shown(ch: str) -> str:
    """A character as a warning names it: itself, or its code point where it has no ink of
    its own (a space, a combining mark, a format character)."""
    if ch.isprintable() and not ch.isspace() and unicodedata.category(ch)[0] not in "MC":
        return ch
    return f"U+{ord(ch):04X}"


MAX_LINES = 3  # lines of one burnt-in caption


def caption_warnings(tl: Timeline) -> list[str]:
    """One warning per caption with characters the caption font cannot draw, naming the
    caption's scene, the caption and those characters (the ``.srt`` has the text right);
    one per caption longer than :data:`MAX_LINES` lines at the film's size, which is cut
    (hostile helper-37: it lost its end silently)."""
    out: list[str] = []
    font = text_font(_size(tl.width, tl.height))
    for cap in tl.captions:
        scene = next((s.scene for s in tl.segments if s.start <= cap.start < s.end), None)
        where = f"scene {scene!r}" if scene is not None else f"at {cap.start:.2f} s"
        text = cap.text if len(cap.text) <= 60 else cap.text[:59] + "…"
        lines = _wrap(cap.text, font, tl.width - 48)
        if len(lines) > MAX_LINES:
            out.append(
                f"warning: {where}: the burnt-in caption {text!r} takes {len(lines)} lines at "
                f"{tl.width}x{tl.height}; its first {MAX_LINES} are burned in, ending at "
                f"{lines[MAX_LINES - 1].split()[-1]!r} (the .srt has it all)"
            )
        missing = undrawable(cap.text)
        if not missing:
            continue
        out.append(
            f"warning: {where}: the burnt-in caption {text!r} has characters the caption font "
            f"({CAPTION_FONT}) cannot draw, burned in as boxes: "
            f"{' '.join(_shown(ch) for ch in missing)} (the .srt has them)"
        )
    return out


def _size(width: int, height: int) -> int:
    """The caption font's size for a film of ``width`` x ``height``: from its short side, so
    a vertical film's captions are a landscape one's (hostile helper-62: from the height, a
    720x1280 film's were 58 px, and a long word ran off both sides of the frame)."""
    return max(12, min(width, height) // 22)


def _wrap(text: str, font: ImageFont.FreeTypeFont, room: float) -> list[str]:
    """Words on lines no wider than ``room`` pixels; a word wider than that is broken where
    the line is full (a name of 300 letters ran off both sides of the frame)."""
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        trial = f"{line} {word}" if line else word
        if line and font.getlength(trial) > room:
            lines.append(line)
            line = word
        else:
            line = trial
        while font.getlength(line) > room and len(line) > 1:
            cut = next(
                (k for k in range(len(line) - 1, 0, -1) if font.getlength(line[:k]) <= room), 1
            )
            lines.append(line[:cut])
            line = line[cut:]
    return [*lines, line]


def caption_band(text: str, width: int, height: int) -> tuple[Image.Image, int]:
    """A caption drawn as an RGBA band the film's width (transparent but for the text and its
    box), and the row of the frame its top goes on: laid over the frames it is on by the
    chunk's filter graph (:mod:`~storyboard.cut.graph`), or blended frame by frame."""
    font = text_font(_size(width, height))
    ascent, descent = font.getmetrics()  # room for accents above and descenders below
    lines = _wrap(text, font, width - 48)[:MAX_LINES]
    line_h = ascent + descent + 2
    box_h = line_h * len(lines) + 16
    im = Image.new("RGBA", (width, box_h), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    for j, line in enumerate(lines):
        w = d.textlength(line, font=font)
        x = (width - w) / 2
        y = 8 + j * line_h
        d.rectangle([x - 8, y - 2, x + w + 8, y + line_h - 2], fill=(0, 0, 0, 150))
        d.text((x, y), line, font=font, fill=(255, 255, 255, 255))
    # never above the frame's top nor past its bottom (a tiny frame: the band is cut)
    top = max(0, height - box_h - height // 14)
    return im.crop((0, 0, width, min(box_h, height - top))), top


class CaptionLayer:
    """Pre-rendered caption images, alpha-blended onto frames while they are on screen."""

    def __init__(self, tl: Timeline):
        self.caps = tl.captions
        self.width, self.height = tl.width, tl.height
        self._cache: dict[int, tuple[np.ndarray, np.ndarray, int]] = {}

    def _render(self, i: int, cap: Caption) -> tuple[np.ndarray, np.ndarray, int]:
        im, top = caption_band(cap.text, self.width, self.height)
        arr = np.asarray(im).astype(np.float32)
        return arr[..., :3], arr[..., 3:4] / 255.0, top

    def apply(self, frame: np.ndarray, t: float) -> np.ndarray:
        for i, cap in enumerate(self.caps):
            if cap.start <= t < cap.end:
                if i not in self._cache:
                    self._cache[i] = self._render(i, cap)
                rgb, alpha, top = self._cache[i]
                out = frame.copy()
                region = out[top : top + rgb.shape[0]].astype(np.float32)
                out[top : top + rgb.shape[0]] = (region * (1 - alpha) + rgb * alpha).astype(
                    np.uint8
                )
                return out
        return frame
