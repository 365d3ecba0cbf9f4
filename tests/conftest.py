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
    """The API's renders (``Project.render`` / ``render_async``, and so the review page's) get
    ``emulator_latency=0.05`` by default instead of 1 s: without a key, the emulator they start
    answers in 0.05 s; with a key and a quick emulator on loopback (the modules that use this
    start theirs at 0.05 s or so), the client polls as for one that quick, where at 1 s it
    waited 0.5 s before its first poll of each task (a sheet -> board -> clip chain, three
    times). Only for speed: what is sent, charged and kept does not depend on it."""
    from storyboard.api.project import Project

    for method in (Project.render, Project.render_async):
        monkeypatch.setitem(method.__kwdefaults__, "emulator_latency", 0.05)
