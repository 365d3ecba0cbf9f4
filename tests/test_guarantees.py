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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from helpers import write_project

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
        return r.status_code < 400, r.text

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
