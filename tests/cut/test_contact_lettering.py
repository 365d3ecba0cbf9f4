"""The contact sheet letters its title in the captions' font (Noto Sans): an accented title is
drawn from its own glyphs (Pillow's bundled font drew each accented letter as a box), and a
character the font has no glyph for as a visible ``?``."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from storyboard.cut import contact
from storyboard.media.fonts import text_font

NOTDEF = "\U0010fffd"  # a private-use code point no font maps: drawn as a font's .notdef box


def sheet(tmp_path: Path, title: str) -> np.ndarray:
    """The heading strip of a one-row sheet titled ``title`` (its frames left out)."""
    take = SimpleNamespace(n=1, sha256="0" * 64, duration=4.0)
    seg = SimpleNamespace(
        scene="a", take=take, src_start=0.0, duration=4.0, transition="cut", file="a.mp4"
    )
    tl = SimpleNamespace(segments=[seg], duration=4.0, width=1280, height=720, fps=24)
    dest = tmp_path / f"{abs(hash(title))}.png"
    contact.contact_sheet(tl, tmp_path, title, dest)  # type: ignore[arg-type]
    with Image.open(dest) as im:
        return np.asarray(im.convert("RGB"))[:34, :230]


@pytest.fixture(autouse=True)
def no_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(contact, "_pair", lambda root, tl, i: None)


def test_an_accented_title_is_drawn_in_letters_and_what_the_font_lacks_as_a_stand_in(
    tmp_path: Path,
) -> None:
    accented, box = sheet(tmp_path, "Phare ő"), sheet(tmp_path, "Phare " + NOTDEF)
    assert not np.array_equal(accented, box), "ő is drawn as the .notdef box"
    assert np.array_equal(box, sheet(tmp_path, "Phare ?"))  # a visible '?', not a box
    assert np.array_equal(sheet(tmp_path, "灯台"), sheet(tmp_path, "??"))


def test_a_long_title_is_cut_with_an_ellipsis_and_its_length_still_shows() -> None:
    """hostile helper-41: a long title ran off the sheet and took the film's length with it;
    a right-to-left override reordered the length after it."""
    font = text_font(16)
    long = contact._fitted("The Last Keeper " * 20, ": 12.0 s", font, 600)
    assert long.endswith("…: 12.0 s") and font.getlength(long) <= 600
    assert contact._fitted("Phare\u202e", ": 4.0 s", font, 600) == "Phare: 4.0 s"
    assert contact._fitted("Phare", ": 4.0 s", font, 600) == "Phare: 4.0 s"
