"""The review page shows the cast and the boards (issue 17), in real Chromium: the cast on top
(its own pictures, or its generated sheet's takes), each scene's board beside its clip, and pick
and retake for a sheet and a board exactly as for a clip's takes.

``BOARD_SCREENSHOT=path.png`` also saves the page's screenshot there.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import (
    NO_CHROMIUM,
    browser_page,
    chromium,
    lock_take,
    pick,
    png_bytes,
    screenshot_if_asked,
    write_project,
)

from storyboard.cli.main import main
from storyboard.review.library import open_project
from storyboard.review.server import ReviewServer

if chromium() is None:
    pytest.skip(NO_CHROMIUM, allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="needs the playwright package")

# Wan2.6 takes no reference images: scene a (with a cast) starts from its board; b has none
CAST = """
title: Cast Page
model: alibaba:wan@2.6
size: 1280x720
image_model: bfl:6@1
defaults: {duration: 5}
cast:
  wren:
    description: Wren, a weathered woman of seventy in a navy wool jumper
  tower:
    description: the lamp room of a Victorian lighthouse
    images: [assets/tower.png]
scenes:
  - {id: a, cast: [wren, tower], prompt: "{{ cast.wren }} lays her hand on the lens"}
  - {id: b, prompt: "The sea at dawn"}
output: {fps: 10, size: 320x180}  # the film small: only for speed
"""
DRAFT = ["--draft", "--quiet", "--emulator-latency", "0.1"]


@pytest.fixture
def rendered(tmp_path: Path) -> Path:
    """Rendered as --draft on the emulator, then the sheet retaken: two sheets, two boards of
    a, two clips of a (the second of each chosen); b's board is not made (no clip uses it)."""
    tower = png_bytes(160, 90, (20, 120, 200))
    p = write_project(tmp_path / "p", CAST, {"assets/tower.png": tower})
    assert main(["render", str(p), *DRAFT]) == 0
    assert main(["render", str(p), "--retake", "cast:wren", "--no-compose", *DRAFT]) == 0
    return p


@pytest.fixture
def page(tmp_path: Path) -> Iterator[object]:
    with browser_page(tmp_path / "profile", 1400, 1000) as pg:
        yield pg


def loaded(pg: object, selector: str) -> int:
    """How many of the pictures ``selector`` finds have loaded (decoded, not broken)."""
    pg.wait_for_function(  # type: ignore[attr-defined]
        f"[...document.querySelectorAll('{selector}')].every(i => i.complete)"
    )
    return int(
        pg.eval_on_selector_all(selector, "els => els.filter(i => i.naturalWidth > 0).length")  # type: ignore[attr-defined]
    )


def test_the_page_shows_the_cast_and_each_board_beside_its_clip(
    rendered: Path, page: object
) -> None:
    pg = page
    with ReviewServer(open_project(rendered, draft=True)) as server:
        pg.goto(server.url)  # type: ignore[attr-defined]
        pg.wait_for_function("document.querySelectorAll('.card').length === 2")  # type: ignore[attr-defined]

        # the cast on top: wren's generated sheet (two takes, the second chosen); the tower's
        # own picture
        members = pg.eval_on_selector_all("#cast .member", "els => els.map(e => e.dataset.member)")  # type: ignore[attr-defined]
        assert members == ["wren", "tower"]
        assert pg.is_visible("#cast")  # type: ignore[attr-defined]
        wren = '.member[data-member="wren"]'
        assert pg.locator(f'{wren} .take[data-scene="cast:wren"]').count() == 2  # type: ignore[attr-defined]
        assert pg.locator(f'{wren} .take[data-take="2"].chosen').count() == 1  # type: ignore[attr-defined]
        assert loaded(pg, f"{wren} img") == 2
        assert loaded(pg, '.member[data-member="tower"] .given img') == 1
        assert "assets/tower.png" in pg.inner_text('.member[data-member="tower"]')  # type: ignore[attr-defined]

        # each card: the board beside the clip (a's board is its first frame); b's is not made
        a = '.card[data-scene="a"]'
        assert loaded(pg, f"{a} .board-col img") == 2
        assert pg.locator(f"{a} .clip-col .take video").count() == 2  # type: ignore[attr-defined]
        board = pg.eval_on_selector(f"{a} .board-col", "e => e.getBoundingClientRect().toJSON()")  # type: ignore[attr-defined]
        clip = pg.eval_on_selector(f"{a} .clip-col", "e => e.getBoundingClientRect().toJSON()")  # type: ignore[attr-defined]
        assert board["right"] <= clip["left"] and abs(board["top"] - clip["top"]) < 40
        assert "first frame: board:a" in pg.inner_text('[data-wrap="a"] .link')  # type: ignore[attr-defined]
        b = '.card[data-scene="b"]'
        assert "not made" in pg.inner_text(f"{b} .board-col .badge")  # type: ignore[attr-defined]
        assert pg.locator(f"{b} .board-col img").count() == 0  # type: ignore[attr-defined]
        assert pg.locator(f"{b} .clip-col .take video").count() == 1  # type: ignore[attr-defined]

        assert pg.is_hidden("#animatic-box")  # no render --boards yet: no animatic

        screenshot_if_asked(pg, "BOARD_SCREENSHOT")

        # pick the first sheet: the lock changes and the page follows; the board made from
        # that sheet, and the clip made from that board, are in the cut with it (no cost)
        pick(pg, f'{wren} .take[data-take="1"]')
        assert lock_take(rendered, "cast:wren") == 1
        assert lock_take(rendered, "board:a") == 1 and lock_take(rendered, "a") == 1
        assert "cast:wren: take 1 is chosen" in pg.inner_text("#activity")  # type: ignore[attr-defined]
        pg.wait_for_function(  # type: ignore[attr-defined]
            f"document.querySelector('{a} .board-col .take[data-take=\"1\"].chosen') !== null"
            f" && document.querySelector('{a} .clip-col .take[data-take=\"1\"].chosen') !== null"
        )
        # pick the second board by hand: it is in the cut, and the clip made from it with it
        pick(pg, f'{a} .board-col .take[data-take="2"]')
        assert lock_take(rendered, "board:a") == 2 and lock_take(rendered, "a") == 2

        # a retake of the sheet shows what it makes and costs first; declining spends nothing
        asked: list[str] = []
        pg.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))  # type: ignore[attr-defined]
        before = (rendered / "storyboard.lock").read_bytes()
        with pg.expect_event("dialog"):  # type: ignore[attr-defined]
            pg.click(f"{wren} button.retake-node")  # type: ignore[attr-defined]
        assert asked == [
            "A new take of cast:wren generates cast:wren, board:a, a and costs $0.62 (the "
            "local emulator makes placeholder clips and charges nothing). Go ahead?"
        ]
        assert (rendered / "storyboard.lock").read_bytes() == before

        # a retake of b's board, accepted: the page's render makes it, and it shows up
        pg.once("dialog", lambda d: (asked.append(d.message), d.accept()))  # type: ignore[attr-defined]
        pg.click(f"{b} .board-col button.retake-node")  # type: ignore[attr-defined]
        pg.wait_for_selector(f'{b} .board-col .take[data-take="1"].chosen img')  # type: ignore[attr-defined]
        assert asked[-1].startswith("A new take of board:b generates board:b and costs $0.06")
        assert lock_take(rendered, "board:b") == 1
        assert loaded(pg, f"{b} .board-col img") == 1
        pg.goto("about:blank")  # type: ignore[attr-defined]  # close the event stream first
