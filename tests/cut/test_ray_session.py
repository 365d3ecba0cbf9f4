"""A local Ray instance started by ``--on ray`` keeps its session (logs, sockets) in a folder of
its own and removes it when it stops: nothing is left in the temporary folder (hostile H4); and
it starts quietly, the tool's own line saying which Ray it used."""

from __future__ import annotations

import io
import logging
import os
import posixpath
from pathlib import Path

import pytest

from storyboard.cut.executors import RayExecutor, ray_temp_dir


def test_a_local_instance_leaves_no_session_behind(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip(
        "ray", reason="Ray is not installed (pip install -e '.[ray]'; CI installs it)"
    )
    import ray

    if ray.is_initialized():
        pytest.skip("another test's Ray instance is running in this process")
    base = Path(ray_temp_dir()).parent
    before = {p.name for p in base.glob("sb-ray-*")}
    ex = RayExecutor(num_cpus=1)
    try:
        assert ex.map(posixpath.basename, ["a/b", "c/d"]) == ["b", "d"]
        node = ray.nodes()[0]
        assert node["NodeManagerAddress"] == "127.0.0.1"  # never this machine's other addresses
        session = Path(ray._private.worker._global_node.get_session_dir_path())
        listening = _listening(str(session))
        assert listening, "no Ray server found listening"
        assert all(ip in ("127.0.0.1", "::ffff:127.0.0.1", "::1") for ip in listening), listening
        assert session.parent.name.startswith(f"sb-ray-{os.getpid()}-"), session
        started = capsys.readouterr()  # Ray's start-up: its token banner was printed every run
        said = [ln for ln in (started.out + started.err).splitlines() if ln.strip()]
        assert said == [], said
        # Ray's own handler shows its errors, not its notices. Its stream is whatever sys.stderr
        # was when Ray's logger was first set up in this process (another test's capture, in a
        # shuffled suite), so the handler is pointed at a buffer rather than read through capsys.
        handlers = [
            h for h in logging.getLogger("ray").handlers if isinstance(h, logging.StreamHandler)
        ]
        assert handlers, "Ray's logger has no handler: its errors would not show"
        # (assigned, not setStream: that flushes the old stream, which may be closed by now)
        buf = io.StringIO()
        streams = [h.stream for h in handlers]
        try:
            for h in handlers:
                h.stream = buf
            ray_log = logging.getLogger("ray._private.worker")
            ray_log.warning("a start-up notice")
            ray_log.error("a Ray error")
        finally:
            for h, stream in zip(handlers, streams, strict=True):
                h.stream = stream
        err = buf.getvalue()
        assert "a Ray error" in err and "a start-up notice" not in err  # errors still show
    finally:
        ex.close()
    assert not session.exists()
    assert {p.name for p in base.glob("sb-ray-*")} == before


def _listening(session: str) -> set[str]:
    """The addresses Ray's processes of this session listen on (GCS, raylet, workers)."""
    psutil = pytest.importorskip("psutil", reason="psutil comes with Ray")
    found: set[str] = set()
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if not any(session in c for c in proc.info["cmdline"] or []):
                continue
            for c in proc.net_connections(kind="inet"):
                if c.status == psutil.CONN_LISTEN:
                    found.add(c.laddr.ip)
        except (psutil.Error, OSError):
            continue
    return found


def test_a_workers_error_reads_as_the_local_one() -> None:
    """Ray's text of a worker's error ends in ``module.Class: message``; the message alone is
    shown, as on the local path (hostile finding H16)."""
    from storyboard.cut.executors import _plain

    text = (
        'ray::compose_job() (pid=1, ip=127.0.0.1)\n  File "x.py", line 3, in f\n'
        "storyboard.errors.StoryboardError: cannot read the clips: Error: bad\n"
    )
    assert _plain(RuntimeError(text)) == "cannot read the clips: Error: bad"
    assert _plain(RuntimeError("ComposeError: scene 'a': no take")) == "scene 'a': no take"
    assert _plain(RuntimeError("scene 'a': a plain message")) == "scene 'a': a plain message"


def test_a_killed_runs_leftover_processes_are_stopped_with_its_folder(tmp_path: Path) -> None:
    """hostile helper-45: after a `kill -9` of the driver, Ray's agents and workers of that
    session ran on (over a minute, deaf to SIGTERM); the next run removed only the folder. Now
    it stops the processes whose command line names the dead run's session folder too."""
    import subprocess
    import sys
    import time

    from storyboard.cut.executors import sweep_dead_sessions

    # psutil comes with Ray (its thirdparty_files, on the path once ray is imported)
    pytest.importorskip("ray", reason="Ray is not installed (pip install -e '.[ray]')")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    stale = tmp_path / f"sb-ray-{gone.pid}-abc"
    (stale / "session_latest").mkdir(parents=True)
    mine = tmp_path / f"sb-ray-{os.getpid()}-def"  # a live run's: kept, its processes too
    mine.mkdir()
    agent = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(300)", f"--session={stale}/session_latest"]
    )
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", str(mine)])
    try:
        for p in (agent, live):  # started: their command lines are theirs (after exec)
            while "sleep(300)" not in Path(f"/proc/{p.pid}/cmdline").read_text():
                time.sleep(0.01)
        sweep_dead_sessions(tmp_path)
        assert agent.wait(timeout=10) != 0  # stopped
        assert live.poll() is None
        assert not stale.exists() and mine.exists()
    finally:
        for p in (agent, live):
            p.kill()
            p.wait()
