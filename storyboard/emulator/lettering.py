"""The prompt box of a placeholder clip or picture: its label and prompt in the packaged font.

The font is the one burnt-in captions use (:mod:`storyboard.media.fonts`, Noto Sans), so
accents, Greek and Cyrillic are drawn from their own glyphs. A character it has no glyph for
(CJK, emoji) is drawn as ``?``: a visible stand-in, where its .notdef box would read as a
letter of some script; the label stays, so a placeholder never passes for a real take.
"""

from __future__ import annotations

import textwrap

from PIL import Image, ImageDraw

from storyboard.media.fonts import drawable, text_font

LABEL_COLOUR = (255, 220, 120)


def draw_prompt_box(im: Image.Image, prompt: str, label: str, size: int, min_chars: int) -> None:
    """``label`` over ``prompt`` (wrapped at about ``min_chars`` characters or more) in a dark
    box over the lower part of ``im``, in the font at ``size`` pixels."""
    width, height = im.size
    draw = ImageDraw.Draw(im)
    font, head = text_font(size), text_font(int(size * 1.3))
    ascent, descent = font.getmetrics()  # a line's step leaves room for accents and descenders
    step = max(size + 4, ascent + descent)
    chars = max(min_chars, int(width / (size * 0.55)))
    lines = textwrap.wrap(drawable(prompt), chars)[: max(2, (height // 2) // step)]
    box_h = (len(lines) + 1) * step + int(size * 1.3) + 16
    top = height - box_h - height // 20
    shade = (0, 0, 0, 225) if im.mode == "RGBA" else (0, 0, 0)
    draw.rectangle([width // 30, top, width - width // 30, top + box_h], fill=shade)
    x = width // 30 + size
    draw.text((x, top + 8), drawable(label), font=head, fill=LABEL_COLOUR)
    y = top + 16 + int(size * 1.3)
    for line in lines:
        draw.text((x, y), line, font=font, fill=(255, 255, 255))
        y += step
