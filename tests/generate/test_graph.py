"""One graph of tasks (issue 17): cast sheets and boards (imageInference) before the clips.

Everything is checked on the emulator's request log: what each task sent, by content hash.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from helpers import png_bytes, write_project
from PIL import Image

import storyboard
from storyboard.cli.main import main
from storyboard.emulator import Emulator, EmulatorConfig
from storyboard.generate.backend import BackendOptions, open_client
from storyboard.media.frames import conform_image

pytestmark = pytest.mark.usefixtures("quick_polls")  # only for speed: see conftest

# Wan2.6 takes no reference images (the catalogue names no field): a scene with a cast starts
# from its board
CAST = """
title: Cast
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
  - {id: b, cast: [tower], prompt: "The lamp room, empty, at night"}
  - {id: c, prompt: "The sea at dawn"}
"""


@pytest.fixture
def emu() -> Any:
    with Emulator(EmulatorConfig(latency=0.05, draft=True)) as e:
        yield e


def project(tmp_path: Path, text: str = CAST) -> Path:
    tower = png_bytes(96, 64, (20, 120, 200))
    return write_project(tmp_path / "p", text, {"assets/tower.png": tower})


def load(p: Path, emu: Emulator) -> storyboard.Project:
    return storyboard.load(p, api_key="k", base_url=emu.base_url)


def sent(emu: Emulator, task_type: str) -> list[dict[str, Any]]:
    return [t for t in emu.log if t["taskType"] == task_type]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def ref_hashes(emu: Emulator, task: dict[str, Any]) -> list[str]:
    """The content hash of each reference image a task sent (uploaded before it)."""
    return [sha(emu.images[r]) for r in task.get("inputs", {}).get("referenceImages", [])]


def take_hash(p: Path, name: str) -> str:
    lock = storyboard.load(p)
    takes = {t.n: t for t in lock.takes(name)}
    chosen = next(t for t in takes.values() if t.chosen)
    return sha(chosen.path.read_bytes())


def test_plan_json_lists_every_task_with_its_type_and_what_it_waits_for(
    tmp_path: Path, capsys: Any
) -> None:
    p = project(tmp_path)
    assert main(["plan", str(p), "--json"]) == 0
    tasks = {t["node"]: t for t in json.loads(capsys.readouterr().out)["tasks"]}
    # a plain render makes only what the clips use: c's board is not asked for
    assert list(tasks) == ["cast:wren", "board:a", "board:b", "clip:a", "clip:b", "clip:c"]
    assert {n: t["taskType"] for n, t in tasks.items()} == {
        "cast:wren": "imageInference",
        "board:a": "imageInference",
        "board:b": "imageInference",
        "clip:a": "videoInference",
        "clip:b": "videoInference",
        "clip:c": "videoInference",
    }
    assert tasks["board:a"]["waits_for"] == ["cast:wren"]
    assert tasks["clip:a"]["waits_for"] == ["board:a"]
    assert tasks["clip:c"]["waits_for"] == []
    assert tasks["board:a"]["request"]["inputs"]["referenceImages"] == [
        "${take:cast:wren}",
        "${image:assets/tower.png}",
    ]
    assert (tasks["board:a"]["request"]["width"], tasks["board:a"]["request"]["height"]) == (
        1280,
        720,
    )
    assert tasks["clip:a"]["request"]["inputs"]["frameImages"] == [
        {"image": "${take:board:a}", "frame": "first"}
    ]
    assert main(["plan", str(p), "--json", "--boards"]) == 0
    boards = [t["node"] for t in json.loads(capsys.readouterr().out)["tasks"]]
    assert boards == ["cast:wren", "board:a", "board:b", "board:c"]


def test_plan_shows_the_price_of_the_boards_and_of_the_clips(tmp_path: Path, capsys: Any) -> None:
    p = project(tmp_path)
    assert main(["plan", str(p)]) == 0
    out = capsys.readouterr().out
    # FLUX.2 [flex]: $0.06 per listed size (catalogue); Wan2.6 5 s x $0.10/s = $0.50
    assert "boards: 4 images $0.24 (bfl:6@1;" in out
    assert "clips: 3 x 5 s $1.50" in out


def test_cast_pictures_reach_every_board_and_the_picked_board_is_the_first_frame(
    tmp_path: Path, emu: Emulator
) -> None:
    p = project(tmp_path)
    result = load(p, emu).render()
    assert result.ok, [s.error for s in result.scenes]
    boards = {t["positivePrompt"][:12]: t for t in sent(emu, "imageInference")}
    sheet, tower = take_hash(p, "cast:wren"), sha((p / "assets/tower.png").read_bytes())
    board_a = next(t for t in sent(emu, "imageInference") if "lays her hand" in t["positivePrompt"])
    board_b = next(t for t in sent(emu, "imageInference") if "empty" in t["positivePrompt"])
    assert ref_hashes(emu, board_a) == [sheet, tower]
    assert ref_hashes(emu, board_b) == [tower]
    assert len(boards) == 3  # the sheet and two boards; c has no cast and needs no board
    # the clip of `a` starts from its board (cropped to the clip's size before upload)
    clip_a = next(t for t in sent(emu, "videoInference") if "lays her hand" in t["positivePrompt"])
    frame = clip_a["inputs"]["frameImages"][0]["image"]
    board_file = (p / "build/takes/board/a/take-1.png").read_bytes()
    assert sha(emu.images[frame]) == sha(conform_image(board_file, 1280, 720)[0])
    # a second board take, picked: the next render re-makes the clip from it
    n = len(emu.log)
    assert load(p, emu).render(retake=["board:a"], boards=True).ok
    # board:a again, and board:c, which no clip used (--boards makes every board)
    assert sorted(t["positivePrompt"][:14] for t in emu.log[n:]) == [
        "The sea at daw",
        "Wren, a weathe",
    ]
    project_ = load(p, emu)
    assert [t.n for t in project_.takes("board:a")] == [1, 2]
    project_.pick("board:a", 1)
    assert [s.stale for s in project_.status().scenes if s.scene == "a"] == [False]
    project_.pick("board:a", 2)
    row = next(s for s in project_.status().scenes if s.scene == "a")
    assert row.stale and row.reasons == ["an input's chosen take changed"]
    n = len(emu.log)
    assert load(p, emu).render().ok
    (clip,) = emu.log[n:]
    board2 = (p / "build/takes/board/a/take-2.png").read_bytes()
    assert sha(emu.images[clip["inputs"]["frameImages"][0]["image"]]) == sha(
        conform_image(board2, 1280, 720)[0]
    )


def test_changing_a_description_remakes_its_sheet_and_its_scenes_and_nothing_else(
    tmp_path: Path, emu: Emulator
) -> None:
    p = project(tmp_path)
    assert load(p, emu).render(boards=True).ok
    assert load(p, emu).render().ok
    text = (p / "storyboard.yaml").read_text()
    (p / "storyboard.yaml").write_text(text.replace("navy wool jumper", "red oilskin coat"))
    status = load(p, emu).status()
    assert sorted(s.scene for s in status.scenes if s.stale) == ["a", "board:a", "cast:wren"]
    n = len(emu.log)
    assert load(p, emu).render().ok
    made = [(t["taskType"], t["positivePrompt"][:20]) for t in emu.log[n:]]
    assert made == [
        ("imageInference", "Reference sheet: Wre"),
        ("imageInference", "Wren, a weathered wo"),
        ("videoInference", "Wren, a weathered wo"),
    ]


def test_boards_send_no_video_and_a_no_op_render_sends_nothing(
    tmp_path: Path, emu: Emulator
) -> None:
    p = project(tmp_path)
    result = load(p, emu).render(boards=True)
    assert result.ok
    assert {t["taskType"] for t in emu.log} == {"imageInference"}
    assert sorted(s.scene for s in result.scenes) == [
        "board:a",
        "board:b",
        "board:c",
        "cast:wren",
    ]
    before = emu.requests
    again = load(p, emu).render(boards=True)
    assert {s.status for s in again.scenes} == {"cached"} and emu.requests == before
    assert load(p, emu).render().ok
    before = emu.requests
    assert {s.status for s in load(p, emu).render().scenes} == {"cached"}
    assert emu.requests == before


def test_takes_pick_and_retake_name_sheets_and_boards(tmp_path: Path, emu: Emulator) -> None:
    p = project(tmp_path)
    pr = load(p, emu)
    assert pr.render(boards=True).ok
    assert pr.render(retake=["cast:wren"], boards=True).ok
    takes = load(p, emu).takes("cast:wren")
    assert [(t.n, t.chosen) for t in takes] == [(1, False), (2, True)]
    assert takes[0].path.suffix == ".png" and takes[0].file == "build/takes/cast/wren/take-1.png"
    with Image.open(io.BytesIO(takes[1].path.read_bytes())) as im:
        assert im.size == (256, 256)  # a draft emulator draws at a quarter of 1024x1024
    with pytest.raises(storyboard.PlanError, match="no task 'cast:wrne'; did you mean 'cast:wren'"):
        load(p, emu).takes("cast:wrne")
    picked = load(p, emu).pick("cast:wren", 1)
    assert "board:a" in picked.downstream


def test_the_client_takes_image_results_delivered_sync_or_async(emu: Emulator) -> None:
    def task(delivery: str) -> dict[str, Any]:
        return {
            "taskType": "imageInference",
            "taskUUID": __import__("uuid").uuid4().__str__(),
            "model": "bfl:6@1",
            "positivePrompt": "a lighthouse",
            "width": 512,
            "height": 512,
            "outputFormat": "PNG",
            "includeCost": True,
            "deliveryMethod": delivery,
        }

    async def go() -> tuple[Any, Any, int]:
        backend = BackendOptions(api_key="k", base_url=emu.base_url)
        async with open_client(backend) as client:
            early = await client.submit(task("sync"))  # the results are in the answer
            polls = client.stats.polls
            late = await client.run(task("async"))
            return early, late, client.stats.polls - polls

    early, late, polls = asyncio.run(go())
    assert len(early) == 1 and early[0].media == "image" and early[0].cost == 0.06
    assert early[0].video_url.endswith(".png")
    assert len(late) == 1 and late[0].media == "image" and polls >= 1


def test_validate_warns_when_a_scene_cannot_hold_its_cast(tmp_path: Path, capsys: Any) -> None:
    text = CAST.replace(
        '  - {id: b, cast: [tower], prompt: "The lamp room, empty, at night"}',
        '  - {id: b, cast: [tower], prompt: "The lamp room, empty", continuity: last_frame}',
    )
    p = project(tmp_path, text)
    assert main(["validate", str(p)]) == 0
    err = capsys.readouterr().err
    assert (
        "warning: scene 'b': the cast cannot be held on Wan2.6 (alibaba:wan@2.6): it "
        "takes no reference images and it continues by last_frame, so the board cannot be its "
        "first frame; video models that take the cast as reference images:"
    ) in err


def test_an_unknown_cast_member_is_named_with_a_guess(tmp_path: Path) -> None:
    p = project(tmp_path, CAST.replace("cast: [wren, tower]", "cast: [wrne, tower]"))
    with pytest.raises(storyboard.SpecError) as err:
        storyboard.load(p)
    assert "scenes[0].cast[0]: scene 'a': unknown cast member 'wrne'; did you mean 'wren'?" in str(
        err.value
    )
