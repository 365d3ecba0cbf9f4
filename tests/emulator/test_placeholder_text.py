"""The emulator's placeholder clips and pictures draw their prompt in the packaged font: accents,
Greek, Cyrillic and typographic punctuation from their own glyphs (Pillow's bundled font drew
each as a box), and a character the font has no glyph for as a visible ``?``, never a box that
reads as text, with the placeholder's label still on it."""

from __future__ import annotations

import functools
import io
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

from storyboard.emulator.clips import text_overlay
from storyboard.emulator.pictures import draw_picture

NOTDEF = "\U0010fffd"  # a private-use code point no font maps: drawn as a font's .notdef box
DRAWN = list("éñüçßøÅŒЖяλΩάőž—’€«")
LABEL = (255, 220, 120)  # the label's colour in both placeholders


@functools.cache  # read only: each test compares drawings
def overlay(text: str) -> np.ndarray:
    """The clip's text layer for a prompt of ``text``."""
    png = text_overlay(text, 1280, 720, "placeholder")
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


@functools.cache
def picture(text: str) -> np.ndarray:
    """A placeholder picture with the prompt ``text``."""
    png = draw_picture(text, 1280, 720, seed=7, references=[], fmt="PNG", label="placeholder")
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


RENDERERS = [pytest.param(overlay, id="clip"), pytest.param(picture, id="picture")]


def ink(img: np.ndarray) -> np.ndarray:
    """Where the prompt's white text is."""
    return (img[..., :3] > 200).all(axis=-1)


@pytest.mark.parametrize("draw", RENDERERS)
@pytest.mark.parametrize("ch", DRAWN, ids=[f"U+{ord(c):04X}" for c in DRAWN])
def test_each_character_is_drawn_from_its_own_glyph(
    draw: Callable[[str], np.ndarray], ch: str
) -> None:
    box = draw(NOTDEF)
    assert not np.array_equal(draw(ch), box), f"{ch!r} is drawn as the .notdef box"
    assert not np.array_equal(draw(ch), draw("?")), f"{ch!r} is drawn as the substitute"


@pytest.mark.parametrize("draw", RENDERERS)
@pytest.mark.parametrize("plain, accented", [("e", "é"), ("a", "à"), ("n", "ñ"), ("o", "ö")])
def test_an_accented_letter_is_its_letter_with_an_accent(
    draw: Callable[[str], np.ndarray], plain: str, accented: str
) -> None:
    """The ink of ``e`` is inside the ink of ``é``, which has more (a box holds neither)."""
    base, full = ink(draw(plain)), ink(draw(accented))
    assert base.sum() > 30
    assert (base & full).sum() >= 0.9 * base.sum()
    assert full.sum() > base.sum() + 5


@pytest.mark.parametrize("draw", RENDERERS)
def test_a_character_the_font_cannot_draw_is_a_question_mark_under_a_visible_label(
    draw: Callable[[str], np.ndarray],
) -> None:
    """CJK (which Noto Sans lacks), emoji and unmapped code points are each a ``?``; the
    label stays, so the placeholder never passes for a real take."""
    shown = draw("Café au bord de l'eau — 東京 🎬" + NOTDEF)
    assert np.array_equal(shown, draw("Café au bord de l'eau — ?? ??"))
    label = (np.abs(shown[..., :3].astype(int) - LABEL).sum(axis=-1) < 30).sum()
    assert label > 100, "the placeholder's label is not drawn"
