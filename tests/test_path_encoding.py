"""A project under a folder whose name is not valid UTF-8 (hostile4 P2): one clear message at
load, naming the folder, instead of a traceback from the build journal at render or status."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import write_project

from storyboard.cli.main import main

BOARD = "title: Bytes\nscenes:\n  - {id: a, prompt: A red kite., duration: 4}\n"


@pytest.mark.parametrize("command", ["render", "status", "validate"])
def test_a_folder_name_that_is_not_utf8_is_one_message(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = Path(os.fsdecode(os.fsencode(str(tmp_path)) + b"/bad\xff"))
    p = write_project(bad / "p", BOARD)
    assert main([command, str(p)]) == 1
    err = capsys.readouterr().err
    assert "not valid UTF-8" in err and "rename" in err, err
    assert "Traceback" not in err
    assert not (p / "build").exists()  # nothing written
