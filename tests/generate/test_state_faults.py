"""Build state under concurrency and hostile files: picks, the lock's paths and hashes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import write_project

from storyboard.board.spec import load_project
from storyboard.cli.main import main
from storyboard.emulator import Emulator, EmulatorConfig
from storyboard.generate.backend import BackendOptions, open_client
from storyboard.generate.events import NoProgress
from storyboard.generate.execute import RenderOptions, render
from storyboard.generate.staleness import assess
from storyboard.generate.state import BuildState
from storyboard.plan.compile import compile_project

TWO = """
title: Two
defaults: {duration: 4}
scenes:
  - {id: a, prompt: "Scene A: a kite in the wind."}
  - {id: b, prompt: "Scene B: the kite lands."}
"""


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Any:
    with Emulator(EmulatorConfig(latency=0.1, draft=True)) as e:
        monkeypatch.setenv("RUNWARE_API_KEY", "test-key")
        monkeypatch.setenv("RUNWARE_BASE_URL", e.base_url)
        yield e


def lock(project: Path) -> dict[str, Any]:
    return yaml.safe_load((project / "storyboard.lock").read_text())["scenes"]


def cli_render(project: Path, *extra: str) -> int:
    return main(["render", str(project), "--no-compose", "--quiet", *extra])


def test_a_pick_made_during_a_render_is_not_reverted(emu: Emulator, tmp_path: Path) -> None:
    p = write_project(tmp_path / "p", TWO)
    assert cli_render(p) == 0
    assert cli_render(p, "--retake", "b") == 0
    assert lock(p)["b"]["take"] == 2
    plan = compile_project(load_project(p))
    state = BuildState(p)  # a library user holding state from before the pick
    assessments = assess(plan, state, ["a"])
    assert main(["pick", str(p), "b", "1"]) == 0

    async def go() -> Any:
        async with open_client(BackendOptions.from_env()) as client:
            return await render(plan, state, client, NoProgress(), RenderOptions(), assessments)

    asyncio.run(go())
    state.close()
    assert lock(p)["b"]["take"] == 1  # the pick stands
    assert lock(p)["a"]["take"] == 2  # the render's own work is written


def _hostile_lock(p: Path, scene: str, file: str) -> None:
    data = yaml.safe_load((p / "storyboard.lock").read_text())
    data["scenes"][scene]["file"] = file
    data["scenes"][scene]["url"] = "https://example.invalid/x.mp4"
    (p / "storyboard.lock").write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.mark.parametrize("where", ["absolute", "dotdot", "state"])
def test_a_hostile_lock_never_writes_or_reads_outside_the_takes(
    emu: Emulator, tmp_path: Path, capsys, where: str
) -> None:
    p = write_project(tmp_path / "p", TWO)
    assert cli_render(p) == 0
    victim = tmp_path / "victim.mp4"
    file = {
        "absolute": str(victim),
        "dotdot": "../victim.mp4",
        "state": "storyboard.yaml",
    }[where]
    _hostile_lock(p, "a", file)
    before = (p / "storyboard.yaml").read_bytes()
    capsys.readouterr()
    msg = (
        f"{p / 'storyboard.lock'}: scene 'a': file {file!r} is not inside the project's "
        "build/takes folder; fix that entry or delete the lock file (the takes are kept "
        "in build/ and found again)\n"
    )
    for argv in (["render", str(p), "--no-compose"], ["compose", str(p)], ["status", str(p)]):
        assert main(argv) == 1, argv
        assert capsys.readouterr().err.endswith(msg), argv
    assert not victim.exists() and (p / "storyboard.yaml").read_bytes() == before


def test_a_take_symlinked_out_of_the_project_is_refused(
    emu: Emulator, tmp_path: Path, capsys
) -> None:
    p = write_project(tmp_path / "p", TWO)
    assert cli_render(p) == 0
    take = p / lock(p)["a"]["file"]
    secret = tmp_path / "secret.mp4"
    secret.write_bytes(take.read_bytes())
    take.unlink()
    take.symlink_to(secret)
    capsys.readouterr()
    assert main(["compose", str(p)]) == 1
    err = capsys.readouterr().err  # the lock is fine: the link is named as the fault
    assert (
        "scene 'a': 'build/takes/a/take-1.mp4' leads outside the project's build/takes folder "
        "through a link in it (the lock is fine)"
    ) in err, err


def test_a_take_whose_bytes_changed_is_fetched_again_not_bought_again(
    emu: Emulator, tmp_path: Path
) -> None:
    import hashlib

    p = write_project(tmp_path / "p", TWO)
    assert cli_render(p) == 0
    n = len(emu.ledger)
    entry = lock(p)["a"]
    f = p / entry["file"]
    f.write_bytes(b"\0" * f.stat().st_size)  # same size, other bytes
    assert cli_render(p) == 0
    assert len(emu.ledger) == n
    assert hashlib.sha256(f.read_bytes()).hexdigest() == entry["sha256"]


def test_a_wrong_hash_in_the_lock_is_never_written_over_the_take(
    emu: Emulator, tmp_path: Path, capsys
) -> None:
    p = write_project(tmp_path / "p", TWO)
    assert cli_render(p) == 0
    n = len(emu.ledger)
    data = yaml.safe_load((p / "storyboard.lock").read_text())
    data["scenes"]["a"]["sha256"] = "0" * 64
    (p / "storyboard.lock").write_text(yaml.safe_dump(data, sort_keys=False))
    f = p / data["scenes"]["a"]["file"]
    good = f.read_bytes()
    capsys.readouterr()
    assert cli_render(p) == 1
    err = capsys.readouterr().err
    assert "a: scene 'a', checksumMismatch: the bytes downloaded from" in err
    assert "render --retake a" in err
    assert "render again to retry, or" not in err  # the same URL gives the same bytes (h-55)
    assert "its URL no longer serves the file that was paid for" in err
    assert len(emu.ledger) == n and f.read_bytes() == good
