"""Ctrl-C ends `render --watch` in its own words, without a Python name (hostile finding H17:
it printed watchfiles' `KeyboardInterrupt caught, stopping watch`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from helpers import write_project

AS_FROM_A_TERMINAL = (
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "runpy.run_module('storyboard', run_name='__main__', alter_sys=True)"
)
ONE = """
title: Watch
defaults: {duration: 4}
output: {size: 320x180, fps: 10}
scenes:
  - {id: a, prompt: "A harbour at dawn, gulls circling."}
"""


def test_ctrl_c_stops_the_watch_in_its_own_words(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", ONE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNWARE_")}
    proc = subprocess.Popen(
        [sys.executable, "-c", AS_FROM_A_TERMINAL, "render", str(root), "--watch", "--draft"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = ""
    deadline = time.monotonic() + 120
    assert proc.stderr is not None
    while "watching for changes" not in seen and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen += line
    assert "watching for changes" in seen, seen
    time.sleep(0.5)  # inside watchfiles' wait
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    said = seen + err
    assert "KeyboardInterrupt" not in said and "Traceback" not in said, said
