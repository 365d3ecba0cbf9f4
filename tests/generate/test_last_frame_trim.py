"""``last_frame`` continues from the end of what the source scene shows in the cut: a source
trimmed to end at 2.5 s hands on its frame at 2.5 s, not its untrimmed last frame.

The emulator's dot swings with a 2 s period in a 4 s clip, so the frame at 2 s can look like the
last one (only the slow gradient behind it tells them apart, and how much depends on the task's
seed): 2.5 s puts the dot at the far edge of its swing, while at 4 s it is back in the middle."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from helpers import stand_in, write_project
from PIL import Image

from storyboard.cli.main import main
from storyboard.emulator import Emulator
from storyboard.media.frames import conform_image, frame_at, last_frame_png
from storyboard.media.probe import probe

# --emulator-latency: as quick as the emulator here, so the client polls a task when it can
# be done (at the default 1 s it waits 0.5 s first); only for speed
FAST = ["--emulator-latency", "0.05"]

BOARD = """
title: Trimmed
size: 1280x720
defaults: {duration: 4}
scenes:
  - {id: a, prompt: "Scene one: a harbour at dawn.", trim: {in: 0, out: %s}}
  - {id: b, prompt: "Scene two: the open sea.", continuity: last_frame}
output: {fps: 25, size: 64x36}
"""


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Any:
    with stand_in(monkeypatch) as e:
        yield e


def pixels(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as im:
        return np.asarray(im.convert("RGB").resize((64, 36)), dtype=np.float32)


def test_last_frame_is_taken_at_the_sources_trim_out(emu: Emulator, tmp_path: Path, capsys) -> None:
    p = write_project(tmp_path / "p", BOARD % "2.5")
    assert main(["render", str(p), *FAST, "--no-compose", "--quiet"]) == 0
    lk = yaml.safe_load((p / "storyboard.lock").read_text())["scenes"]
    reqs = {t.request["positivePrompt"].split(":")[0]: t.request for t in emu.tasks.values()}
    sent = pixels(emu.images[reqs["Scene two"]["inputs"]["frameImages"][0]["image"]])
    take = p / lk["a"]["file"]
    fps = probe(take).fps

    def diff(png: bytes) -> float:
        return float(np.abs(sent - pixels(conform_image(png, 1280, 720)[0])).mean())

    def peak(png: bytes) -> float:  # the dot is small: it shows in the largest pixel change
        return float(np.abs(sent - pixels(conform_image(png, 1280, 720)[0])).max())

    # the frame sent is the last one shown before 2.5 s: one of the frames just before it
    near_out = min(diff(frame_at(take, 2.5 - k / fps)) for k in (0.5, 1.5, 2.5))
    assert near_out < 0.5
    assert peak(last_frame_png(take)) > 60  # not the untrimmed clip's last frame (measured 156-219)
    # a new trim.out hands on another frame: the continuing scene is stale, not the source
    (p / "storyboard.yaml").write_text(BOARD % "3.0")
    capsys.readouterr()
    assert main(["status", str(p)]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines()[2:] if line.strip()}
    assert "stale" not in rows["a"] and "stale" in rows["b"]
