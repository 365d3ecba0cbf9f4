"""The fault matrix for sound tasks (issue 18): every audioInference task charged exactly once.

The rows of ``test_fault_matrix.py`` with audio in place of video: for each phase of an audio
task x each network fault, render with the fault, then again without it. The emulator's
ledger must show each line, the music and the effect charged once, and every take in
``storyboard.lock`` must match its sha256. One process row kills the render while an audio
task is held by the service.
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

SOUND = """
title: Matrix
defaults: {duration: 4}
narrator: {model: xai:tts@0, voice: Eve}
scenes:
  - id: a
    prompt: "Scene A: a kite in the wind."
    narration: ["Line one is spoken."]
    sounds: [{prompt: "a kite string snaps", at: 1, duration: 1}]
edit: {music: {prompt: "a light breeze of flutes"}}
"""
AUDIO = {"Line one is spoken.", "a kite string snaps", "a light breeze of flutes"}
HTTP_TIMEOUT = 0.3
PHASES = {
    "submit": ("audioInference", False),
    "accepted": ("audioInference", True),
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
    if task_type == "download":
        return Fault("truncate", task_type="download", times=None)
    if not after:
        return Fault("status", task_type=task_type, status=502, times=None)
    return Fault("drop", task_type=task_type, times=None)


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(latency=0.2, draft=True)) as e:
        yield e


def audio_charges(emu: Emulator) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in httpx.get(f"{emu.url}/_emulator/ledger").json()["charges"]:
        if not c.get("refunded") and c.get("taskType") == "audioInference":
            out[c["prompt"]] = out.get(c["prompt"], 0) + 1
    return out


def assert_paid_once_and_intact(emu: Emulator, p: Path) -> None:
    assert audio_charges(emu) == dict.fromkeys(AUDIO, 1)
    lock = yaml.safe_load((p / "storyboard.lock").read_text())["scenes"]
    assert {"a", "line:a/1", "music", "sfx:a/1"} <= set(lock)
    for entry in lock.values():
        data = (p / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]


def render_again(emu: Emulator, p: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    emu.faults.clear()
    monkeypatch.setenv("RUNWARE_API_KEY", "test-key")
    monkeypatch.setenv("RUNWARE_BASE_URL", emu.base_url)
    assert main(["render", str(p), "--quiet", "--no-compose"]) == 0


@pytest.mark.parametrize("fault", ["5xx-storm", "dropped-connection", "timeout"])
@pytest.mark.parametrize("phase", list(PHASES))
def test_audio_network_fault(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, phase: str, fault: str
) -> None:
    p = write_project(tmp_path / "p", SOUND)
    emu.add_fault(network_fault(phase, fault))
    lib_render(p, emu.base_url, timeout=HTTP_TIMEOUT)
    assert all(n == 1 for n in audio_charges(emu).values())
    render_again(emu, p, monkeypatch)
    assert_paid_once_and_intact(emu, p)


def test_audio_task_killed_while_held(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = write_project(tmp_path / "p", SOUND)
    emu.add_fault(Fault("latency", task_type="audioInference", delay=1.5, times=1, after=True))
    env = {
        **os.environ,
        "RUNWARE_API_KEY": "k",
        "RUNWARE_BASE_URL": emu.base_url,
        "PYTHONPATH": str(REPO),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "storyboard", "render", str(p), "--quiet", "--no-compose"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not emu.faults.fired() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    render_again(emu, p, monkeypatch)
    assert_paid_once_and_intact(emu, p)
