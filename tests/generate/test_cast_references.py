"""The cast on a video model that takes reference images (issue 17): the clip's own task sends
the cast's pictures, checked on the emulator's request log by content hash.

Veo 3.1 Fast takes ``inputs.referenceImages`` (the catalogue's ``references`` overlay, sourced
there); a cast scene on it sends the given picture and the generated sheet, not its board.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from helpers import png_bytes, write_project

import storyboard
from storyboard.emulator import Emulator, EmulatorConfig
from storyboard.plan.images import takes_references

pytestmark = pytest.mark.usefixtures("quick_polls")  # only for speed: see conftest

CAST = """
title: Cast
model: google:3@3
size: 1280x720
image_model: bfl:6@1
defaults: {duration: 4}
cast:
  wren:
    description: Wren, a weathered woman of seventy in a navy wool jumper
  tower:
    description: the lamp room of a Victorian lighthouse
    images: [assets/tower.png]
scenes:
  - {id: a, cast: [wren, tower], prompt: "{{ cast.wren }} lays her hand on the lens"}
  - {id: b, prompt: "The sea at dawn"}
"""


@pytest.fixture
def emu() -> Any:
    with Emulator(EmulatorConfig(latency=0.05, draft=True)) as e:
        yield e


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_the_model_of_this_test_takes_reference_images() -> None:
    from storyboard.board.models import PROFILES

    assert takes_references(PROFILES["google:3@3"])


def test_a_reference_model_clip_sends_the_cast_given_and_generated(
    tmp_path: Path, emu: Emulator
) -> None:
    tower = png_bytes(96, 64, (20, 120, 200))
    p = write_project(tmp_path / "p", CAST, {"assets/tower.png": tower})
    result = storyboard.load(p, api_key="k", base_url=emu.base_url).render()
    assert result.ok, [s.error for s in result.scenes]
    # no board is bought: the clip holds the cast by its references, not a first frame
    images = [t for t in emu.log if t["taskType"] == "imageInference"]
    assert [t["positivePrompt"][:16] for t in images] == ["Reference sheet:"]
    clips = {t["positivePrompt"][:8]: t for t in emu.log if t["taskType"] == "videoInference"}
    clip_a, clip_b = clips["Wren, a "], clips["The sea "]
    sheet = next(t for t in storyboard.load(p).takes("cast:wren") if t.chosen)
    sent = [sha(emu.images[r]) for r in clip_a["inputs"]["referenceImages"]]
    assert sent == [sha(sheet.path.read_bytes()), sha(tower)]
    assert "frameImages" not in clip_a["inputs"]
    assert "referenceImages" not in (clip_b.get("inputs") or {})


def test_picking_a_sheet_names_only_what_a_render_would_remake(
    tmp_path: Path, emu: Emulator
) -> None:
    """hostile2 H13i: on a reference model no clip starts from a board, so picking a sheet
    makes stale the clip, not a board that was never made."""
    p = write_project(tmp_path / "p", CAST, {"assets/tower.png": png_bytes(96, 64, (1, 2, 3))})
    project = storyboard.load(p, api_key="k", base_url=emu.base_url)
    assert project.render().ok
    assert project.render(retake=["cast:wren"]).ok
    picked = storyboard.load(p, api_key="k", base_url=emu.base_url).pick("cast:wren", 1)
    assert "board:a" not in picked.stale
    # once --boards made the board, it is stale for the next --boards: named
    assert project.render(boards=True).ok
    picked = storyboard.load(p, api_key="k", base_url=emu.base_url).pick("cast:wren", 2)
    assert "board:a" in picked.stale


def test_a_batch_plan_counts_the_sheets_once(tmp_path: Path) -> None:
    """hostile2 H13c: `plan --variant all` left the cast sheets out of its totals."""
    text = CAST + "variants:\n  vertical: {size: 720x1280, reframe: crop}\n"
    p = write_project(tmp_path / "p", text, {"assets/tower.png": png_bytes(96, 64, (1, 2, 3))})
    batch = storyboard.load(p).plan_variants("all")
    main_film, vertical = batch.films
    clips = sum(s.cost for s in main_film.plan.to_generate)
    sheet = next(i.cost for i in main_film.plan.images if i.node == "cast:wren")
    assert main_film.cost == pytest.approx(clips + sheet)
    # the vertical film crops the same clips, sent the same sheet: it adds nothing
    assert vertical.shared == {"a": "main", "b": "main", "cast:wren": "main"}
    assert vertical.cost == 0
    assert batch.cost == pytest.approx(clips + sheet)


def test_a_batch_plan_of_boards_prices_each_films_boards_and_the_sheets_once(
    tmp_path: Path,
) -> None:
    """`plan_variants(boards=True)` is what `render --variant all --boards` buys: the sheets
    and every film's boards (at that film's size), no clip; the sheets are shared."""
    text = CAST + "variants:\n  vertical: {size: 720x1280}\n"
    p = write_project(tmp_path / "p", text, {"assets/tower.png": png_bytes(96, 64, (1, 2, 3))})
    project = storyboard.load(p)
    batch = project.plan_variants("all", boards=True)
    main_film, vertical = batch.films
    assert main_film.cost == pytest.approx(project.plan(boards=True).cost)
    assert not main_film.plan.to_generate and not vertical.plan.to_generate  # no clip
    assert vertical.shared == {"cast:wren": "main"}
    boards = [i for i in vertical.plan.images if i.generate and i.node.startswith("board:")]
    assert [(i.node, i.size) for i in boards] == [
        ("board:a", "720x1280"),
        ("board:b", "720x1280"),
    ]
    assert vertical.cost == pytest.approx(sum(i.cost for i in boards))
    assert batch.cost == pytest.approx(main_film.cost + vertical.cost)
