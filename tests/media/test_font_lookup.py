"""The packaged font is found without scanning every installed distribution (issue 19: fontpkg's
registry reads every package's entry points, a tenth of a second of an edit's compose)."""

from __future__ import annotations

import importlib.metadata
import json
import os
import sys
from pathlib import Path

import pytest

from storyboard.media import fonts


@pytest.fixture(autouse=True)
def _fresh_lookup():
    fonts.font_file.cache_clear()
    yield
    fonts.font_file.cache_clear()


def test_the_font_is_found_without_reading_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    import fontpkg

    expected = str(fontpkg.path(fonts.TEXT_FONT))  # what fontpkg's registry answers

    def scan(*args: object, **kwargs: object) -> object:
        raise AssertionError("entry points scanned")

    monkeypatch.setattr(importlib.metadata, "entry_points", scan)
    monkeypatch.setattr("fontpkg._registry.entry_points", scan)
    monkeypatch.setattr("fontpkg._registry._cache", None)
    found = fonts.font_file()
    assert found == expected
    assert Path(found).is_file()


def test_without_its_package_the_registry_is_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """A font package laid out otherwise (or renamed): fontpkg's own lookup still answers."""
    import fontpkg

    monkeypatch.setattr(fonts, "FONT_PACKAGE", "fontpkg_no_such_family")
    assert fonts.font_file() == str(fontpkg.path(fonts.TEXT_FONT))


def test_a_font_package_that_cannot_be_imported_is_one_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """fontpkg's registry imports each family's package: an ImportError there was a traceback
    (the suite's first run of this round in a fresh clone)."""
    monkeypatch.setitem(sys.modules, fonts.FONT_PACKAGE, None)  # its import fails
    monkeypatch.setattr("fontpkg._registry._cache", None)  # the registry imports it again
    with pytest.raises(fonts.StoryboardError, match="the font Noto Sans is not installed"):
        fonts.font_file()


def test_no_font_at_all_is_one_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, fonts.FONT_PACKAGE, None)
    monkeypatch.setitem(sys.modules, "fontpkg", None)
    with pytest.raises(fonts.StoryboardError, match="the font Noto Sans is not installed"):
        fonts.font_file()


def _package(root: Path, name: str, metadata: bytes | None, font: str = "") -> None:
    """A font package ``name`` under ``root`` (on sys.path): its metadata.json and a file."""
    pkg = root / name
    (pkg / "files").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    if metadata is not None:
        (pkg / "metadata.json").write_bytes(metadata)
    if font == "fifo":
        os.mkfifo(pkg / "files" / "F.ttf")
    elif font == "folder":
        (pkg / "files" / "F.ttf").mkdir()


def _meta() -> bytes:
    return json.dumps(
        {
            "schema": 1,
            "family": "Noto Sans",
            "slug": "noto-sans",
            "version": "1",
            "license": "OFL-1.1",
            "files": [{"path": "files/F.ttf", "style": "normal", "weight": None, "variable": True}],
        }
    ).encode()


BROKEN = {
    "no metadata": (None, ""),
    "invalid JSON": (b"{", ""),
    "a list": (b"[]", ""),
    "not UTF-8": (b"\xff\xfe{", ""),
    "a bad weight": (_meta().replace(b'"weight": null', b'"weight": "bold"'), ""),
    "a missing file": (_meta(), ""),
    "a folder": (_meta(), "folder"),
    "a FIFO": (_meta(), "fifo"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_font_package_is_one_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    """Hostile helper-52: a package whose metadata or file is damaged gave a traceback (a
    JSONDecodeError, an AttributeError...) or, with a FIFO for the font, hung. The registry
    reads the same package, so it answers the same: modelled here by its answer being that
    file too, or its error."""
    metadata, font = BROKEN[case]
    name = f"fontpkg_broken_{abs(hash(case))}"
    _package(tmp_path, name, metadata, font)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(fonts, "FONT_PACKAGE", name)

    def registry(family: str, *args: object, **kwargs: object) -> Path:
        if case not in ("a missing file", "a folder", "a FIFO"):  # metadata it cannot read
            raise ValueError(f"{case} (as the registry reads it)")
        return tmp_path / name / "files" / "F.ttf"

    monkeypatch.setattr("fontpkg.path", registry)
    with pytest.raises(fonts.StoryboardError, match="the font Noto Sans"):
        fonts.font_file()


@pytest.mark.parametrize(
    ("reader", "read"),
    [
        ("text_font", lambda: fonts.text_font(16)),  # Pillow: placeholders, the contact sheet
        ("_charmap", lambda: fonts.undrawable("caf\u00e9")),  # fontTools: burnt-in captions
    ],
)
def test_a_font_file_that_is_not_a_font_is_one_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader: str, read
) -> None:
    """A damaged file is one message, whichever library reads it."""
    bad = tmp_path / "F.ttf"
    bad.write_bytes(b"not a font")
    monkeypatch.setattr(fonts, "font_file", lambda: str(bad))
    cached = getattr(fonts, reader)
    cached.cache_clear()
    try:
        with pytest.raises(fonts.StoryboardError, match="the font Noto Sans"):
            read()
    finally:
        cached.cache_clear()
