"""The film's contact sheet shows each scene's board beside its clip's first and last frames
(issue 17): a scene with a board gets it in a column of its own; one without shows none."""

from __future__ import annotations

from pathlib import Path

from helpers import write_project
from PIL import Image

from storyboard.cli.main import main
from storyboard.media.thumbs import THUMB_W

# Wan2.6 takes no reference images: a (with a cast) starts from its board; b has no board
CAST = """
title: Contact
model: alibaba:wan@2.6
size: 1280x720
image_model: bfl:6@1
defaults: {duration: 5}
cast:
  wren: {description: "Wren, a weathered woman of seventy in a navy wool jumper"}
scenes:
  - {id: a, cast: [wren], prompt: "{{ cast.wren }} lays her hand on the lens"}
  - {id: b, prompt: "The sea at dawn"}
output: {fps: 10}
"""
BACKGROUND = (24, 24, 28)


def cell(sheet: Image.Image, row: int, col: int) -> Image.Image:
    """The thumbnail cell at (row, col): col 0 is the board, 1 and 2 the clip's frames."""
    pad, label_w, head = 12, 230, 36 + 20
    thumb_h = round(THUMB_W * 720 / 1280)
    x = label_w + 2 * pad + col * (THUMB_W + pad)
    y = head + pad + row * (thumb_h + pad)
    return sheet.crop((x + 4, y + 4, x + THUMB_W - 4, y + thumb_h - 4))


def colors(im: Image.Image) -> set[tuple[int, ...]]:
    return {c for _, c in im.getcolors(1 << 20) or []}  # type: ignore[misc]


def test_the_contact_sheet_has_each_board_beside_its_clip(tmp_path: Path) -> None:
    p = write_project(tmp_path / "p", CAST)
    argv = ["render", str(p), "--draft", "--quiet", "--emulator-latency", "0.05"]
    assert main(argv) == 0
    with Image.open(p / "build" / "contact-sheet.png") as im:
        sheet = im.convert("RGB")
    pad, label_w = 12, 230
    assert sheet.width == label_w + 3 * THUMB_W + 5 * pad  # board, first frame, last frame
    board = Image.open(p / "build/takes/board/a/take-1.png").convert("RGB")
    fitted = board.resize((THUMB_W, round(THUMB_W * board.height / board.width)))
    got = cell(sheet, 0, 0)
    # the board's own picture is in a's board cell (compare a patch of its middle)
    want = fitted.crop((4, 4, fitted.width - 4, fitted.height - 4))
    diff = [
        abs(a - b)
        for pa, pb in zip(got.getdata(), want.resize(got.size).getdata(), strict=True)
        for a, b in zip(pa, pb, strict=True)
    ]
    assert sum(diff) / len(diff) < 12
    assert len(colors(cell(sheet, 0, 1))) > 20  # the clip's frames are beside it
    empty = cell(sheet, 1, 0)  # b has no board: its cell is (almost) all background
    assert list(empty.getdata()).count(BACKGROUND) > 0.9 * empty.width * empty.height


def test_a_film_without_boards_keeps_its_two_columns(tmp_path: Path) -> None:
    p = write_project(tmp_path / "p", CAST.replace("cast: [wren], ", ""))
    argv = ["render", str(p), "--draft", "--quiet", "--emulator-latency", "0.05"]
    assert main(argv) == 0
    with Image.open(p / "build" / "contact-sheet.png") as im:
        assert im.width == 230 + 2 * THUMB_W + 4 * 12
