"""`storyboard models --can` is named after what a scene may use (hostile F12): `--can
last_frame` lists the models for `continuity: last_frame` (the continuity column says so),
`--can end_frame` those that take a scene's `end_frame`; the old names still work, with a note."""

from __future__ import annotations

import pytest

from storyboard.board.models import PROFILES
from storyboard.board.modeltable import select
from storyboard.cli.main import main


@pytest.mark.parametrize("mode", ["extend", "last_frame", "end_frame"])
def test_a_filter_is_the_continuity_column(mode: str) -> None:
    found = {p.air for p in select([mode])}
    assert found and found == {p.air for p in PROFILES.values() if mode in p.continuity}


def test_last_frame_finds_the_models_the_table_lists_with_last_frame(capsys) -> None:
    assert main(["models", "--can", "last_frame", "--max-price", "0.1", "--sort", "price"]) == 0
    out = capsys.readouterr().out
    assert "0 model(s)" not in out
    rows = [line for line in out.splitlines() if line.startswith(("| `", "`")) or ":" in line]
    assert rows


@pytest.mark.parametrize(
    ("old", "new"), [("first-frame", "last_frame"), ("last-frame", "end_frame")]
)
def test_the_old_names_still_work_and_say_the_new_one(old: str, new: str, capsys) -> None:
    assert main(["models", "--can", old]) == 0
    cap = capsys.readouterr()
    assert main(["models", "--can", new]) == 0
    assert capsys.readouterr().out == cap.out  # the same models
    assert f"--can {old} is now --can {new}" in cap.err
