"""Journal semantics: an accepted task is never re-submitted; paid clips are always collected."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import write_project
from render_driver import Notes, fast_poll, lib_render

from storyboard.cli.main import main
from storyboard.emulator import Emulator, EmulatorConfig, Fault
from storyboard.generate.backend import BackendOptions, open_client
from storyboard.generate.protocol import new_uuid
from storyboard.generate.state import BuildState

TWO = """
title: Two
defaults: {duration: 4}
scenes:
  - {id: a, prompt: "Scene A: a kite in the wind."}
  - {id: b, prompt: "Scene B: the kite lands."}
"""


@pytest.fixture
def emu() -> Any:
    with Emulator(EmulatorConfig(latency=0.2, draft=True)) as e:
        yield e


def charges_by_scene(emu: Emulator) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in emu.ledger:
        if not c.get("refunded"):
            scene = c["prompt"].split(":")[0][-1].lower()
            out[scene] = out.get(scene, 0) + 1
    return out


def states(project: Path) -> dict[str, str]:
    with sqlite3.connect(project / "build" / "journal.sqlite") as db:
        return {s: st for s, st in db.execute("SELECT scene, state FROM tasks")}


def lock(project: Path) -> dict[str, Any]:
    return yaml.safe_load((project / "storyboard.lock").read_text())["scenes"]


def test_a_poll_outage_after_acceptance_keeps_the_task_and_never_pays_twice(
    emu: Emulator, tmp_path: Path
) -> None:
    p = write_project(tmp_path / "p", TWO)
    emu.add_fault(Fault("status", task_type="getResponse", status=503, times=None))
    result = lib_render(p, emu.base_url)
    assert {o.status for o in result.outcomes.values()} == {"failed"}
    assert states(p) == {"a": "submitted", "b": "submitted"}
    err = result.outcomes["a"].error or ""
    assert err.startswith("scene 'a', HTTP 503, serverError: injected fault")
    assert "the task stays in the journal: render again to collect it (not paid again)" in err
    emu.faults.clear()
    result = lib_render(p, emu.base_url)
    assert {o.status for o in result.outcomes.values()} == {"generated"}
    assert charges_by_scene(emu) == {"a": 1, "b": 1}


def test_a_poll_timeout_keeps_the_task_pending(tmp_path: Path) -> None:
    with Emulator(EmulatorConfig(latency=1.0, draft=True)) as emu:
        p = write_project(tmp_path / "p", TWO)
        result = lib_render(p, emu.base_url, poll=fast_poll(timeout=0.2))
        assert "no result after 0.2 s" in (result.outcomes["a"].error or "")
        assert states(p) == {"a": "submitted", "b": "submitted"}
        result = lib_render(p, emu.base_url)
        assert {o.status for o in result.outcomes.values()} == {"generated"}
        assert charges_by_scene(emu) == {"a": 1, "b": 1}


def test_an_error_result_is_definitive_and_marks_the_task_failed(
    emu: Emulator, tmp_path: Path
) -> None:
    p = write_project(tmp_path / "p", TWO)
    emu.add_fault(Fault("error", prompt_contains="Scene A", code="timeoutProvider"))
    result = lib_render(p, emu.base_url)
    assert result.outcomes["a"].status == "failed" and result.outcomes["b"].status == "generated"
    assert states(p) == {"a": "failed", "b": "done"}


def test_a_task_the_service_no_longer_knows_fails_only_after_a_grace_period(
    emu: Emulator, tmp_path: Path
) -> None:
    """A journaled, accepted task unknown to the service: polled through the grace, then new."""
    p = write_project(tmp_path / "p", TWO)
    assert lib_render(p, emu.base_url).failed == []
    st = BuildState(p)
    gone = new_uuid()
    req = {**st.task(st.lock["a"].task_uuid).request, "taskUUID": gone}  # type: ignore[union-attr]
    st.record_task(gone, "a", st.lock["a"].key, None, req)
    st.mark(gone, "submitted")
    st.close()
    result = lib_render(p, emu.base_url, retake=["a"])
    assert result.outcomes["a"].status == "generated"
    assert BuildState(p).task(gone).state == "failed"  # type: ignore[union-attr]
    polls = [t["polls"] for t in emu.timings()]
    assert charges_by_scene(emu) == {"a": 2, "b": 1}  # the first render and the retake
    assert polls  # the unknown task was polled, not re-submitted


def submit_behind_the_renders_back(emu: Emulator, project: Path, scene: str) -> str:
    """What a killed `render --retake SCENE` leaves: a paid task, journaled as submitted."""
    st = BuildState(project)
    take = st.lock[scene]
    req = {**st.task(take.task_uuid).request, "taskUUID": new_uuid()}  # type: ignore[union-attr]
    st.record_task(req["taskUUID"], scene, take.key, None, req, estimate=0.4)

    async def go() -> None:
        async with open_client(BackendOptions(api_key="k", base_url=emu.base_url)) as c:
            await c.submit(req, scene=scene)

    asyncio.run(go())
    st.mark(req["taskUUID"], "submitted")
    st.close()
    return str(req["taskUUID"])


def test_an_interrupted_retake_is_listed_by_status_and_collected_by_a_plain_render(
    emu: Emulator, tmp_path: Path, capsys
) -> None:
    p = write_project(tmp_path / "p", TWO)
    assert lib_render(p, emu.base_url).failed == []
    uid = submit_behind_the_renders_back(emu, p, "a")
    capsys.readouterr()
    assert main(["status", str(p)]) == 0
    out = capsys.readouterr().out
    assert "paid but not collected yet (render again to collect them, not paid again):" in out
    assert f"  a  task {uid[:8]}  submitted  $0.40" in out
    notes = Notes()
    result = lib_render(p, emu.base_url, notes=notes)
    assert result.failed == []
    assert f"a: collected take 2 from task {uid[:8]}, paid in an earlier render; " in " ".join(
        notes.notes
    )
    assert lock(p)["a"]["take"] == 1  # the cut keeps its take until you pick
    st = BuildState(p)
    assert [t.n for t in st.takes("a")] == [1, 2] and st.uncollected() == []
    st.close()
    assert charges_by_scene(emu) == {"a": 2, "b": 1}
    capsys.readouterr()
    main(["status", str(p)])
    assert "paid but not collected" not in capsys.readouterr().out


def test_a_resumed_render_counts_only_what_it_still_has_to_pay_against_the_budget(
    emu: Emulator, tmp_path: Path
) -> None:
    """Both tasks were accepted (paid) and not collected: a resume costs nothing more, so a
    budget of $0 lets it collect them (hostile finding F7: it was refused as $0.80)."""
    import storyboard

    p = write_project(tmp_path / "p", TWO)
    emu.add_fault(Fault("status", task_type="getResponse", status=503, times=None))
    lib_render(p, emu.base_url)
    assert states(p) == {"a": "submitted", "b": "submitted"}
    emu.faults.clear()
    project = storyboard.load(p, api_key="test-key", base_url=emu.base_url)
    assert project.status().next_cost == 0.0
    result = project.render(budget=0.0)
    assert result.failed == []
    assert charges_by_scene(emu) == {"a": 1, "b": 1}
