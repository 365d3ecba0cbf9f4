"""The review page shows the sounds (issue 18), in real Chromium: the generated music on top, and
on each scene's card its spoken lines and effects, each with what is said (or the prompt), its
state and cost, and every take playable as sound; pick and retake them exactly as a clip's.

``SOUND_SCREENSHOT=path.png`` also saves the page's screenshot there.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from helpers import (
    NO_CHROMIUM,
    browser_page,
    chromium,
    lock_take,
    pick,
    screenshot_if_asked,
    write_project,
)

from storyboard.cli.main import main
from storyboard.review.library import open_project
from storyboard.review.page import snapshot
from storyboard.review.server import ReviewServer

BOARD = """
title: Sound Page
size: 1280x720
narrator: {model: "xai:tts@0", voice: Sal}
defaults: {duration: 4}
edit:
  music: {prompt: "a slow cello under the sea", volume: 0.3}
scenes:
  - id: a
    prompt: A lighthouse at dusk.
    narration: ["For forty years she lit the lamp."]
    sounds:
      - {prompt: "a heavy door creaks open", at: 1.0, duration: 1.5, price: 0.02}
  - id: b
    prompt: The sea at dawn.
    sounds:
      - {prompt: "gulls cry far off", at: 0.5, duration: 2}
output: {fps: 10, size: 320x180}  # the film small: only for speed
"""
DRAFT = ["--draft", "--quiet", "--emulator-latency", "0.1"]


@pytest.fixture
def rendered(tmp_path: Path) -> Path:
    """Rendered as --draft on the emulator, then the line retaken: two takes of the line (the
    second chosen), one of the music and of each effect. b's effect has no price (mirelo's is
    not published): the first render has no budget, so it is made."""
    p = write_project(tmp_path / "p", BOARD)
    assert main(["render", str(p), *DRAFT]) == 0
    assert main(["render", str(p), "--retake", "line:a/1", *DRAFT]) == 0
    return p


def test_the_snapshot_has_each_scenes_sounds_and_the_music(rendered: Path) -> None:
    snap = snapshot(open_project(rendered, draft=True))
    a, b = snap["scenes"]
    assert [s["node"] for s in a["sounds"]] == ["line:a/1", "sfx:a/1"]
    assert [s["node"] for s in b["sounds"]] == ["sfx:b/1"]
    line, door = a["sounds"]
    assert line["what"] == "voice" and line["text"] == "For forty years she lit the lamp."
    assert line["model"] == "xai:tts@0 Sal" and line["take"] == 2 and len(line["takes"]) == 2
    assert all(t["audio"] and not t["image"] for t in line["takes"])
    assert door["cost"] == pytest.approx(0.03) and door["priced"] is True
    assert b["sounds"][0]["priced"] is False  # mirelo: no published price, no price: set
    music = snap["music"]
    assert music["node"] == "music" and music["status"] == "up to date" and music["takes"]
    assert music["text"] == "a slow cello under the sea"
    # what the page asks before a render: the unpriced effect is refused whatever the budget
    review = open_project(rendered, draft=True)
    why = review.offer(["sfx:b/1"]).refused
    assert why is not None and "no source gives the price of sfx:b/1 (mirelo:1@1)" in why
    assert "a budget cannot hold it" in why and review.offer(["sfx:a/1"]).refused is None


@pytest.fixture
def page(tmp_path: Path) -> Iterator[object]:
    if chromium() is None:
        pytest.skip(NO_CHROMIUM)
    pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
    with browser_page(tmp_path / "profile", 1400, 1100) as pg:
        yield pg


def playable(pg: object, selector: str) -> list[float]:
    """The length in seconds of each sound ``selector`` finds, once the browser has read it
    (NaN would mean it could not be decoded)."""
    pg.wait_for_function(  # type: ignore[attr-defined]
        f"[...document.querySelectorAll('{selector}')].every(a => a.readyState >= 1 || a.error)"
    )
    return list(
        pg.eval_on_selector_all(  # type: ignore[attr-defined]
            selector, "els => els.map(a => a.error ? -1 : a.duration)"
        )
    )


def test_the_page_plays_picks_and_retakes_the_sounds(rendered: Path, page: object) -> None:
    pg = page
    with ReviewServer(open_project(rendered, draft=True)) as server:
        pg.goto(server.url)  # type: ignore[attr-defined]
        pg.wait_for_function("document.querySelectorAll('.card').length === 2")  # type: ignore[attr-defined]

        # the music on top, its take playable
        assert pg.is_visible("#music")  # type: ignore[attr-defined]
        assert "a slow cello under the sea" in pg.inner_text("#music q.said")  # type: ignore[attr-defined]
        [music] = playable(pg, "#music audio")
        assert music > 1.0

        # card a: its line (two takes, the second chosen) and its effect, under the clip
        a = '.card[data-scene="a"]'
        line = f'{a} .sound-col[data-node="line:a/1"]'
        assert pg.inner_text(f"{line} .label") == "LINE"  # type: ignore[attr-defined]
        assert "For forty years she lit the lamp." in pg.inner_text(f"{line} q.said")  # type: ignore[attr-defined]
        assert "xai:tts@0 Sal" in pg.inner_text(f"{line} .facts")  # type: ignore[attr-defined]
        assert pg.locator(f'{line} .take[data-take="2"].chosen').count() == 1  # type: ignore[attr-defined]
        lengths = playable(pg, f"{line} audio")
        assert len(lengths) == 2 and all(x > 0.5 for x in lengths), lengths
        door = f'{a} .sound-col[data-node="sfx:a/1"]'
        assert "$0.03" in pg.inner_text(f"{door} .facts")  # type: ignore[attr-defined]
        assert [round(x, 1) for x in playable(pg, f"{door} audio")] == [1.5]
        sounds = pg.eval_on_selector(f"{a} .sounds", "e => e.getBoundingClientRect().toJSON()")  # type: ignore[attr-defined]
        clip = pg.eval_on_selector(f"{a} .clip-col", "e => e.getBoundingClientRect().toJSON()")  # type: ignore[attr-defined]
        assert sounds["top"] >= clip["bottom"]  # under the clip's takes
        gulls = '.card[data-scene="b"] .sound-col[data-node="sfx:b/1"]'
        assert "price not published" in pg.inner_text(f"{gulls} .facts")  # type: ignore[attr-defined]

        screenshot_if_asked(pg, "SOUND_SCREENSHOT")

        # pick the first take of the line: the lock changes, the page follows
        pick(pg, f'{line} .take[data-take="1"]')
        assert lock_take(rendered, "line:a/1") == 1
        assert "line:a/1: take 1 is chosen" in pg.inner_text("#activity")  # type: ignore[attr-defined]

        # a retake of the priced effect says what it makes and costs, and makes it
        asked: list[str] = []
        pg.once("dialog", lambda d: (asked.append(d.message), d.accept()))  # type: ignore[attr-defined]
        pg.click(f"{door} button.retake-node")  # type: ignore[attr-defined]
        pg.wait_for_selector(f'{door} .take[data-take="2"].chosen audio')  # type: ignore[attr-defined]
        assert asked[-1].startswith("A new take of sfx:a/1 generates sfx:a/1 and costs $0.03")
        assert lock_take(rendered, "sfx:a/1") == 2
        # the page's render that made it ends after the take is in (it composes the film):
        # until then the page says it is running, each second, over any other message
        pg.wait_for_function(  # type: ignore[attr-defined]
            "!document.querySelector('#activity').textContent.includes(': running (')"
        )

        # the unpriced one: the page's render always has a budget, so it is refused, with why
        before = (rendered / "storyboard.lock").read_bytes()
        pg.once("dialog", lambda d: d.accept())  # type: ignore[attr-defined]
        pg.click(f"{gulls} button.retake-node")  # type: ignore[attr-defined]
        pg.wait_for_function(  # type: ignore[attr-defined]
            "document.querySelector('#activity').textContent.includes('no source gives the price')"
        )
        assert "set `price:`" in pg.inner_text("#activity")  # type: ignore[attr-defined]
        assert (rendered / "storyboard.lock").read_bytes() == before
        pg.goto("about:blank")  # type: ignore[attr-defined]  # close the event stream first


def test_stale_sounds_count_and_a_missing_take_is_offered(
    rendered: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hostile B1: with only a line stale, the page said "0 scenes stale" and its render button
    was off. B2: a sound take whose file is gone showed "up to date", nothing offered to fetch
    it, and the film vanished from the page."""
    from storyboard.review.bodies import BadRequest, known

    review = open_project(rendered, draft=True)
    text = (rendered / "storyboard.yaml").read_text()
    (rendered / "storyboard.yaml").write_text(text.replace("she lit the lamp", "she kept the lamp"))
    snap = snapshot(review)
    assert snap["stale"] == ["line:a/1"] and snap["next_cost"] > 0
    (rendered / "storyboard.yaml").write_text(text)
    lock = yaml.safe_load((rendered / "storyboard.lock").read_text())["scenes"]
    (rendered / lock["sfx:a/1"]["file"]).unlink()
    (rendered / lock["line:a/1"]["file"]).write_bytes(b"<html>not a sound</html>")
    snap = snapshot(review)
    assert sorted(snap["stale"]) == ["line:a/1", "sfx:a/1"]
    a = snap["scenes"][0]
    line, door = a["sounds"]
    assert line["status"] == door["status"] == "stale"
    # keyless placeholders: their emulator is gone with its files, so they are made again, for
    # nothing (hostile helper-55: fetched from a dead URL, the render failed)
    assert door["reasons"][-1] == "file missing"
    offer = review.offer()
    assert offer.fetch == [] and {"line:a/1", "sfx:a/1"} <= set(offer.generate)
    assert not offer.real  # the emulator: nothing spent
    assert snap["film"] is not None and snap["film"]["url"]  # the film is still shown
    (rendered / lock["a"]["file"]).unlink()  # a clip it plays is gone: still shown, and why
    film = snapshot(review)["film"]
    assert film is not None and film["url"] and "missing" in film["outdated"][0]
    # M1, M2: what a name may be; clip: only before a scene id
    for bad in ("clip:line:a/1", "line:a/9", "music:x"):
        with pytest.raises(BadRequest) as e:
            known(bad, review.scene_ids(), "pick")
        assert "line:SCENE/N, sfx:SCENE/N, music or lipsync:SCENE" in str(e.value)
    known("clip:a", review.scene_ids(), "pick")


def test_a_page_of_many_lines_reads_the_state_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hostile B3: 120 lines made the page's state 15 s: each node's takes opened the state
    again, and each line take was probed as a video (and failed) and its length read again,
    at every look. Now nothing is probed twice and the state is read once."""
    import storyboard.media.ffmpeg as ff
    from storyboard.generate import state as state_mod

    lines = "\n".join(f'      - "Line {k}, said slowly and clearly."' for k in range(5))
    board = (
        BOARD.split("scenes:")[0]
        + "scenes:\n"
        + "".join(
            f"  - id: s{i}\n    prompt: Scene {i}.\n    narration:\n{lines}\n" for i in range(2)
        )
    )
    p = write_project(tmp_path / "p", board)
    assert main(["render", str(p), *DRAFT]) == 0
    review = open_project(p, draft=True)
    snapshot(review)  # the first look reads each length once (kept by content)
    runs, opens = [0], [0]
    real_run, real_open = ff.run_child, state_mod.BuildState._open

    def run(*a: object, **k: object) -> object:
        runs[0] += 1
        return real_run(*a, **k)  # type: ignore[arg-type]

    def opened(self: object, *a: object, **k: object) -> object:
        opens[0] += 1
        return real_open(self, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(ff, "run_child", run)
    monkeypatch.setattr(state_mod.BuildState, "_open", opened)
    snap = snapshot(review)
    assert sum(len(s["sounds"]) for s in snap["scenes"]) == 10
    assert runs[0] == 0
    assert opens[0] <= 6  # status, activity, writer, film, the takes: not one per node
