"""The README's "What is guaranteed", checked at every door a command can come through.

Doors: the CLI (`render`, `compose`, `pick`), the Python API (`Project.render/compose/pick`)
and the review page's actions (`POST /api/pick`, `/api/render`). Guarantees: a take is used
only when its bytes match its sha256 (else fetched again, never bought again); every take path
stays inside ``build/takes``; one writer per project; a placeholder never reaches a real film;
a budget is checked before anything is spent.

One project is rendered and composed once per module (emulator, draft clips); each test breaks
a copy of it in one way and goes through one door.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from helpers import REPO, write_project

import storyboard
from storyboard.cli.main import main
from storyboard.emulator import Emulator, EmulatorConfig

TWO = """
title: Doors
defaults: {duration: 4}
output: {size: 320x180, fps: 10}
scenes:
  - {id: a, prompt: "Scene A: a lighthouse at dusk."}
  - {id: b, prompt: "Scene B: the beam sweeps the sea."}
"""
FILM = "build/doors.mp4"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(latency=0.05, draft=True)) as e:
        yield e


def key_env(emu: Emulator) -> dict[str, str]:
    return {"RUNWARE_API_KEY": "test-key", "RUNWARE_BASE_URL": emu.base_url}


@pytest.fixture(scope="module")
def made(emu: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project rendered and composed once (both takes in the lock, the film on disk)."""
    p = write_project(tmp_path_factory.mktemp("made") / "p", TWO)
    with mock.patch.dict(os.environ, key_env(emu)):
        assert main(["render", str(p), "--quiet"]) == 0
    assert (p / FILM).is_file()
    return p


@pytest.fixture
def project(made: Path, emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh copy of the rendered project, with the key pointed at the module's emulator."""
    for k, v in key_env(emu).items():
        monkeypatch.setenv(k, v)
    p = tmp_path / "p"
    shutil.copytree(made, p, symlinks=True)
    return p


def lock(p: Path) -> dict[str, Any]:
    return dict(yaml.safe_load((p / "storyboard.lock").read_text())["scenes"])


def charges(emu: Emulator) -> int:
    return sum(emu.charges().values())


def flip_a_byte(file: Path) -> bytes:
    """Change one byte in the middle of ``file`` (same size); returns the original bytes."""
    data = file.read_bytes()
    mid = len(data) // 2
    file.write_bytes(data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1 :])
    return data


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- the doors ---------------------------------------------------------------------------------
# Each runs one action and returns (succeeded, what it said).

Door = Callable[[Path, pytest.CaptureFixture[str]], tuple[bool, str]]


def cli(*argv: str) -> Door:
    def run(p: Path, capsys: pytest.CaptureFixture[str]) -> tuple[bool, str]:
        capsys.readouterr()
        rc = main([argv[0], str(p), *argv[1:]])
        out = capsys.readouterr()
        return rc == 0, out.out + out.err

    return run


def api(method: str, *args: Any, **kw: Any) -> Door:
    def run(p: Path, capsys: pytest.CaptureFixture[str]) -> tuple[bool, str]:
        project = storyboard.load(p)
        try:
            result = getattr(project, method)(*args, **kw)
        except storyboard.StoryboardError as e:
            return False, str(e)
        return True, repr(result)

    return run


def review(action: str, body: dict[str, Any]) -> Door:
    def run(p: Path, capsys: pytest.CaptureFixture[str]) -> tuple[bool, str]:
        from starlette.testclient import TestClient

        from storyboard.review.library import open_project
        from storyboard.review.server import build_app

        token, port = "t0ken", 8765
        app = build_app(open_project(p), token, port)
        with TestClient(app, base_url=f"http://127.0.0.1:{port}") as client:
            r = client.post(f"/api/{action}?token={token}", json=body)
            if action != "render" or r.status_code != 202:
                return r.status_code < 400, r.text
            jobs = app.state.jobs  # a render runs as the page's job: its outcome is the answer
            jobs.thread.join(timeout=120)
            return bool(jobs.last["ok"]), str(jobs.last["message"])

    return run


COMPOSE_DOORS = {
    "cli compose --force": cli("compose", "--force"),
    "api compose(force=True)": api("compose", force=True),
}


# -- take hashes -------------------------------------------------------------------------------


@pytest.mark.parametrize("door", list(COMPOSE_DOORS))
def test_compose_never_builds_a_film_from_a_take_whose_bytes_changed(
    project: Path, capsys: pytest.CaptureFixture[str], door: str
) -> None:
    take = project / lock(project)["a"]["file"]
    flip_a_byte(take)
    (project / FILM).unlink()
    ok, said = COMPOSE_DOORS[door](project, capsys)
    assert not ok
    assert (
        f"scene 'a': take 1 file {lock(project)['a']['file']} is missing or does not match its "
        f"sha256; run `storyboard render {project}` to fetch it again"
    ) in said
    assert not (project / FILM).exists()


PICK_DOORS = {
    "cli pick": cli("pick", "a", "1"),
    "api pick": api("pick", "a", 1),
    "review pick": review("pick", {"scene": "a", "take": 1}),
}


RENDER_DOORS = {
    "cli render": cli("render", "--no-compose"),
    "api render": api("render"),
    "review render": review("render", {"budget": 5.0}),
}


@pytest.mark.parametrize("door", list(RENDER_DOORS))
def test_render_fetches_a_changed_take_again_and_never_buys_it_again(
    project: Path, emu: Emulator, capsys: pytest.CaptureFixture[str], door: str
) -> None:
    entry = lock(project)["a"]
    original = flip_a_byte(project / entry["file"])
    paid = charges(emu)
    ok, said = RENDER_DOORS[door](project, capsys)
    assert ok, said
    assert charges(emu) == paid
    assert (project / entry["file"]).read_bytes() == original
    assert sha(original) == entry["sha256"] == lock(project)["a"]["sha256"]


@pytest.mark.parametrize("door", list(PICK_DOORS))
def test_picking_a_take_whose_bytes_changed_says_so(
    project: Path, capsys: pytest.CaptureFixture[str], door: str
) -> None:
    file = lock(project)["a"]["file"]
    flip_a_byte(project / file)
    ok, said = PICK_DOORS[door](project, capsys)
    assert ok, said
    assert f"take 1's file {file} is missing or does not match its sha256" in said


# -- confinement -------------------------------------------------------------------------------


def point_the_lock_outside(p: Path) -> None:
    """Edit storyboard.lock so scene a's take is the storyboard file itself."""
    data = yaml.safe_load((p / "storyboard.lock").read_text())
    data["scenes"]["a"]["file"] = "build/takes/../../storyboard.yaml"
    (p / "storyboard.lock").write_text(yaml.safe_dump(data, sort_keys=False))


EVERY_DOOR = {
    "cli render": cli("render"),
    "cli compose": cli("compose", "--force"),
    **PICK_DOORS,
    "api render": api("render"),
    "api compose": api("compose", force=True),
    "review render": review("render", {"budget": 5.0}),
}


@pytest.mark.parametrize("door", list(EVERY_DOOR))
def test_a_take_path_outside_build_takes_stops_every_door(
    project: Path, emu: Emulator, capsys: pytest.CaptureFixture[str], door: str
) -> None:
    point_the_lock_outside(project)
    before = (project / "storyboard.yaml").read_bytes()
    paid = charges(emu)
    ok, said = EVERY_DOOR[door](project, capsys)
    assert not ok, said
    assert "storyboard.lock" in said and "'a'" in said, said
    assert "outside" in said, said
    assert (project / "storyboard.yaml").read_bytes() == before
    assert charges(emu) == paid


# -- one writer --------------------------------------------------------------------------------

NO_WAIT_DOORS = {
    "cli render --no-wait": cli("render", "--no-wait"),
    "cli compose --no-wait": cli("compose", "--force", "--no-wait"),
    "cli pick --no-wait": cli("pick", "a", "1", "--no-wait"),
    "api render(wait=False)": api("render", wait=False),
    "api compose(wait=False)": api("compose", wait=False, force=True),
    "api pick(wait=False)": api("pick", "a", 1, wait=False),
}


@contextmanager
def another_writer(p: Path) -> Iterator[int]:
    """Another process holds the project's writer lock (as a render would) until the block ends."""
    code = (
        "import sys; from pathlib import Path; "
        "from storyboard.generate.writer import project_writer\n"
        "with project_writer(Path(sys.argv[1]), 'render'):\n"
        "    print('held', flush=True); sys.stdin.read()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(p)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "held\n"
        yield proc.pid
    finally:
        proc.communicate("", timeout=30)


@pytest.mark.parametrize("door", list(NO_WAIT_DOORS))
def test_a_second_writer_stops_at_once_when_told_not_to_wait(
    project: Path, emu: Emulator, capsys: pytest.CaptureFixture[str], door: str
) -> None:
    paid = charges(emu)
    film = (project / FILM).read_bytes()
    before = (project / "storyboard.lock").read_bytes()
    with another_writer(project) as pid:
        ok, said = NO_WAIT_DOORS[door](project, capsys)
    assert not ok, said
    assert f"another render of this project is running (pid {pid}); not waiting" in said, said
    assert charges(emu) == paid
    assert (project / FILM).read_bytes() == film
    assert (project / "storyboard.lock").read_bytes() == before


def test_a_render_from_the_review_page_stops_while_another_writer_holds_the_project(
    project: Path, emu: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    paid = charges(emu)
    with another_writer(project) as pid:
        ok, said = review("render", {"retake": ["a"], "budget": 5.0})(project, capsys)
    assert not ok
    assert f"another render of this project is running (pid {pid})" in said
    assert charges(emu) == paid


def test_the_review_pick_answers_busy_while_another_writer_holds_the_project(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (project / "storyboard.lock").read_bytes()
    with another_writer(project) as pid:
        ok, said = review("pick", {"scene": "a", "take": 1})(project, capsys)
    assert not ok
    assert f"another render of this project is running (pid {pid})" in said
    assert (project / "storyboard.lock").read_bytes() == before


# -- placeholders ------------------------------------------------------------------------------


REAL_KEY_DOORS = {
    "cli compose": cli("compose", "--force"),
    "api compose": api("compose", force=True),
}


@pytest.mark.parametrize("door", list(REAL_KEY_DOORS))
def test_with_a_real_key_a_placeholder_never_reaches_the_film(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, door: str
) -> None:
    monkeypatch.setenv("RUNWARE_BASE_URL", "https://api.runware.invalid/v1")
    (project / FILM).unlink()
    ok, said = REAL_KEY_DOORS[door](project, capsys)
    assert not ok, said
    assert "the cut holds placeholder takes: a (take 1, made as a --draft)" in said, said
    assert not (project / FILM).exists()


# -- budget ------------------------------------------------------------------------------------

BUDGET_DOORS = {
    "cli render --budget": cli("render", "--retake", "a", "--budget", "0.10"),
    "api render(budget=)": api("render", retake=["a"], budget=0.10),
    "review render budget": review("render", {"retake": ["a"], "budget": 0.10}),
}


@pytest.mark.parametrize("door", list(BUDGET_DOORS))
def test_a_budget_is_checked_before_anything_is_spent(
    project: Path, emu: Emulator, capsys: pytest.CaptureFixture[str], door: str
) -> None:
    paid = charges(emu)
    takes = sorted((project / "build" / "takes").rglob("*.mp4"))
    ok, said = BUDGET_DOORS[door](project, capsys)
    assert not ok, said
    assert "budget" in said.lower() and "$0.10" in said, said
    assert charges(emu) == paid
    assert sorted((project / "build" / "takes").rglob("*.mp4")) == takes
