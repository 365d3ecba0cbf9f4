"""Burnt-in captions draw accented letters, typographic punctuation and the euro from their own
glyphs (hostile helper-30: Pillow's bundled font drew every non-ASCII letter as a box), and a
character the caption font has no glyph for is a warning naming its scene, never a silent box."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_compose import setup

from storyboard.cut.captions import CaptionLayer, undrawable
from storyboard.cut.compose import compose_film
from storyboard.cut.timeline import Caption, Timeline

FRENCH = "Ça va ? Un café, à l'été. Ñandú, Straße, Øre, naïve — “quotes” 'ok' … 100 €"
PUNCTUATION = "— – … « » ‘ ’ “ ” ‹ › • · € £ ¥ © ° ¿ ¡"
NOTDEF = "\U0010fffd"  # a private-use code point no font maps: drawn as the font's .notdef box
NON_ASCII = sorted({ch for ch in FRENCH + PUNCTUATION if ord(ch) > 0x7E})


def burned(text: str, width: int = 854, height: int = 480) -> np.ndarray:
    """A black frame with ``text`` burned in as the caption on screen."""
    tl = Timeline([], 24, width, height, captions=[Caption(0.0, 1.0, text)])
    return CaptionLayer(tl).apply(np.zeros((height, width, 3), np.uint8), 0.5)


@pytest.mark.parametrize("ch", NON_ASCII, ids=[f"U+{ord(c):04X}" for c in NON_ASCII])
def test_each_character_is_drawn_from_its_glyph_not_the_notdef_box(ch: str) -> None:
    box = burned(NOTDEF)
    assert box.max() > 200  # the box itself is drawn: the comparison means something
    assert not np.array_equal(burned(ch), box), f"{ch!r} is burned in as the .notdef box"


def test_the_caption_font_maps_latin_1_latin_extended_a_and_common_punctuation() -> None:
    """From the font's character map: all of Latin-1 and Latin Extended-A, and the
    punctuation a subtitle uses."""
    latin = "".join(chr(c) for c in [*range(0x20, 0x7F), *range(0xA0, 0x180)])
    assert undrawable(latin + PUNCTUATION + FRENCH) == ""
    assert undrawable("你好 🎬 مرحبا") == "你好🎬مرحبا"  # each once, in order, no space


def test_a_line_the_font_cannot_draw_is_one_warning_naming_its_scene_and_characters(
    tmp_path: Path,
) -> None:
    scenes = [
        {
            "id": "a",
            "seconds": 1.0,
            "clip": {"color": "black", "size": "320x180"},
            "dialogue": f"[{{who: Zoé, line: '{FRENCH.replace(chr(39), chr(39) * 2)}'}}]",
        },
        {
            "id": "b",
            "seconds": 1.0,
            "clip": {"color": "black", "size": "320x180"},
            "dialogue": "[{who: Mei, line: '你好，世界 🎬'}, {who: Mei, line: 'ok 好'}]",
        },
    ]
    project, state = setup(
        tmp_path, scenes, edit="{captions: burn, loudness: 'off'}", output="size: 320x180"
    )
    lines: list[str] = []
    res = compose_film(project, state, log=lines.append)
    glyphs = [ln for ln in lines if "cannot draw" in ln]
    assert glyphs == [
        "warning: scene 'b': the burnt-in caption 'Mei: 你好，世界 🎬' has characters the "
        "caption font (Noto Sans) cannot draw, burned in as boxes: 你 好 ， 世 界 🎬 "
        "(the .srt has them)",
        "warning: scene 'b': the burnt-in caption 'Mei: ok 好' has characters the "
        "caption font (Noto Sans) cannot draw, burned in as boxes: 好 (the .srt has them)",
    ]
    assert glyphs == [w for w in res.warnings if "cannot draw" in w]  # the API's result too


def test_a_caption_longer_than_three_lines_is_a_warning_naming_where_it_is_cut() -> None:
    """Hostile helper-37: a caption of more than three lines at the film's size lost its end
    with no word (the .srt has it all)."""
    from storyboard.cut.captions import caption_warnings

    words = "keep going past the edge of the frame for a long while yes and then some more " * 3
    short = Timeline([], 24, 320, 180, captions=[Caption(0.0, 1.0, "Zoé: a short line")])
    assert caption_warnings(short) == []
    tl = Timeline([], 24, 320, 180, captions=[Caption(0.0, 1.0, words)])
    (warning,) = caption_warnings(tl)
    assert warning.startswith("warning: at 0.00 s: the burnt-in caption 'keep going")
    assert "lines at 320x180; its first 3 are burned in, ending at" in warning
    assert warning.endswith("(the .srt has it all)")


def test_printable_ascii_is_drawable_without_reading_the_character_map() -> None:
    """The contact sheet of an edit draws an ASCII title: the font's character map (fontTools)
    is not read for it; text beyond ASCII still is."""
    from storyboard.media import fonts

    fonts._charmap.cache_clear()
    assert fonts.undrawable("Iterate Bench: s06 4.00 s ~{|}") == ""
    assert fonts._charmap.cache_info().currsize == 0
    assert fonts.undrawable("tab\there") == "\t"  # a control character is still looked up
    assert fonts._charmap.cache_info().currsize == 1
