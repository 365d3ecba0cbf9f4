"""The headline promise under faults: every scene is charged exactly once.

For each phase of a render x each fault: render with the fault, then render again with the
fault gone. The emulator's ledger (``GET /_emulator/ledger``) must show each scene charged
once, and every take in ``storyboard.lock`` must match its sha256.

Network faults cannot happen while composing (compose sends no request), so the composing
phase is crossed with the process faults only.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from helpers import REPO, write_project
from render_driver import lib_render

from storyboard.cli.main import main
from storyboard.emulator import Emulator, EmulatorConfig, Fault

TWO = """
title: Matrix
defaults: {duration: 4}
scenes:
  - {id: a, prompt: "Scene A: a kite in the wind."}
  - {id: b, prompt: "Scene B: the kite lands.", continuity: last_frame}
"""
HTTP_TIMEOUT = 0.3  # the client gives up on a silent request after this (in-process cells)
HOLD = 1.5  # seconds a request is held so a process fault lands in its phase

# where a fault strikes: (task_type, after): before the service processed the request or after
PHASES = {
    "submit": ("videoInference", False),
    "accepted": ("videoInference", True),
    "processing": ("getResponse", False),
    "downloading": ("download", False),
}


def network_fault(phase: str, fault: str) -> Fault:
    task_type, after = PHASES[phase]
    if fault == "5xx-storm":
        return Fault("status", task_type=task_type, status=503, times=None, after=after)
    if fault == "timeout":
        return Fault(
            "latency", task_type=task_type, delay=HTTP_TIMEOUT * 3, times=None, after=after
        )
    if task_type == "download":  # a connection dropped mid-body
        return Fault("truncate", task_type="download", times=None)
    if not after:  # dropped before the server read the task: nothing was processed
        return Fault("status", task_type=task_type, status=502, times=None)
    return Fault("drop", task_type=task_type, times=None)


def hold(phase: str) -> Fault | None:
    if phase == "composing":
        return None
    task_type, after = PHASES[phase]
    return Fault("latency", task_type=task_type, delay=HOLD, times=1, after=after)


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(latency=0.2, draft=True)) as e:
        yield e


def charges(emu: Emulator) -> dict[str, int]:
    ledger = httpx.get(f"{emu.url}/_emulator/ledger").json()["charges"]
    out: dict[str, int] = {}
    for c in ledger:
        if not c.get("refunded"):
            scene = c["prompt"].split(":")[0][-1].lower()
            out[scene] = out.get(scene, 0) + 1
    return out


def assert_paid_once_and_intact(emu: Emulator, p: Path, compose: bool) -> None:
    assert charges(emu) == {"a": 1, "b": 1}
    lock = yaml.safe_load((p / "storyboard.lock").read_text())["scenes"]
    assert set(lock) == {"a", "b"}
    for entry in lock.values():
        data = (p / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    if compose:
        assert (p / "build" / "matrix.mp4").is_file()


def render_again(emu: Emulator, p: Path, monkeypatch: pytest.MonkeyPatch, compose: bool) -> None:
    emu.faults.clear()
    monkeypatch.setenv("RUNWARE_API_KEY", "test-key")
    monkeypatch.setenv("RUNWARE_BASE_URL", emu.base_url)
    argv = ["render", str(p), "--quiet", *([] if compose else ["--no-compose"])]
    assert main(argv) == 0


@pytest.mark.parametrize("fault", ["5xx-storm", "dropped-connection", "timeout"])
@pytest.mark.parametrize("phase", list(PHASES))
def test_network_fault(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, phase: str, fault: str
) -> None:
    p = write_project(tmp_path / "p", TWO)
    emu.add_fault(network_fault(phase, fault))
    lib_render(p, emu.base_url, timeout=HTTP_TIMEOUT)
    assert all(n == 1 for n in charges(emu).values())  # never twice, even under the fault
    render_again(emu, p, monkeypatch, compose=False)
    assert_paid_once_and_intact(emu, p, compose=False)


def cli(p: Path, emu: Emulator, compose: bool) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "RUNWARE_API_KEY": "test-key",
        "RUNWARE_BASE_URL": emu.base_url,
        "PYTHONPATH": str(REPO),
    }
    argv = ["render", str(p), "--quiet", *([] if compose else ["--no-compose"])]
    return subprocess.Popen(
        [sys.executable, "-m", "storyboard", *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_phase(emu: Emulator, p: Path, phase: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if phase == "composing":
            if (p / "storyboard.lock").exists():
                return
        elif emu.faults.fired():
            return
        time.sleep(0.01)
    raise AssertionError(f"the render never reached {phase}: {proc.poll()}")


@pytest.mark.parametrize("fault", ["SIGKILL", "SIGINT", "second-render"])
@pytest.mark.parametrize("phase", [*PHASES, "composing"])
def test_process_fault(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, phase: str, fault: str
) -> None:
    p = write_project(tmp_path / "p", TWO)
    compose = phase == "composing"
    held = hold(phase)
    if held is not None:
        emu.add_fault(held)
    first = cli(p, emu, compose)
    wait_for_phase(emu, p, phase, first)
    if fault == "second-render":
        second = cli(p, emu, compose)
        out, err = second.communicate(timeout=120)
        assert second.returncode == 0, err
        first.communicate(timeout=120)
        assert first.returncode == 0
        if phase != "composing":  # it waited for the first, then found nothing to buy
            assert f"another render of this project is running (pid {first.pid}); waiting" in err
    else:
        first.send_signal(signal.SIGKILL if fault == "SIGKILL" else signal.SIGINT)
        first.communicate(timeout=60)
    assert all(n == 1 for n in charges(emu).values())
    render_again(emu, p, monkeypatch, compose)
    assert_paid_once_and_intact(emu, p, compose)
