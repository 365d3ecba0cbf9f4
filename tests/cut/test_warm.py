"""The cut's modules load while a render waits on the service (issue 19: the compose after a
prompt edit no longer pays for importing numpy, Pillow and itself)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import write_project

import storyboard
from storyboard.cut import warm
from storyboard.emulator import Emulator, EmulatorConfig

ONE = """
title: One
defaults: {duration: 4}
output: {size: 320x180, fps: 10}
scenes:
  - {id: harbour, prompt: "A harbour at dawn."}
"""


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(latency=0.1, draft=True)) as e:
        yield e


def test_warm_cut_loads_what_a_compose_imports_once() -> None:
    code = (
        "import sys\n"
        "from storyboard.cut import warm\n"
        "assert 'numpy' not in sys.modules and 'storyboard.cut.compose' not in sys.modules\n"
        "t = warm.warm_cut()\n"
        "assert warm.warm_cut() is t\n"
        "t.join(60)\n"
        "missing = [m for m in warm.MODULES if m not in sys.modules]\n"
        "assert not missing, missing\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_a_render_with_work_for_the_service_warms_the_cut_and_a_cached_one_does_not(
    tmp_path: Path, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    monkeypatch.setattr(warm, "warm_cut", lambda: calls.append(1))
    project = storyboard.load(
        write_project(tmp_path / "one", ONE), api_key="k", base_url=emu.base_url
    )
    assert project.render().ok and calls == [1]
    assert project.render().ok and calls == [1]  # nothing to send: no thread started


def test_a_module_that_fails_to_load_stops_the_warm_up_quietly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(warm, "MODULES", ("storyboard.no_such_module", "json"))
    warm._load()  # the compose's own import says what is wrong, where it is used
    assert capsys.readouterr() == ("", "")


def test_a_process_that_ends_while_the_modules_load_ends_cleanly() -> None:
    code = "from storyboard.cut import warm\nwarm.warm_cut()\n"  # and at once the end
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
        )
        assert (out.returncode, out.stderr) == (0, "")


def test_an_interrupted_render_does_not_wait_for_the_warm_up_at_exit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stuck = threading.Event()
    slow = threading.Thread(target=stuck.wait, daemon=True)  # an import that takes forever
    slow.start()
    monkeypatch.setattr(warm, "_abandoned", threading.Event())
    t0 = time.monotonic()
    warm._join_at_exit(slow)  # a plain exit waits, a while
    assert warm.EXIT_WAIT - 0.1 < time.monotonic() - t0 < warm.EXIT_WAIT + 1
    warm.abandon()
    t0 = time.monotonic()
    warm._join_at_exit(slow)  # after a Ctrl-C: not at all
    assert time.monotonic() - t0 < 0.2
    stuck.set()


def test_a_render_stopped_while_the_service_works_abandons_the_warm_up(
    tmp_path: Path, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(warm, "warm_cut", lambda: calls.append("warm"))
    monkeypatch.setattr(warm, "abandon", lambda: calls.append("abandon"))

    async def stopped(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("storyboard.api.rendering.render", stopped)
    project = storyboard.load(
        write_project(tmp_path / "one", ONE), api_key="k", base_url=emu.base_url
    )
    with pytest.raises(KeyboardInterrupt):
        project.render()
    assert calls == ["warm", "abandon"]
