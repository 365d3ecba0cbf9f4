"""`render --draft` with RUNWARE_API_KEY set (hostile F10): the endpoint makes what it makes, so
the render says in one line that --draft has no effect there, unless the endpoint is a
standalone emulator started with --draft (then its takes are draft takes: honoured)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_project

from storyboard.cli.main import main
from storyboard.emulator import Emulator, EmulatorConfig

BOARD = "title: T\nmodel: google:3@3\nscenes:\n  - {id: a, prompt: A kite at sea., duration: 4}\n"
NOTE = "--draft has no effect"


@pytest.mark.parametrize("endpoint_draft", [False, True])
def test_draft_through_an_endpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, endpoint_draft: bool
) -> None:
    with Emulator(EmulatorConfig(latency=0.05, draft=endpoint_draft)) as emu:
        monkeypatch.setenv("RUNWARE_API_KEY", "x")
        url = emu.base_url
        monkeypatch.setenv("RUNWARE_BASE_URL", url)
        p = write_project(tmp_path / "p", BOARD)
        assert main(["render", str(p), "--draft", "--no-compose", "--quiet"]) == 0
    err = capsys.readouterr().err
    notes = [line for line in err.splitlines() if NOTE in line]
    if endpoint_draft:
        assert notes == [], err
    else:
        assert len(notes) == 1 and url in notes[0], err
        assert "storyboard emulator --draft" in notes[0]
