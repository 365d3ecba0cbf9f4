"""render --watch: a save re-plans and regenerates exactly what it changed (no real time)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import stand_in, write_project
from watchfiles import Change

from storyboard.cli.main import main
from storyboard.emulator import Emulator
from storyboard.errors import StoryboardError
from storyboard.review.watch import Watcher, is_source

pytestmark = pytest.mark.usefixtures("quick_polls")  # only for speed: see conftest

BOARD = """
title: Watch
defaults: {duration: 4}
scenes:
  - {id: a, prompt: "Alpha: a harbour at dawn."}
  - {id: b, prompt: "Bravo: gulls over the water."}
  - {id: c, prompt: "Charlie: a boat leaves the harbour."}
"""


@pytest.fixture
def paid(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """The emulator standing in for the real service (it does not identify itself)."""
    with stand_in(monkeypatch) as e:
        yield e


def charged(emu: Emulator, since: int = 0) -> list[str]:
    return [c["prompt"].split(":")[0] for c in emu.ledger[since:] if not c.get("refunded")]


def saves(p: Path, *edits: tuple[str, str]) -> Iterator[set[tuple[Any, str]]]:
    """A change stream: each step edits the storyboard (old -> new) and reports the save."""
    board = p / "storyboard.yaml"
    for old, new in edits:
        board.write_text(board.read_text().replace(old, new))
        yield {(Change.modified, str(board))}


def test_a_save_regenerates_exactly_the_scene_it_changed_once(
    paid: Emulator, tmp_path: Path
) -> None:
    p = write_project(tmp_path / "p", BOARD)
    logs: list[str] = []
    w = Watcher(p, budget=5.0, compose=False, draft=True, log=logs.append)
    first = w.round([])
    assert first.generated == ["a", "b", "c"]
    n = len(paid.ledger)

    def stream() -> Iterator[set[tuple[Any, str]]]:
        yield from saves(p, ("gulls over", "terns over"))
        # the render's own writes, an editor's swap file and a save of the same text: no render
        yield {(Change.modified, str(p / "build" / "journal.sqlite"))}
        yield {(Change.added, str(p / ".storyboard.yaml.swp"))}
        yield {(Change.modified, str(p / "storyboard.yaml"))}

    rounds = w.run(stream())
    assert [r.changed for r in rounds[1:]] == [["storyboard.yaml"], ["storyboard.yaml"]]
    assert rounds[0].generated == []  # the first round found everything up to date
    assert (rounds[1].to_generate, rounds[1].generated) == (["b"], ["b"])
    assert rounds[2].generated == []
    assert charged(paid, n) == ["Bravo"]
    assert "plan: b: 4 s, $0.40 (cap $5.00)" in logs


def test_watch_with_the_paid_service_needs_a_budget(paid: Emulator, tmp_path: Path) -> None:
    p = write_project(tmp_path / "p", BOARD)
    with pytest.raises(StoryboardError) as e:
        Watcher(p, draft=True)
    assert str(e.value) == (
        "render --watch spends on the real Runware service at every save: give a cap "
        "per change with --budget USD"
    )
    assert paid.ledger == []


def test_a_change_over_the_cap_spends_nothing_and_the_loop_goes_on(
    paid: Emulator, tmp_path: Path
) -> None:
    p = write_project(tmp_path / "p", BOARD)
    w = Watcher(p, budget=0.5, compose=False, draft=True, log=lambda _m: None)
    rounds = w.run(saves(p, ("Alpha: a", "Alpha: the"), ("Alpha: the", "Alpha: a")))
    assert "over the --budget of $0.50" in (rounds[0].error or "")
    assert paid.ledger == []
    assert rounds[1].to_generate == ["a", "b", "c"] and rounds[1].generated == []


def test_a_broken_save_is_reported_and_the_next_good_one_renders(
    paid: Emulator, tmp_path: Path
) -> None:
    p = write_project(tmp_path / "p", BOARD)
    w = Watcher(p, budget=5.0, compose=False, draft=True, log=lambda _m: None)
    rounds = w.run(saves(p, ("duration: 4", "duration: 5"), ("duration: 5", "duration: 8")))
    assert "duration" in (rounds[1].error or "")
    assert rounds[1].generated == []
    assert rounds[2].generated == ["a", "b", "c"]
    assert sorted(charged(paid, 3)) == ["Alpha", "Bravo", "Charlie"]


@pytest.mark.parametrize(
    "rel, watched",
    [
        ("storyboard.yaml", True),
        ("templates/shot.j2", True),
        ("assets/x.png", True),
        ("build/journal.sqlite", False),
        ("storyboard.lock", False),
        ("templates/.shot.j2.swp", False),
        ("assets/x.png~", False),
        ("notes.txt", False),
    ],
)
def test_which_saves_count(tmp_path: Path, rel: str, watched: bool) -> None:
    assert is_source(tmp_path, tmp_path / "storyboard.yaml", str(tmp_path / rel)) is watched


def test_render_watch_refuses_retake(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = write_project(tmp_path / "p", BOARD)
    assert main(["render", str(p), "--watch", "--retake", "a"]) == 2
    assert "use --retake and --dry-run without it" in capsys.readouterr().err


@pytest.mark.parametrize("budget", [float("nan"), float("inf"), -1.0], ids=["nan", "inf", "neg"])
def test_watch_refuses_a_budget_that_is_no_amount(budget: float, tmp_path: Path) -> None:
    p = write_project(tmp_path / "p", BOARD)
    with pytest.raises(StoryboardError) as e:
        Watcher(p, draft=True, budget=budget)
    assert str(e.value) == f"--budget must be an amount of 0 or more dollars, got {budget:g}"


def test_a_save_back_to_a_take_already_made_composes_it(paid: Emulator, tmp_path: Path) -> None:
    """Hostile H30: an edit that switches the cut to an existing take generates nothing, yet
    the film changes: the watch composes it as a plain render would."""
    import storyboard as sb

    # only for speed: the film at the --draft clips' size and a draft frame rate
    p = write_project(tmp_path / "p", BOARD + "output: {size: 320x180, fps: 10}\n")
    logs: list[str] = []
    w = Watcher(p, budget=5.0, draft=True, log=logs.append)
    rounds = w.run(saves(p, ("gulls over", "terns over"), ("terns over", "gulls over")))
    assert [r.generated for r in rounds] == [["a", "b", "c"], ["b"], []]
    assert rounds[2].error is None
    assert len(charged(paid)) == 4  # the take of "gulls" was made once, and used again
    film = sb.load(p).status(draft=True).film
    assert film is not None and (film.up_to_date, film.reasons) == (True, [])
