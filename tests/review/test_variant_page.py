"""The review page switches between the films of a storyboard (issue 20), in real Chromium."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from helpers import NO_CHROMIUM, browser_page, chromium, pick

from storyboard.review.library import open_project
from storyboard.review.server import ReviewServer

if chromium() is None:
    pytest.skip(NO_CHROMIUM, allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="needs the playwright package")

VARIANTS = """variants:
  vertical: {size: 36x64, reframe: crop}
  french:
    scenes:
      a: {prompt: "Scène a, le port à l'aube."}
    skip: [b]
"""


@pytest.fixture
def films(takes_project: Path) -> Path:
    p = takes_project
    with open(p / "storyboard.yaml", "a", encoding="utf-8") as fh:
        fh.write(VARIANTS)
    shutil.copy(p / "storyboard.lock", p / "storyboard.vertical.lock")  # the same takes
    return p


@pytest.fixture
def page(tmp_path: Path) -> Iterator[object]:
    with browser_page(tmp_path / "profile", 1200, 900) as pg:
        yield pg


def cards(pg: object) -> list[str]:
    return pg.eval_on_selector_all(".card", "els => els.map(e => e.dataset.scene)")  # type: ignore[attr-defined, no-any-return]


def test_the_page_switches_between_the_films(films: Path, page: object) -> None:
    pg = page
    with ReviewServer(open_project(films)) as server:
        pg.goto(server.url)  # type: ignore[attr-defined]
        pg.wait_for_function("document.querySelectorAll('.card').length === 2")  # type: ignore[attr-defined]
        assert pg.is_visible("#variant")  # type: ignore[attr-defined]
        options = pg.eval_on_selector_all("#variant option", "els => els.map(e => e.value)")  # type: ignore[attr-defined]
        assert options == ["main", "vertical", "french"]

        pg.select_option("#variant", "french")  # type: ignore[attr-defined]
        pg.wait_for_function("document.querySelectorAll('.card').length === 1")  # type: ignore[attr-defined]
        assert cards(pg) == ["a"]  # b is skipped in this film
        assert "Scène a" in pg.text_content('.card[data-scene="a"] pre')  # type: ignore[attr-defined]
        assert "variant=french" in pg.url  # type: ignore[attr-defined]

        pg.select_option("#variant", "vertical")  # type: ignore[attr-defined]
        pg.wait_for_function("document.querySelectorAll('.card').length === 2")  # type: ignore[attr-defined]
        assert "Scene a, the harbour" in pg.text_content('.card[data-scene="a"] pre')  # type: ignore[attr-defined]
        # a pick on this film's page writes this film's lock, not the main film's
        main_lock = (films / "storyboard.lock").read_bytes()
        pick(pg, '.take[data-scene="a"][data-take="2"]')
        lock = yaml.safe_load((films / "storyboard.vertical.lock").read_text())
        assert lock["scenes"]["a"]["take"] == 2
        assert (films / "storyboard.lock").read_bytes() == main_lock

        pg.reload()  # type: ignore[attr-defined]  # the film chosen survives a reload
        pg.wait_for_function("document.querySelector('#variant').value === 'vertical'")  # type: ignore[attr-defined]
        pg.goto("about:blank")  # type: ignore[attr-defined]
