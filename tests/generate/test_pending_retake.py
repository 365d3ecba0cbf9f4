"""A ``--retake`` whose send never reached the service (hostile helper-30, retake-pending).

Its task stays ``pending`` in the journal: maybe sent, never confirmed. The next render sends it
again with the same taskUUID (the service refuses a second one, so it is charged at most once)
and collects it as a take, instead of asking the service about a task it never received. Until
then it is not shown as paid.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import write_project
from render_driver import Notes, lib_render

import storyboard
from storyboard.cli.main import main
from storyboard.emulator import Emulator, EmulatorConfig, Fault
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


def lock(project: Path) -> dict[str, Any]:
    return yaml.safe_load((project / "storyboard.lock").read_text())["scenes"]


def a_retake_cut_before_the_service(emu: Emulator, p: Path) -> str:
    """Render, then `render --retake a` with every videoInference request cut before the
    service sees it: the retake's task is left pending. Its taskUUID."""
    assert lib_render(p, emu.base_url).failed == []
    emu.add_fault(Fault("cut", task_type="videoInference", times=None))
    result = lib_render(p, emu.base_url, retake=["a"])
    err = result.outcomes["a"].error or ""
    assert "the task stays in the journal: render again to send it again" in err
    emu.faults.clear()
    st = BuildState(p)
    try:
        (jt,) = st.uncollected()
    finally:
        st.close()
    assert (jt.scene, jt.state) == ("a", "pending")
    assert jt.task_uuid not in emu.charges()  # never reached the service
    return jt.task_uuid


def test_a_plain_render_sends_a_pending_retake_again_and_keeps_it_as_a_take(
    emu: Emulator, tmp_path: Path
) -> None:
    p = write_project(tmp_path / "p", TWO)
    uid = a_retake_cut_before_the_service(emu, p)
    notes = Notes()
    result = lib_render(p, emu.base_url, notes=notes)
    assert result.failed == []
    said = " ".join(notes.notes)
    assert "unknown to the service" not in said
    assert f"a: collected take 2 from task {uid[:8]}" in said
    assert emu.charges()[uid] == 1  # sent with its own taskUUID: charged once
    assert result.spent == pytest.approx(0.4)  # the emulator's draft price of a 4 s clip
    st = BuildState(p)
    try:
        assert [(t.n, t.task_uuid) for t in st.takes("a")][1] == (2, uid)
        assert st.task(uid).state == "done"  # type: ignore[union-attr]
        assert st.uncollected() == []
    finally:
        st.close()
    assert lock(p)["a"]["take"] == 1  # as an interrupted retake: the cut keeps its take
    # nothing is left to send or collect: a third render buys nothing
    lib_render(p, emu.base_url)
    assert emu.charges()[uid] == 1
    assert sum(emu.charges().values()) == 3  # a, b, and the retake of a: once each


def test_retake_again_sends_the_pending_task_and_puts_it_in_the_cut(
    emu: Emulator, tmp_path: Path
) -> None:
    p = write_project(tmp_path / "p", TWO)
    uid = a_retake_cut_before_the_service(emu, p)
    result = lib_render(p, emu.base_url, retake=["a"])
    assert result.outcomes["a"].status == "generated"
    assert emu.charges()[uid] == 1
    assert sum(emu.charges().values()) == 3
    assert lock(p)["a"]["take"] == 2 and lock(p)["a"]["task_uuid"] == uid


def test_a_pending_retake_the_service_accepted_after_all_is_charged_once(
    emu: Emulator, tmp_path: Path
) -> None:
    """The send did reach the service (its answer was lost): sending it again meets
    ``conflictTaskUUID`` and the render collects the clip, never paying twice."""
    p = write_project(tmp_path / "p", TWO)
    assert lib_render(p, emu.base_url).failed == []
    emu.add_fault(Fault("drop", task_type="videoInference", times=None))
    lib_render(p, emu.base_url, retake=["a"])
    emu.faults.clear()
    st = BuildState(p)
    try:
        (jt,) = st.uncollected()
    finally:
        st.close()
    assert jt.state == "pending" and emu.charges()[jt.task_uuid] == 1
    notes = Notes()
    assert lib_render(p, emu.base_url, notes=notes).failed == []
    assert f"a: collected take 2 from task {jt.task_uuid[:8]}" in " ".join(notes.notes)
    assert emu.charges()[jt.task_uuid] == 1
    assert sum(emu.charges().values()) == 3


def test_a_pending_task_of_content_no_longer_wanted_is_asked_about_not_sent(
    emu: Emulator, tmp_path: Path
) -> None:
    """The prompt changed since: the old pending task is not bought now (as before)."""
    p = write_project(tmp_path / "p", TWO)
    uid = a_retake_cut_before_the_service(emu, p)
    write_project(p, TWO.replace("a kite in the wind", "a kite in the rain"))
    notes = Notes()
    result = lib_render(p, emu.base_url, notes=notes)
    assert result.outcomes["a"].status == "generated"
    assert uid not in emu.charges()
    assert f"a: task {uid[:8]} from an earlier render is unknown to the service" in " ".join(
        notes.notes
    )


def test_a_boards_render_leaves_a_pending_clip_retake_for_a_later_render(
    emu: Emulator, tmp_path: Path
) -> None:
    p = write_project(tmp_path / "p", TWO)
    uid = a_retake_cut_before_the_service(emu, p)
    notes = Notes()
    lib_render(p, emu.base_url, notes=notes, boards=True)
    assert uid not in emu.charges()
    assert "unknown to the service" not in " ".join(notes.notes)
    st = BuildState(p)
    try:
        assert st.task(uid).state == "pending"  # type: ignore[union-attr]
    finally:
        st.close()
    lib_render(p, emu.base_url)
    assert emu.charges()[uid] == 1


def test_status_does_not_call_a_pending_retake_paid(
    emu: Emulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    p = write_project(tmp_path / "p", TWO)
    uid = a_retake_cut_before_the_service(emu, p)
    project = storyboard.load(p, api_key="test-key", base_url=emu.base_url)
    status = project.status()
    assert status.uncollected == []  # paid and not collected: none
    assert status.next_cost == pytest.approx(0.4)  # at most: the next render sends it
    (row,) = [s for s in status.scenes if s.scene == "a"]
    assert row.reasons == [
        f"retake task {uid[:8]} maybe never sent: the next render sends it again "
        "(same taskUUID: paid at most once), up to $0.40"
    ]
    capsys.readouterr()
    monkeypatch.setenv("RUNWARE_API_KEY", "test-key")
    monkeypatch.setenv("RUNWARE_BASE_URL", emu.base_url)
    assert main(["status", str(p)]) == 0
    out = capsys.readouterr().out
    assert "paid but not collected" not in out
    assert f"retake task {uid[:8]} maybe never sent" in out
    assert "next render: $0.40" in out


def test_the_budget_counts_a_pending_retake_the_render_would_send(
    emu: Emulator, tmp_path: Path
) -> None:
    p = write_project(tmp_path / "p", TWO)
    uid = a_retake_cut_before_the_service(emu, p)
    project = storyboard.load(p, api_key="test-key", base_url=emu.base_url)
    with pytest.raises(storyboard.StoryboardError, match="over the --budget of \\$0.00"):
        project.render(budget=0.0)
    assert uid not in emu.charges()
    result = project.render(budget=0.40)
    assert result.failed == [] and emu.charges()[uid] == 1
