"""A paid result whose link is gone for good (left alone in round 11, now decided).

A service keeps its results for a limited time (a presigned link answers 403 once it expires;
a standalone emulator restarted on its port answers 404 for the files of its former run). The
task is paid and in the journal, so a render never buys it again on its own: it tries the link
once more, and says that ``--retake`` buys a new take. ``--retake`` of that scene tries the link
first too (it may be back), and only when it is still gone marks the task lost and buys one new
take: never one without being asked.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import write_project
from render_driver import Notes, lib_render
from test_pending_retake import TWO as ONE

from storyboard.emulator import Emulator, EmulatorConfig, Fault
from storyboard.generate.state import BuildState


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(latency=0.2, draft=True)) as e:
        yield e


def paid(emu: Emulator) -> int:
    return sum(emu.charges().values())


def forget_files(emu: Emulator) -> None:
    """The emulator's files of its results deleted: their links answer 404 from now on."""
    for f in (emu.workdir / "videos").iterdir():
        f.unlink()


@pytest.mark.parametrize("status", [404, 410, 403])
def test_a_result_whose_link_is_gone_is_bought_again_only_on_retake(
    emu: Emulator, tmp_path: Path, status: int
) -> None:
    p = write_project(tmp_path / "p", ONE)
    emu.add_fault(Fault("status", task_type="download", status=status, times=1))
    first = lib_render(p, emu.base_url)
    (gone,) = [o.scene for o in first.failed]  # the scene whose download failed
    err = first.outcomes[gone].error or ""
    assert f"HTTP {status}" in err, err
    assert "paid and kept in the journal" in err, err
    assert f"`storyboard render --retake {gone}` to buy a new take" in err, err
    assert paid(emu) == 2
    forget_files(emu)  # its link stays gone (and the other scene's take is already on disk)

    again = lib_render(p, emu.base_url)
    assert [o.scene for o in again.failed] == [gone]
    assert paid(emu) == 2  # tried once more, never bought again on its own
    assert f"--retake {gone}" in (again.outcomes[gone].error or "")

    notes = Notes()
    retake = lib_render(p, emu.base_url, retake=[gone], notes=notes)
    assert retake.failed == [], [o.error for o in retake.failed]
    assert paid(emu) == 3  # one new take, because it was asked for
    # each render says what it paid: the one that tried the link again paid nothing
    assert (first.spent, again.spent, retake.spent) == pytest.approx((0.8, 0.0, 0.4))
    said = " ".join(notes.notes)
    assert f"{gone}: the results of task" in said and "are gone" in said, said
    st = BuildState(p)
    try:
        assert st.uncollected() == []  # the lost task is not offered again
        assert [t.n for t in st.takes(gone)] == [1]
    finally:
        st.close()
    assert lib_render(p, emu.base_url).spent == 0
    assert paid(emu) == 3


def test_a_retake_collects_a_paid_result_whose_link_works_again(
    emu: Emulator, tmp_path: Path
) -> None:
    """The link failed once (a 404 that passed): --retake collects that paid take first, as
    for any task of an interrupted render, and buys nothing."""
    p = write_project(tmp_path / "p", ONE)
    emu.add_fault(Fault("status", task_type="download", status=404, times=1))
    first = lib_render(p, emu.base_url)
    (gone,) = [o.scene for o in first.failed]
    retake = lib_render(p, emu.base_url, retake=[gone])
    assert retake.failed == []
    assert paid(emu) == 2
