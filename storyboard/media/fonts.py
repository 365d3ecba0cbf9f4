"""The packaged font text is drawn in, and which characters it lacks.

The font is Noto Sans (SIL Open Font License), installed as the ``fontpkg-noto-sans``
dependency, so every machine draws the same glyphs without system fonts: all of Latin-1, Latin
Extended-A and B, Greek, Cyrillic, Vietnamese, typographic punctuation and the euro. Pillow's
bundled font (used before) has ASCII and a few quotes only, and drew every accented letter as a
box (hostile helper-30). What the font has no glyph for (CJK, Arabic, emoji...) is read from its
character map (fontTools): burnt-in captions warn of it, placeholders and the contact sheet
draw it as ``?`` (:func:`drawable`).
"""

from __future__ import annotations

import functools
import os
import stat
from typing import Any

from PIL import ImageFont

from storyboard.errors import StoryboardError

TEXT_FONT = "Noto Sans"
"""The family captions and placeholders are drawn in (a fontpkg package: ``fontpkg-noto-sans``)."""

REINSTALL = "install storyboard again (`pip install -e .`)"


FONT_PACKAGE = "fontpkg_noto_sans"
"""The module of the ``fontpkg-noto-sans`` distribution: its ``metadata.json`` names its files."""


@functools.cache
def font_file() -> str:
    """The font's file, from its package (a :class:`StoryboardError` where it is missing: an
    environment installed before the dependency was added).

    Read from the package's own metadata with fontpkg's functions: fontpkg's registry finds a
    family by reading the entry points of every installed distribution, a tenth of a second
    (with Ray's) that an edit's contact sheet paid (issue 19). The registry still answers where
    the package is laid out otherwise."""
    try:
        import fontpkg
    except ImportError as e:
        raise _missing(e) from None
    try:
        return _usable(_packaged(fontpkg))
    except Exception:  # another layout of the package: fontpkg's own lookup decides
        pass
    try:
        found = fontpkg.path(TEXT_FONT)
    except Exception as e:  # FamilyNotInstalled (a LookupError), or a package the registry
        raise _missing(e) from None  # could not import or read (hostile helper-52)
    return _usable(found)


def _usable(path: Any) -> str:
    """``path`` when it is a regular file (a link to one included), else the one message: a
    folder or a missing file cannot be read, and a FIFO would hang the reader."""
    try:
        regular = stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, TypeError, ValueError) as e:
        raise _missing(e) from None
    if not regular:
        raise _missing(f"{path} is not a file")
    return str(path)


def _packaged(fontpkg: Any) -> Any:
    """The regular upright file of the family :data:`FONT_PACKAGE`'s metadata names."""
    import importlib.resources
    import json

    root = importlib.resources.files(FONT_PACKAGE)
    family = fontpkg.family_from_metadata(
        json.loads((root / "metadata.json").read_text(encoding="utf-8")), root
    )
    if fontpkg.slugify(family.name) != fontpkg.slugify(TEXT_FONT):
        raise LookupError(family.name)
    chosen = fontpkg.select_file(
        family, fontpkg.normalize_weight(400), fontpkg.normalize_style("normal"), False
    )
    return chosen.path


def _missing(e: Exception | str) -> StoryboardError:
    return StoryboardError(
        f"the font {TEXT_FONT} is not installed ({e}); burnt-in captions and placeholder "
        f"text are drawn in it: {REINSTALL} or `pip install fontpkg-noto-sans`"
    )


@functools.cache
def _charmap() -> frozenset[int]:
    path = font_file()
    try:
        from fontTools.ttLib import TTFont
    except ImportError as e:
        raise StoryboardError(
            f"the font's character map is read with fontTools ({e}): {REINSTALL} or "
            "`pip install fonttools`"
        ) from None
    try:
        with TTFont(path, lazy=True) as font:
            return frozenset(font.getBestCmap() or ())
    except Exception as e:  # fontTools raises its own kinds for a damaged file
        raise _unreadable(path, e) from None


@functools.cache
def text_font(size: int) -> ImageFont.FreeTypeFont:
    """The font at ``size`` pixels."""
    path = font_file()
    try:
        return ImageFont.truetype(path, size)
    except (OSError, ValueError) as e:  # not a font (hostile helper-52: a file emptied, or a
        raise _unreadable(path, e) from None  # link to another file)


def _unreadable(path: str, e: Exception) -> StoryboardError:
    return StoryboardError(
        f"the font {TEXT_FONT} cannot be read from {path} ({e or type(e).__name__}); "
        f"{REINSTALL} or `pip install --force-reinstall fontpkg-noto-sans`"
    )


PRINTABLE_ASCII = frozenset(range(0x20, 0x7F))
"""Characters the font maps (``tests/cut/test_caption_glyphs.py`` reads them from its character
map): text of these alone is drawable without reading it (fontTools loads in about 20 ms, a
tenth of an edit's contact sheet)."""


def undrawable(text: str) -> str:
    """The characters of ``text`` the font has no glyph for (its character map does not list
    them: they would be drawn as its .notdef box), each once, in order."""
    if PRINTABLE_ASCII.issuperset(map(ord, text)):
        return ""
    cmap = _charmap()
    return "".join(dict.fromkeys(ch for ch in text if ord(ch) not in cmap))


STAND_IN = "?"  # drawn for a character the font cannot draw


def drawable(text: str) -> str:
    """``text`` with each character the font has no glyph for replaced by :data:`STAND_IN`: a
    visible stand-in, where the font's .notdef box would read as a letter of some script."""
    missing = set(undrawable(text))
    return "".join(STAND_IN if ch in missing else ch for ch in text) if missing else text
