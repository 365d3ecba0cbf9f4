"""The packaged font is found without scanning every installed distribution (issue 19: fontpkg's
registry reads every package's entry points, a tenth of a second of an edit's compose)."""

from __future__ import annotations

import importlib.metadata
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
