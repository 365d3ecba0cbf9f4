"""`validate` and `models` know every kind of task (issue 17): images and sounds, not only clips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import png_bytes, write_project

from storyboard.board.audio_models import audio_catalogue
from storyboard.board.image_models import image_catalogue
from storyboard.cli.main import main

CAST = """
title: Cast
model: alibaba:wan@2.6
size: 1280x720
image_model: bfl:6@1
defaults: {duration: 5}
cast:
  wren: {description: "Wren, a weathered woman of seventy"}
  tower: {description: "a lamp room", images: [assets/tower.png]}
scenes:
  - {id: a, cast: [wren, tower], prompt: "{{ cast.wren }} at the lens"}
  - {id: b, prompt: "The sea at dawn"}
"""


def test_validate_counts_the_images_a_render_makes(tmp_path: Path, capsys: Any) -> None:
    p = write_project(tmp_path / "p", CAST, {"assets/tower.png": png_bytes(64, 64, (9, 9, 9))})
    assert main(["validate", str(p)]) == 0
    out = capsys.readouterr().out.strip()
    # Wan2.6 takes no reference images: a starts from its board, which waits for wren's sheet.
    # 2 clips x 5 s x $0.10 + the sheet and a's board at $0.06 (FLUX.2 [flex], catalogue)
    assert out.endswith("OK (2 scenes, 10 s; 2 clips, 2 images: $1.12 to generate everything)"), out


def test_validate_counts_sounds(tmp_path: Path, capsys: Any) -> None:
    text = """
title: Sound
model: alibaba:wan@2.6
defaults: {duration: 5}
narrator: {model: xai:tts@0, voice: Eve}
scenes:
  - {id: a, prompt: "A kite.", narration: ["Line one is spoken."]}
"""
    p = write_project(tmp_path / "p", text)
    assert main(["validate", str(p)]) == 0
    out = capsys.readouterr().out.strip()
    assert "(1 scenes, 5 s; 1 clip, 1 sound: $" in out, out


@pytest.mark.parametrize("kind", ["image", "audio"])
def test_models_lists_image_and_audio_models(kind: str, capsys: Any) -> None:
    assert main(["models", "--kind", kind]) == 0
    out = capsys.readouterr().out
    catalogue = image_catalogue() if kind == "image" else audio_catalogue()
    for air, profile in catalogue.items():
        assert f"{air} " in out and profile.name in out
    assert "google:3@3" not in out
    assert main(["models", "--kind", kind, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [m["id"] for m in listed] == list(catalogue)


def test_models_image_table_says_price_sizes_and_references(capsys: Any) -> None:
    assert main(["models", "--kind", "image"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("bfl:6@1"))
    assert "FLUX.2 [flex]" in row and "$0.06" in row and "referenceImages" in row
    assert "10 (unverified)" in row


def test_models_video_is_the_default_listing(capsys: Any) -> None:
    assert main(["models"]) == 0
    default = capsys.readouterr().out
    assert main(["models", "--kind", "video"]) == 0
    assert capsys.readouterr().out == default


def test_models_filters_are_for_video_models(capsys: Any) -> None:
    assert main(["models", "--kind", "image", "--can", "extend"]) == 2
    assert "--can, --max-price and --sort apply to video models" in capsys.readouterr().err


def test_plan_says_a_board_no_clip_uses_waits_for_render_boards(
    tmp_path: Path, capsys: Any
) -> None:
    p = write_project(tmp_path / "p", CAST, {"assets/tower.png": png_bytes(64, 64, (9, 9, 9))})
    assert main(["plan", str(p)]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line}
    # a starts from its board (Wan2.6 takes no references): a plain render makes it
    assert rows["board:a"].split()[-2:] == ["$0.06", "generate"]
    # b's board is used by no clip: not cached, made by --boards
    assert rows["board:b"].split()[-2:] == ["$0.06", "--boards"]
    assert main(["plan", str(p), "--boards"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line}
    assert rows["board:b"].split()[-2:] == ["$0.06", "generate"]
    # the clips are not made by `render --boards`, nor up to date: a later render makes them
    for clip in ("a", "b"):
        assert rows[clip].split()[-6:] == ["-", "later", "(no", "clips", "with", "--boards)"]


def test_a_member_with_its_own_pictures_has_no_sheet_to_retake(tmp_path: Path) -> None:
    """hostile2 H17: `--retake cast:tower` for a member with `images:` said "did you mean
    'cast:tom'?"; it has no sheet: its pictures are used as they are."""
    import storyboard

    p = write_project(tmp_path / "p", CAST, {"assets/tower.png": png_bytes(64, 64, (9, 9, 9))})
    with pytest.raises(storyboard.PlanError) as err:
        storyboard.load(p).takes("cast:tower")
    assert (
        "'cast:tower': tower has no generated sheet: its own images (assets/tower.png) are "
        "sent as they are" in str(err.value)
    )


def test_plan_lists_a_board_s_given_pictures_among_its_references(
    tmp_path: Path, capsys: Any
) -> None:
    """hostile2 H13d: the references column named only generated sheets."""
    p = write_project(tmp_path / "p", CAST, {"assets/tower.png": png_bytes(64, 64, (9, 9, 9))})
    assert main(["plan", str(p)]) == 0
    row = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("board:a"))
    assert "cast:wren, assets/tower.png" in row
