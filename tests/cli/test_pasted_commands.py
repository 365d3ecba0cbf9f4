"""Commands the tool tells the user to run can be pasted into a shell, for a folder whose name
has a space or starts with a dash (hostile helper-62)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from helpers import write_project

from storyboard.cli.main import main

BOARD = """
title: T
model: google:3@3
scenes:
  - {id: a, duration: 4, prompt: a red kite}
"""


def suggested(text: str, verb: str) -> list[str]:
    """The argv of the `storyboard VERB ...` command a message suggests, as a shell splits it."""
    start = text.index(f"storyboard {verb} ")
    cmd = text[start:].splitlines()[0].split("`")[0].rstrip(" .")
    return shlex.split(cmd)


@pytest.mark.parametrize("name", ["my film", "-dash"])
def test_init_names_the_next_command_so_that_it_can_be_pasted(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`storyboard init "my film"` says `next: storyboard plan /tmp/.../my film`: pasted into
    a shell, that is `plan /tmp/.../my` with a stray `film` (argparse: unrecognized argument);
    `storyboard init -- -dash` says `next: storyboard plan -dash`, which argparse takes for an
    option ('the following arguments are required: project')."""
    monkeypatch.chdir(tmp_path)
    assert main(["init", "--", name]) == 0
    argv = suggested(capsys.readouterr().err, "plan")
    try:
        code = main(argv[1:])
    except SystemExit as e:  # argparse's refusal
        code = e.code
    assert code == 0, (argv, capsys.readouterr().err[-400:])


def test_the_render_advice_before_any_take_can_be_pasted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = write_project(tmp_path / "my film", BOARD)
    assert main(["export", str(p), "--format", "otio"]) != 0
    argv = suggested(capsys.readouterr().err, "render")
    assert argv == ["storyboard", "render", str(p)], argv
