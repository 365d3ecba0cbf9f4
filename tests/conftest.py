from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in ``tmp_path`` so messages show short relative paths."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """The API's renders (``Project.render`` / ``render_async``) are told their emulator answers
    in 0.05 s (``emulator_latency``), as the quick emulators of the modules that use this do: at
    the default 1 s a render against a loopback emulator waits 0.5 s before its first poll of
    each task, and a sheet -> board -> clip chain three times. Only for speed: what is sent,
    charged and kept does not depend on when the client polls."""
    from storyboard.api.project import Project

    for method in (Project.render, Project.render_async):
        monkeypatch.setitem(method.__kwdefaults__, "emulator_latency", 0.05)
