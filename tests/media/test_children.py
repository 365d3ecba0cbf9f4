"""ffmpeg children die with the process that started them; a file-size limit reads clearly."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")


@linux_only
def test_ffmpeg_dies_when_its_parent_is_killed(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import subprocess, sys
        from storyboard.media.ffmpeg import ffmpeg_exe, spawn
        p = spawn(
            [ffmpeg_exe(), "-nostdin", "-re", "-f", "lavfi", "-i", "nullsrc", "-f", "null", "-"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        print(p.pid, flush=True)
        sys.stdin.read()  # wait to be killed
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    pid = int(parent.stdout.readline())
    watch = os.pidfd_open(pid)  # held before the kill, so a reused pid cannot fool us
    try:
        parent.kill()
        parent.wait()
        ready, _, _ = select.select([watch], [], [], 20)
        assert ready == [watch], "ffmpeg outlived the process that started it"
    finally:
        if not select.select([watch], [], [], 0)[0]:
            signal.pidfd_send_signal(watch, signal.SIGKILL)
        os.close(watch)
        if parent.stdin:
            parent.stdin.close()
