"""Two films of one storyboard never write the same file (hostile finding H12: a variant's
`output.file` equal to the main film's was accepted; each compose overwrote the other)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_project

from storyboard.board.spec import load_project
from storyboard.errors import SpecError

BOARD = """
title: Same
defaults: {duration: 4}
scenes:
  - {id: a, prompt: "A harbour at dawn, gulls circling."}
variants:
  v: {size: 720x1280, reframe: crop}
  w: {output: {file: build/same.mp4}, edit: {fade_in: 2}}
  x: {output: {file: build/same.webm, format: WEBM}}
"""


def test_a_variant_writing_another_films_file_is_an_error_at_its_line(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as e:
        load_project(write_project(tmp_path / "p", BOARD))
    found = [str(p) for p in e.value.problems]
    assert len(found) == 2, found
    assert any(":7: variants.w: " in p and "build/same.mp4" in p and "main" in p for p in found)
    assert any(":8: variants.x: " in p and "build/same.srt" in p for p in found), found


def test_variants_with_their_own_files_load(tmp_path: Path) -> None:
    load_project(write_project(tmp_path / "p", BOARD.split("  w:")[0]))
