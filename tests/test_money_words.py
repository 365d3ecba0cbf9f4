"""Money reads the same everywhere: emulator takes are ``$0 (would cost $X)`` in ``render``,
``status``, ``takes``, the review page and the API; ``takes`` gives the size of a scene sent
with a first frame."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import png_bytes, write_project

import storyboard
from storyboard.cli.main import main
from storyboard.emulator import Emulator, EmulatorConfig
from storyboard.review.library import open_project

BOARD = """
title: Money
model: openai:3@1
size: 1280x720
defaults: {duration: 4}
output: {size: 320x180, fps: 10}
scenes:
  - {id: a, prompt: "Scene one: a harbour at dawn."}
  - {id: b, prompt: "Scene two: the lamp room.", first_frame: start.png}
"""


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(latency=0.05, draft=True)) as e:
        monkeypatch.setenv("RUNWARE_API_KEY", "anything")
        monkeypatch.setenv("RUNWARE_BASE_URL", e.base_url)
        yield e


def test_emulator_money_reads_the_same_everywhere(emu: Emulator, tmp_path: Path, capsys) -> None:
    p = write_project(tmp_path / "p", BOARD, {"start.png": png_bytes(1280, 720)})
    assert main(["render", str(p), "--no-compose", "--quiet", "--draft"]) == 0
    words = "$0 (would cost $0.80)"
    assert f"spent {words}" in capsys.readouterr().out
    assert main(["status", str(p)]) == 0
    assert f"spent so far on this project: {words}" in capsys.readouterr().out
    assert main(["takes", str(p), "b"]) == 0
    out = capsys.readouterr().out
    assert "$0 (would cost $0.40)" in out
    row = out.splitlines()[2]
    assert " 1280x720 " in row and " - " not in row.split("$")[0]
    project = storyboard.load(p)
    assert project.status(draft=True).money == words
    take = project.takes("b", draft=True)[0]
    assert take.money == "$0 (would cost $0.40)" and take.size == "1280x720"
    page = open_project(p, draft=True).snapshot()
    assert page["money"] == words
    assert [t["money"] for s in page["scenes"] for t in s["takes"]] == [
        "$0 (would cost $0.40)",
        "$0 (would cost $0.40)",
    ]
