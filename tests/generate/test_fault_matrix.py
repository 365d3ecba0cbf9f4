"""The headline promise under faults: every node is charged exactly once.

For each kind of task x each phase of a render x each fault: render with the fault, then
render again with the fault gone. Each cell first proves from the emulator's own wire log
(``GET /_emulator/faults``) that its fault struck, and in the phase it names, then checks the
outcome: the first render's result and printed notes (pinned), then, after the second render,
the emulator's ledger shows each node charged exactly once and every take in
``storyboard.lock`` is byte for byte what the emulator served (its own sha256, not the client's).

Faults, as they happen on the wire:

- ``5xx-storm``: HTTP 503 for every such request;
- ``dropped-connection``: the TCP connection is closed without an answer (``cut`` before the
  service processed the request, ``drop`` after it; ``truncate``: half a download, then closed);
- ``timeout``: the answer comes later than the client waits.

Phases: ``submit`` (before the service processed the task: nothing accepted), ``accepted`` (the
service accepted and charged the task, then the answer was lost once: the retry meets
``conflictTaskUUID``), ``accepted-always`` (the answer is lost on every retry too),
``processing`` (polls), ``downloading``, and ``composing`` (process faults only: compose sends
no request).

Adding a kind of task (image, audio): add a :class:`Kind` to ``KINDS`` (its submit taskType, a
two-node project whose second node waits for the first, how a ledger prompt names its node);
every phase x fault then runs for it. See /work/notes/coord.md (issue 21).
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from helpers import REPO, write_project
from render_driver import Notes, lib_render

from storyboard.cli.main import main
from storyboard.emulator import Emulator, EmulatorConfig, Fault

HTTP_TIMEOUT = 0.3  # the client gives up on a silent request after this (in-process cells)
# seconds a request is held so a process fault lands in its phase: a signal is sent, and a
# warmed-up second render is at the project's lock (see WARM_THEN_AS_FROM_A_TERMINAL), within
# a few hundredths of a second of the hold starting
HOLD = 1.0


# the note a render prints when it makes the video kind's b (from a's last frame: a draft clip,
# conformed: scaled, not cropped, as 320x180 has the film's shape)
LAST_FRAME_NOTE = "b: last frame of a is 320x180; scaled to 1280x720 (no crop)"


@dataclass(frozen=True)
class Kind:
    """One kind of task under the matrix."""

    submit: str  # the taskType of its submission (what the emulator's faults match)
    storyboard: str  # two nodes, ``a`` and ``b``; ``b`` waits for ``a``
    film: str  # the composed film, relative to the project
    nodes: tuple[str, str] = ("a", "b")  # a's and b's names (in the lock and the render)
    note: str | None = LAST_FRAME_NOTE  # what a render that makes b prints (None: nothing)
    boards: bool = False  # rendered as `render --boards` (sheets and boards; the animatic)
    result: str = "clip"  # what a task delivers (the words of a failed download)
    hold: float = HOLD  # seconds a request is held so a process fault lands in its phase

    def node_of(self, prompt: str) -> str:
        """The node a ledger entry's prompt belongs to (``Node A: ...`` -> ``a``)."""
        return prompt.split(":")[0].split()[-1].lower()

    def name(self, letter: str) -> str:
        """The task named ``a`` or ``b`` in this file, as the lock and the render name it."""
        return self.nodes["ab".index(letter)]

    def names(self, outcomes: dict[str, str]) -> dict[str, str]:
        return {self.name(x): v for x, v in outcomes.items()}


@dataclass(frozen=True)
class SheetAndBoard(Kind):
    """Image tasks (issue 17): a cast member's reference sheet (a) and the board of a scene
    with that member (b), which is sent the sheet as a reference."""

    def node_of(self, prompt: str) -> str:
        return "a" if prompt.startswith("Reference sheet:") else super().node_of(prompt)


KINDS = {
    "video": Kind(
        submit="videoInference",
        storyboard="""
title: Matrix
defaults: {duration: 4}
scenes:
  - {id: a, prompt: "Scene A: a kite in the wind."}
  - {id: b, prompt: "Scene B: the kite lands.", continuity: last_frame}
""",
        film="build/matrix.mp4",
    ),
    "image": SheetAndBoard(
        submit="imageInference",
        storyboard="""
title: Matrix
model: alibaba:wan@2.6
image_model: bfl:6@1
size: 1920x1080
defaults: {duration: 5}
output: {fps: 30, size: 640x360}  # the animatic: 15 s, small (a compose long enough to land in)
cast:
  kite: {description: "a red kite with a long tail"}
scenes:
  - {id: b, cast: [kite], prompt: "Scene B: the kite lands.", duration: 15}
""",
        film="build/matrix.animatic.mp4",
        nodes=("cast:kite", "board:b"),
        note=None,  # a reference is sent as it is: nothing conformed, nothing to say
        boards=True,
        result="image",
    ),
}


@dataclass(frozen=True)
class Phase:
    task_type: str | None  # None: the kind's submit taskType
    after: bool  # the fault strikes after the service processed the request
    once: bool  # the fault strikes once (the retry gets through), else every time


PHASES = {
    "submit": Phase(None, after=False, once=False),
    "accepted": Phase(None, after=True, once=True),
    "accepted-always": Phase(None, after=True, once=False),
    "processing": Phase("getResponse", after=False, once=False),
    "downloading": Phase("download", after=False, once=False),
}
FAULTS = ["5xx-storm", "dropped-connection", "timeout"]


def task_type(kind: Kind, phase: str) -> str:
    return PHASES[phase].task_type or kind.submit


def network_fault(kind: Kind, phase: str, fault: str) -> Fault:
    ph = PHASES[phase]
    tt = task_type(kind, phase)
    times = 1 if ph.once else None
    if fault == "5xx-storm":
        return Fault("status", task_type=tt, status=503, times=times, after=ph.after)
    if fault == "timeout":
        return Fault("latency", task_type=tt, delay=HTTP_TIMEOUT * 3, times=times, after=ph.after)
    if tt == "download":  # the connection is cut mid-body
        return Fault("truncate", task_type=tt, times=times)
    return Fault("drop" if ph.after else "cut", task_type=tt, times=times)


# What the first render (with the fault) ends with, per scene, and the notes it prints.
# A storm or a cut before the service saw the task: scene a fails, b never starts. A lost
# answer once: the retry meets conflictTaskUUID, the render completes. Lost every time: a is
# charged but its render cannot confirm it (the next render collects it). Faults on polls or
# downloads: a is charged and fails to arrive; b waits for a's clip.
FAILS = {"a": "failed", "b": "skipped"}
DONE = {"a": "generated", "b": "generated"}
FIRST_RENDER = {
    "submit": FAILS,
    "accepted": DONE,
    "accepted-always": FAILS,
    "processing": FAILS,
    "downloading": FAILS,
}
# how scene a's failure ends: what the user is told to do (nothing paid is lost)
SEND_AGAIN = (
    "; the task stays in the journal: render again to send it again"
    " (same taskUUID: never paid twice)"
)
FAILED_HOW = {
    "submit": SEND_AGAIN,
    "accepted-always": SEND_AGAIN,
    "processing": "; the task stays in the journal: render again to collect it (not paid again)",
    "downloading": "; the {result} is paid and kept in the journal: render again to fetch it",
}


def notes_of(kind: Kind, phase: str) -> list[str]:
    """The notes the first render prints: the kind's note when it made b (``accepted``)."""
    return [kind.note] if phase == "accepted" and kind.note else []


# which nodes the service charged during the first render
CHARGED_FIRST = {
    ("submit", "5xx-storm"): {},
    ("submit", "dropped-connection"): {},
    ("submit", "timeout"): {"a": 1},  # processed after the client gave up on each try
    ("accepted", "5xx-storm"): {"a": 1, "b": 1},
    ("accepted", "dropped-connection"): {"a": 1, "b": 1},
    ("accepted", "timeout"): {"a": 1, "b": 1},
    **{("accepted-always", f): {"a": 1} for f in FAULTS},
    **{("processing", f): {"a": 1} for f in FAULTS},
    **{("downloading", f): {"a": 1} for f in FAULTS},
}


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(latency=0.2, draft=True)) as e:
        yield e


def wire_log(emu: Emulator) -> list[dict[str, Any]]:
    return list(httpx.get(f"{emu.url}/_emulator/faults").json()["log"])


def fired(emu: Emulator) -> list[dict[str, Any]]:
    return [e for e in wire_log(emu) if e["event"] == "fault"]


def charges(emu: Emulator, kind: Kind) -> dict[str, int]:
    ledger = httpx.get(f"{emu.url}/_emulator/ledger").json()["charges"]
    out: dict[str, int] = {}
    for c in ledger:
        if not c.get("refunded"):
            node = kind.node_of(c["prompt"])
            out[node] = out.get(node, 0) + 1
    return out


def assert_paid_once_and_intact(emu: Emulator, kind: Kind, p: Path, compose: bool) -> None:
    assert charges(emu, kind) == {"a": 1, "b": 1}
    served = {e["file"]: e["sha256"] for e in wire_log(emu) if e["event"] == "served"}
    lock = yaml.safe_load((p / "storyboard.lock").read_text())["scenes"]
    assert set(lock) == set(kind.nodes)
    for entry in lock.values():
        data = (p / entry["file"]).read_bytes()
        name = urlsplit(entry["url"]).path.rsplit("/", 1)[-1]
        assert hashlib.sha256(data).hexdigest() == served[name]  # the emulator's own hash
        assert entry["sha256"] == served[name]
    if compose:
        assert (p / kind.film).is_file()


def render_again(
    emu: Emulator, kind: Kind, p: Path, monkeypatch: pytest.MonkeyPatch, compose: bool
) -> None:
    """Render (and compose) again without the fault: it completes, and prints only the note of
    a b it makes now (from a's last frame), never "paid in an earlier render"."""
    emu.faults.clear()
    lock = p / "storyboard.lock"
    b = kind.name("b")
    had_b = lock.exists() and b in (yaml.safe_load(lock.read_text()).get("scenes") or {})
    notes = Notes()
    result = lib_render(p, emu.base_url, notes=notes, boards=kind.boards)
    assert not result.failed, result.outcomes
    assert notes.notes == ([] if had_b or not kind.note else [kind.note])
    if compose:
        monkeypatch.setenv("RUNWARE_API_KEY", "test-key")
        monkeypatch.setenv("RUNWARE_BASE_URL", emu.base_url)
        # the film; for the boards, the animatic (`render --boards` cuts it, buying nothing)
        again = ["render", str(p), "--boards", "--quiet"] if kind.boards else ["compose", str(p)]
        assert main(again) == 0


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("phase", list(PHASES))
@pytest.mark.parametrize("kind", list(KINDS))
def test_network_fault(
    emu: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    phase: str,
    fault: str,
) -> None:
    k = KINDS[kind]
    p = write_project(tmp_path / "p", k.storyboard)
    injected = network_fault(k, phase, fault)
    emu.add_fault(injected)
    notes = Notes()
    result = lib_render(p, emu.base_url, timeout=HTTP_TIMEOUT, notes=notes, boards=k.boards)

    # the fault struck, and only in its phase
    hits = fired(emu)
    assert hits, "the fault never fired"
    want = {(injected.kind, task_type(k, phase), PHASES[phase].after or injected.kind == "drop")}
    assert {(e["kind"], e["task_type"], e["after"]) for e in hits} == want
    assert {k.node_of(e["prompt"]) for e in hits if e["prompt"]} <= {"a"}
    if PHASES[phase].once:
        assert len(hits) == 1
    conflicts = [e for e in wire_log(emu) if e["event"] == "conflict"]
    if phase == "accepted":  # the one retry met the service's "already have it"
        assert len(conflicts) == 1

    # the first render's outcome and what it printed
    assert {s: o.status for s, o in result.outcomes.items()} == k.names(FIRST_RENDER[phase])
    assert notes.notes == notes_of(k, phase)
    if phase in FAILED_HOW:
        how = FAILED_HOW[phase].format(result=k.result)
        assert (result.outcomes[k.name("a")].error or "").endswith(how)
    assert charges(emu, k) == CHARGED_FIRST[(phase, fault)]

    render_again(emu, k, p, monkeypatch, compose=False)
    assert_paid_once_and_intact(emu, k, p, compose=False)


# -- process faults: the render is a real process, killed or interrupted in a phase -----------


def hold(kind: Kind, phase: str) -> Fault:
    ph = PHASES[phase]
    return Fault(
        "latency", task_type=task_type(kind, phase), delay=kind.hold, times=1, after=ph.after
    )


# The render as a terminal starts it: Ctrl-C (SIGINT) at Python's default. A process started
# in the background by a non-interactive shell (`pytest ... &`, nohup-style runs) has SIGINT
# ignored, and its children inherit that; Python then leaves it ignored, so the Ctrl-C cells
# lost their Ctrl-C in every run started that way and in no other (issue 21's "race").
AS_FROM_A_TERMINAL = (
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "runpy.run_module('storyboard', run_name='__main__', alter_sys=True)"
)
# The second render of a "second-render" cell: the same command, in a process started with the
# first, that imports the modules a render loads and then waits for "go" on its stdin before
# `storyboard render` runs (anything else, the pipe closed: it exits, running nothing). Started
# cold once the first render was in its phase, it spent a second or more importing (more on a
# loaded machine) while the first had to stay busy; warm, it is at the project's lock a few
# tenths of a second after the go.
WARM_MODULES = (
    "storyboard.cli.main storyboard.cli.commands storyboard.cli.films storyboard.cli.report "
    "storyboard.board.spec storyboard.plan.compile storyboard.generate.staleness "
    "storyboard.generate.backend storyboard.generate.execute storyboard.api.project "
    "storyboard.api.rendering storyboard.cut.compose storyboard.cut.animatic httpx"
)
WARM_THEN_AS_FROM_A_TERMINAL = (
    "import importlib, os, sys; os.environ.setdefault('PYDANTIC_DISABLE_PLUGINS', '__all__'); "
    f"[importlib.import_module(m) for m in {WARM_MODULES!r}.split()]; "
    "sys.stdin.readline() == 'go\\n' or sys.exit(3); " + AS_FROM_A_TERMINAL
)


def cli(
    p: Path, emu: Emulator, compose: bool, kind: Kind, warm: bool = False
) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "RUNWARE_API_KEY": "test-key",
        "RUNWARE_BASE_URL": emu.base_url,
        "PYTHONPATH": str(REPO),
    }
    argv = ["render", str(p), "--quiet", *([] if compose else ["--no-compose"])]
    argv += ["--boards"] if kind.boards else []
    return subprocess.Popen(
        [sys.executable, "-c", WARM_THEN_AS_FROM_A_TERMINAL if warm else AS_FROM_A_TERMINAL, *argv],
        env=env,
        stdin=subprocess.PIPE if warm else None,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def compose_folders(p: Path, pid: int) -> list[Path]:
    return sorted((p / "build").glob(f".compose-{pid}-*"))


def wait_for_phase(emu: Emulator, p: Path, phase: str, proc: subprocess.Popen[str]) -> float:
    """Wait until the render is in ``phase``; returns when it got there (monotonic)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if phase == "composing":
            if compose_folders(p, proc.pid):  # compose made its working folder
                return time.monotonic()
        else:
            hits = emu.faults.log()
            if hits:
                return float(hits[0]["at"])
        time.sleep(0.005)
    raise AssertionError(f"the render never reached {phase}: {proc.poll()}")


@pytest.mark.parametrize("fault", ["SIGKILL", "SIGINT", "second-render"])
@pytest.mark.parametrize("phase", ["submit", "accepted", "processing", "downloading", "composing"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_process_fault(
    emu: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    phase: str,
    fault: str,
) -> None:
    k = KINDS[kind]
    p = write_project(tmp_path / "p", k.storyboard)
    compose = phase == "composing"
    if not compose:
        emu.add_fault(hold(k, phase))
    first = cli(p, emu, compose, k)
    # a second render's process, warmed up while the first gets to its phase (it runs on "go")
    second = cli(p, emu, compose, k, warm=True) if fault == "second-render" else None
    try:
        reached = wait_for_phase(emu, p, phase, first)
        if not compose:  # the held request is the one this phase names
            (hit,) = fired(emu)
            assert (hit["kind"], hit["task_type"], hit["after"]) == (
                "latency",
                task_type(k, phase),
                PHASES[phase].after,
            )
    except BaseException:
        if second is not None:
            second.kill()
            second.communicate()
        raise
    if second is not None:
        assert second.poll() is None, second.communicate()  # still waiting for its go
        out, err = second.communicate("go\n", timeout=120)
        assert second.returncode == 0, err
        first.communicate(timeout=120)
        assert first.returncode == 0
        # it waited for the first (which held the project), then found nothing to buy
        doing = "compose" if compose else "render"
        assert f"another {doing} of this project is running (pid {first.pid}); waiting" in err
    else:
        first.send_signal(signal.SIGKILL if fault == "SIGKILL" else signal.SIGINT)
        sent = time.monotonic()
        _, err = first.communicate(timeout=60)
        if compose:  # it stopped composing: no film, and (killed) its working folder is left
            assert not (p / k.film).exists()
            if fault == "SIGKILL":
                assert compose_folders(p, first.pid)
        else:  # the signal came while the request of this phase was still held
            assert sent - reached < k.hold
        if fault == "SIGKILL":
            assert first.returncode == -signal.SIGKILL
        else:
            # Ctrl-C stops the render (never lost, whatever request is held) and says how to
            # resume; what is paid stays paid once (checked below)
            assert first.returncode == 130, err
            assert "interrupted: finished takes are kept" in err  # sheets, boards, sounds too
            assert "Traceback" not in err
    assert all(n == 1 for n in charges(emu, k).values())
    render_again(emu, k, p, monkeypatch, compose)
    assert_paid_once_and_intact(emu, k, p, compose)
