"""Burnt-in captions: dialogue lines drawn with Pillow's bundled font (no system fonts needed)."""

from __future__ import annotations

import textwrap

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .timeline import Caption, Timeline


class CaptionLayer:
    """Pre-rendered caption images, alpha-blended onto frames while they are on screen."""

    def __init__(self, tl: Timeline):
        self.caps = tl.captions
        self.width, self.height = tl.width, tl.height
        self._cache: dict[int, tuple[np.ndarray, np.ndarray, int]] = {}

    def _render(self, i: int, cap: Caption) -> tuple[np.ndarray, np.ndarray, int]:
        size = max(12, self.height // 22)
        font = ImageFont.load_default(size=size)
        lines = textwrap.wrap(cap.text, max(16, int(self.width / (size * 0.55))))[:3]
        line_h = size + 6
        box_h = line_h * len(lines) + 16
        im = Image.new("RGBA", (self.width, box_h), (0, 0, 0, 0))
        d = ImageDraw.Draw(im)
        for j, line in enumerate(lines):
            w = d.textlength(line, font=font)
            x = (self.width - w) / 2
            y = 8 + j * line_h
            d.rectangle([x - 8, y - 2, x + w + 8, y + line_h - 2], fill=(0, 0, 0, 150))
            d.text((x, y), line, font=font, fill=(255, 255, 255, 255))
        arr = np.asarray(im).astype(np.float32)
        top = self.height - box_h - self.height // 14
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
