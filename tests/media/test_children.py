"""ffmpeg children die with the process that started them; a file-size limit reads clearly."""

from __future__ import annotations

import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import ctrl_c_as_in_a_terminal

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")


def setpriv_launcher() -> tuple[str, ...]:
    """The launcher children start through, or the test skipped where there is none."""
    from storyboard.media.ffmpeg import _launcher

    launcher = _launcher()
    if launcher is None:
        pytest.skip("setpriv (util-linux) is not on this machine: children use preexec_fn")
    return launcher


@linux_only
@pytest.mark.parametrize("arming", ["setpriv", "preexec_fn"])
def test_ffmpeg_dies_when_its_parent_is_killed(tmp_path: Path, arming: str) -> None:
    if arming == "setpriv":
        setpriv_launcher()
    script = textwrap.dedent(
        """
        import subprocess, sys
        import storyboard.media.ffmpeg as ff
        from storyboard.media.ffmpeg import ffmpeg_exe, spawn
        if sys.argv[1] == "preexec_fn":
            ff._launcher = lambda: None
        else:  # an executable's first start is Popen's own; the launcher starts it after
            ff.run_child([ffmpeg_exe(), "-version"], timeout=60)
            assert ff._identity(ffmpeg_exe()) in ff._runnable
        p = spawn(
            [ffmpeg_exe(), "-nostdin", "-re", "-f", "lavfi", "-i", "nullsrc", "-f", "null", "-"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        print(p.pid, flush=True)
        sys.stdin.read()  # wait to be killed
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script, arming],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
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


@linux_only
def test_a_child_whose_parent_died_before_it_armed_its_signal_runs_nothing(
    tmp_path: Path,
) -> None:
    """The parent can die between the fork and ``setpriv``'s prctl; the signal armed then never
    comes, so the guard checks the parent is still the one that spawned it."""
    launcher = setpriv_launcher()
    marker = tmp_path / "ran"
    touch = ["/bin/sh", "-c", f"echo ran > {marker}"]
    gone = subprocess.run([*launcher, "1", *touch], timeout=10, check=False)  # "spawned by init"
    assert gone.returncode != 0 and not marker.exists()
    alive = subprocess.run([*launcher, str(os.getpid()), *touch], timeout=10, check=False)
    assert alive.returncode == 0 and marker.read_text() == "ran\n"


@linux_only
@pytest.mark.parametrize("kind", ["not executable", "a folder", "another machine's", "no #!"])
def test_an_executable_that_cannot_run_fails_as_popen_says(tmp_path: Path, kind: str) -> None:
    """hostile helper-51: started through the launcher's ``sh -c 'exec "$@"'``, an ffmpeg that
    exists but cannot run was "No such file or directory" (no x bit, a folder), or no OSError
    at all but the shell's exit 126 (another machine's binary), or run as a shell script (a text
    file without ``#!``). Each fails as Popen says it, every time it is started."""
    from storyboard.media.ffmpeg import spawn

    exe = tmp_path / "ffmpeg"
    marker = tmp_path / "ran"
    if kind == "a folder":
        exe.mkdir()
    elif kind == "not executable":
        exe.write_text("#!/bin/sh\necho hi\n")
        exe.chmod(0o644)
    elif kind == "another machine's":
        elf = bytearray(Path(shutil.which("true") or "/bin/true").read_bytes())
        elf[18:20] = b"\x02\x00"  # e_machine: SPARC
        exe.write_bytes(bytes(elf))
        exe.chmod(0o755)
    else:
        exe.write_text(f"touch {marker}\n")
        exe.chmod(0o755)
    with pytest.raises(OSError) as plain:
        subprocess.Popen([str(exe)])
    for _ in range(2):
        with pytest.raises(OSError) as ours:
            spawn([str(exe)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert (type(ours.value), ours.value.errno) == (type(plain.value), plain.value.errno)
    assert not marker.exists()


@linux_only
def test_an_executable_is_started_by_popen_once_then_by_the_launcher(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The launcher starts only what Popen has run; a changed file (a chmod) is Popen's again."""
    import storyboard.media.ffmpeg as ff

    launcher = setpriv_launcher()
    exe = tmp_path / "true"
    shutil.copy(shutil.which("true") or "/bin/true", exe)
    started: list[str] = []
    popen = subprocess.Popen

    def recording(args: list[str], **kw: object) -> subprocess.Popen[bytes]:
        started.append(args[0])
        return popen(args, **kw)  # type: ignore[call-overload,no-any-return]

    monkeypatch.setattr(ff.subprocess, "Popen", recording)
    assert ff.run_child([str(exe)], timeout=10).returncode == 0
    assert ff.run_child([str(exe)], timeout=10).returncode == 0
    assert started == [str(exe), launcher[0]]
    exe.chmod(0o644)
    with pytest.raises(PermissionError):
        ff.spawn([str(exe)])
    assert started[-1] == str(exe)


def _limited(code: str, limit: int = 64 * 1024) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh python under ``ulimit -f`` (in bytes), set up as the CLI is."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    prelude = "from storyboard.cli.main import prepare_process\nprepare_process()\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        preexec_fn=cap,
        timeout=120,
        check=False,
    )


@linux_only
def test_file_size_limit_in_python_writes_reads_clearly(tmp_path: Path) -> None:
    dest = tmp_path / "big.bin"
    proc = _limited(
        f"""
        from pathlib import Path
        from storyboard.errors import StoryboardError
        from storyboard.files import atomic_write
        try:
            atomic_write(Path({str(dest)!r}), bytes(1024 * 1024))
        except StoryboardError as e:
            print(e)
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"file size limit reached writing {dest} (ulimit -f)"
    assert not dest.exists()


@linux_only
def test_file_size_limit_in_ffmpeg_reads_clearly(tmp_path: Path) -> None:
    dest = tmp_path / "long.wav"
    proc = _limited(
        f"""
        from storyboard.errors import StoryboardError
        from storyboard.media.ffmpeg import run_ffmpeg
        try:
            run_ffmpeg(
                ["-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo", "-t", "10", {str(dest)!r}],
                what="test sound",
            )
        except StoryboardError as e:
            print(e)
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"test sound: file size limit reached writing {dest} (ulimit -f)"


def test_ctrl_c_while_composing_stops_every_child_at_once() -> None:
    """The fault matrix's composing x SIGINT cell hung past 60 s: the interrupt waited for the
    worker threads' encodes (and the whole sound) to finish. Inside ``interruptible`` a Ctrl-C
    kills the running children first, so a worker's child returns at once."""
    import os
    import signal
    import threading
    import time

    from storyboard.errors import StoryboardError
    from storyboard.media.ffmpeg import interruptible, run_child, spawn

    done: list[float] = []

    def worker() -> None:
        run_child(["sleep", "30"], timeout=60)
        done.append(time.monotonic())

    t0 = time.monotonic()
    with ctrl_c_as_in_a_terminal():
        with pytest.raises(KeyboardInterrupt), interruptible():
            th = threading.Thread(target=worker)
            th.start()
            while not any(c.args == ["sleep", "30"] for c in _live_children()):
                time.sleep(0.01)
            os.kill(os.getpid(), signal.SIGINT)
            th.join(timeout=10)  # the worker's child is killed, so it ends at once
            assert done and done[0] - t0 < 5  # killed, not waited for 30 s
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back
    # the KeyboardInterrupt comes when the work inside has unwound (never from inside
    # a fork: that left logging's at-fork lock held and hung the next fork)
    from storyboard.media import ffmpeg

    ffmpeg._stopping.set()
    try:
        with pytest.raises(StoryboardError):  # nothing new starts while stopping ...
            spawn(["true"])
    finally:
        ffmpeg._stopping.clear()
    spawn(["true"]).wait()  # ... and after it, children start again


def _live_children() -> list:
    from storyboard.media import ffmpeg

    with ffmpeg._children_lock:
        return [c for c in ffmpeg._children if c.poll() is None]
