from __future__ import annotations

from pathlib import Path

import pytest


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker more than the CPUs this process may use. Many tests wait on a
    browser, a watcher's quiet time, a Ray start or the emulator's latency; the spare worker
    fills those waits. Measured on the 2-core machine, the same suite one after the other:
    3 workers 6 min 49 s, 2 workers 7 min 57 s (about the same CPU time). The environment
    variable ``PYTEST_XDIST_AUTO_NUM_WORKERS`` still sets the number, as it does in xdist."""
    import os

    from storyboard.cut.machine import usable_cpus  # affinity, then the cgroup's quota

    given = os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS")
    if given and given.isdigit():
        return int(given)
    return usable_cpus() + 1


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
