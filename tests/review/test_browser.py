"""The review page in a real headless Chromium: cards, takes, video metadata, pick, live renders.

Needs Debian's Chromium (``apt-get install -y chromium``) and the ``playwright`` package (its own
browser download is not used). ``REVIEW_SCREENSHOT=projects/lighthouse/review-page.png`` also
saves the page's screenshot there (the README's picture).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import NO_CHROMIUM, REPO, browser_page, chromium, lock_take, pick, screenshot_if_asked

from storyboard.cli.main import main
from storyboard.review.library import open_project
from storyboard.review.server import ReviewServer

if chromium() is None:
    pytest.skip(NO_CHROMIUM, allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="needs the playwright package")

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCENES = ["dusk", "stairs", "lamp-room", "last-turn", "dawn"]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example film, rendered as --draft clips on the emulator, and composed."""
    p = tmp_path_factory.mktemp("review") / "lighthouse"
    shutil.copytree(REPO / "projects" / "lighthouse", p, ignore=shutil.ignore_patterns("build"))
    (p / "storyboard.lock").unlink(missing_ok=True)
    if not os.environ.get("REVIEW_SCREENSHOT"):  # the README's picture shows the film full size
        # only for speed: the film at the --draft clips' size and a draft frame rate (nothing
        # the page is checked for depends on the film's frames)
        board = p / "storyboard.yaml"
        text = board.read_text(encoding="utf-8")
        assert "\noutput:\n" in text
        board.write_text(text.replace("\noutput:\n", "\noutput:\n  size: 320x180\n  fps: 10\n"))
    assert main(["render", str(p), "--draft", "--quiet", "--emulator-latency", "0.1"]) == 0
    return p


@pytest.fixture
def page(tmp_path: Path) -> Iterator[object]:
    with browser_page(tmp_path / "profile", 1500, 1000, ARGS) as pg:
        yield pg


def test_review_page_shows_takes_picks_and_a_render_from_the_terminal(
    rendered: Path, page: object
) -> None:
    pg = page  # the Playwright page (typed loosely: playwright is an optional dev dependency)
    with ReviewServer(open_project(rendered, draft=True)) as server:
        pg.goto(server.url)  # type: ignore[attr-defined]
        pg.wait_for_function("document.querySelectorAll('.card').length === 5")  # type: ignore[attr-defined]
        cards = pg.eval_on_selector_all(".card", "els => els.map(e => e.dataset.scene)")  # type: ignore[attr-defined]
        assert cards == SCENES
        assert pg.locator(".take video").count() == 5  # type: ignore[attr-defined]
        assert pg.locator(".card.up-to-date").count() == 5  # type: ignore[attr-defined]
        assert pg.locator("#chapters li").count() == 5  # type: ignore[attr-defined]
        assert "extend" in pg.inner_text('[data-link="last-turn"]')  # type: ignore[attr-defined]

        # a take's video loads its metadata (over Range requests) and knows its length
        first = '.take[data-scene="dusk"] video'
        pg.wait_for_function(f"document.querySelector('{first}').readyState >= 1")  # type: ignore[attr-defined]
        duration = pg.eval_on_selector(first, "v => v.duration")  # type: ignore[attr-defined]
        assert duration == pytest.approx(8.0, abs=0.1)

        # a retake started from a terminal shows up live: generating, then its new take
        cmd = [sys.executable, "-m", "storyboard", "render", str(rendered), "--retake", "dawn"]
        opts = ["--draft", "--no-compose", "--quiet", "--emulator-latency", "3"]
        proc = subprocess.Popen([*cmd, *opts], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            pg.wait_for_selector('.card[data-scene="dawn"].generating')  # type: ignore[attr-defined]
            assert "generating" in pg.inner_text('.card[data-scene="dawn"] .badge')  # type: ignore[attr-defined]
            pg.wait_for_selector('.take[data-scene="dawn"][data-take="2"].chosen')  # type: ignore[attr-defined]
        finally:
            out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        assert lock_take(rendered, "dawn") == 2

        # the film is not the cut any more and nothing is stale: the page composes it (hostile
        # helper-45: the one button read "Everything is up to date", disabled)
        button = "#render-stale:not([disabled])"
        pg.wait_for_selector(button)  # type: ignore[attr-defined]
        assert pg.inner_text("#render-stale") == "Compose the film"  # type: ignore[attr-defined]
        composing: list[str] = []
        pg.once("dialog", lambda d: (composing.append(d.message), d.accept()))  # type: ignore[attr-defined]
        pg.click("#render-stale")  # type: ignore[attr-defined]
        pg.wait_for_function(  # type: ignore[attr-defined]
            "document.querySelector('#render-stale').textContent === 'Everything is up to date'"
            " && !document.querySelector('#film .why')"
        )
        assert composing == ["Composing the film from the takes in the cut buys nothing. Go ahead?"]

        # pick the other take: the lock on disk changes and the page follows
        pick(pg, '.take[data-scene="dawn"][data-take="1"]')
        assert lock_take(rendered, "dawn") == 1
        assert "take 1 is in the cut" in pg.inner_text("#activity")  # type: ignore[attr-defined]

        # a retake shows its cost before anything is spent; declining spends nothing
        asked: list[str] = []
        pg.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))  # type: ignore[attr-defined]
        before = (rendered / "storyboard.lock").read_bytes()
        with pg.expect_event("dialog"):  # type: ignore[attr-defined]
            pg.click('.card[data-scene="stairs"] button.retake')  # type: ignore[attr-defined]
        assert asked == [
            "A new take of stairs generates stairs, lamp-room, last-turn and costs $2.00 (the "
            "local emulator makes placeholder clips and charges nothing). Go ahead?"
        ]
        assert (rendered / "storyboard.lock").read_bytes() == before
        assert pg.locator('.take[data-scene="stairs"]').count() == 1  # type: ignore[attr-defined]

        screenshot_if_asked(pg, "REVIEW_SCREENSHOT")
        pg.goto("about:blank")  # type: ignore[attr-defined]  # close the event stream first


# what sticks out past a 390 px screen: the elements, their right edge and their text
WIDER_THAN_THE_SCREEN = """[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > 391).slice(0, 8)
  .map(e => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)} `
    + (e.textContent || '').slice(0, 60))"""


def test_the_page_fits_a_phone_and_logs_no_error(rendered: Path, tmp_path: Path) -> None:
    """hostile helper-45: at 390 px the page was 1079 px wide (cards, Pick buttons and the film
    off-screen), and every load logged a 403 for /favicon.ico."""
    with (
        browser_page(tmp_path / "phone", 390, 844, ARGS) as pg,
        ReviewServer(open_project(rendered, draft=True)) as server,
    ):
        errors: list[str] = []
        pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)  # type: ignore[attr-defined]
        pg.goto(server.url)  # type: ignore[attr-defined]
        pg.wait_for_function("document.querySelectorAll('.card').length === 5")  # type: ignore[attr-defined]
        pg.wait_for_timeout(1500)  # type: ignore[attr-defined]  # videos, sheet, icon requested
        width = pg.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
        wide = pg.evaluate(WIDER_THAN_THE_SCREEN)  # type: ignore[attr-defined]
        assert width <= 390, (width, wide)
        assert errors == []
        screenshot_if_asked(pg, "REVIEW_PHONE_SCREENSHOT")
        pg.goto("about:blank")  # type: ignore[attr-defined]
