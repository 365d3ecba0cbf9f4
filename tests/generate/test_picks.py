"""Picks that stick: through renders, retakes of other scenes and a size round-trip; status and
pick agree about the scenes that continue from a pick."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import write_project

from storyboard.cli.main import main
from storyboard.emulator import Emulator, EmulatorConfig

# --emulator-latency: as quick as the emulator here, so the client polls a task when it can
# be done (at the default 1 s it waits 0.5 s first); only for speed
FAST = ["--emulator-latency", "0.05"]

THREE = """
title: Three
defaults: {duration: 4}
scenes:
  - {id: deck, prompt: "The deck of a ship at dawn."}
  - {id: mast, prompt: "The mast against the sky.", continuity: last_frame}
  - {id: sea, prompt: "The open sea."}
"""


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Any:
    with Emulator(EmulatorConfig(latency=0.15, draft=True)) as e:
        monkeypatch.setenv("RUNWARE_API_KEY", "test-key")
        monkeypatch.setenv("RUNWARE_BASE_URL", e.base_url)
        yield e


def render(project: Path, *extra: str) -> int:
    return main(["render", str(project), *FAST, "--no-compose", "--quiet", *extra])


def taken(project: Path) -> dict[str, int]:
    data = yaml.safe_load((project / "storyboard.lock").read_text())["scenes"]
    return {s: d["take"] for s, d in data.items()}


def status_rows(project: Path, capsys) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    import re

    capsys.readouterr()
    assert main(["status", str(project)]) == 0
    out = capsys.readouterr().out
    rows = [re.split(r"\s{2,}", line.strip()) for line in out.splitlines()[2:] if line.strip()]
    return {r[0]: r for r in rows if r[0] in ("deck", "mast", "sea")}


def edit(project: Path, old: str, new: str) -> None:
    f = project / "storyboard.yaml"
    assert old in f.read_text()
    f.write_text(f.read_text().replace(old, new))


def test_pick_survives_render_retake_and_a_size_round_trip(
    emu: Emulator, tmp_path: Path, capsys
) -> None:
    p = write_project(tmp_path / "p", THREE)
    assert render(p) == 0
    assert render(p, "--retake", "sea") == 0
    assert taken(p)["sea"] == 2
    assert main(["pick", str(p), "sea", "1"]) == 0
    charged = len(emu.ledger)
    assert render(p) == 0  # the pick stays: take 2 is newer, but take 1 was chosen
    assert taken(p)["sea"] == 1 and len(emu.ledger) == charged
    assert status_rows(p, capsys)["sea"][2] == "up to date"
    assert render(p, "--retake", "deck") == 0  # another scene's retake
    assert taken(p)["sea"] == 1
    # switch size: every scene is made again at the new size
    edit(p, "title: Three\n", "title: Three\nsize: 720x1280\n")
    rows = status_rows(p, capsys)
    assert rows["sea"][2:4] == ["stale", "picked take 1 was made from an older size"]
    assert render(p) == 0
    assert taken(p)["sea"] == 3
    # and back: the earlier pick is back, not the newest take of that size
    edit(p, "size: 720x1280\n", "")
    charged = len(emu.ledger)
    assert status_rows(p, capsys)["sea"][2] == "reuse take 1"
    assert render(p) == 0
    assert taken(p)["sea"] == 1 and len(emu.ledger) == charged


def test_a_changed_scene_makes_a_new_take_and_says_so(
    emu: Emulator, tmp_path: Path, capsys
) -> None:
    p = write_project(tmp_path / "p", THREE)
    assert render(p) == 0
    assert render(p, "--retake", "sea") == 0
    assert main(["pick", str(p), "sea", "1"]) == 0
    edit(p, "The open sea.", "The open sea at noon.")
    assert status_rows(p, capsys)["sea"][2:4] == [
        "stale",
        "picked take 1 was made from an older prompt",
    ]
    capsys.readouterr()
    assert main(["render", str(p), *FAST, "--no-compose"]) == 0
    err = capsys.readouterr().err
    assert "sea: picked take 1 was made from an older prompt; generating a new take" in err
    assert taken(p)["sea"] == 3


def test_pick_of_a_take_from_another_version_warns_and_sticks(
    emu: Emulator, tmp_path: Path, capsys
) -> None:
    p = write_project(tmp_path / "p", THREE)
    assert render(p) == 0
    edit(p, "The open sea.", "The open sea at noon.")
    assert render(p) == 0
    capsys.readouterr()
    assert main(["pick", str(p), "sea", "1"]) == 0
    err = capsys.readouterr().err
    assert (
        "warning: take 1 was made from another version of 'sea' than the storyboard's now; "
        "it stays in the cut until the scene changes again"
    ) in err
    charged = len(emu.ledger)
    assert status_rows(p, capsys)["sea"][2] == "up to date"
    assert render(p) == 0
    assert taken(p)["sea"] == 1 and len(emu.ledger) == charged


def test_pick_and_status_agree_about_the_scenes_continuing_from_it(
    emu: Emulator, tmp_path: Path, capsys
) -> None:
    p = write_project(tmp_path / "p", THREE)
    assert render(p) == 0
    assert render(p, "--retake", "deck") == 0  # deck 2, and mast 2 made from it
    assert taken(p) == {"deck": 2, "mast": 2, "sea": 1}
    capsys.readouterr()
    assert main(["pick", str(p), "deck", "1"]) == 0
    err = capsys.readouterr().err
    # mast's take 1 continued from deck's take 1: it fits again, nothing is stale
    assert "now stale" not in err
    assert "scenes continuing from it keep takes made from this one: mast" in err
    # and they are in the cut with it (hostile helper-53: the lock kept mast's take 2, made
    # from deck's take 2, so `compose` built a film that status called stale)
    assert taken(p) == {"deck": 1, "mast": 1, "sea": 1}
    assert status_rows(p, capsys)["mast"][2] == "up to date"
    assert main(["pick", str(p), "deck", "2"]) == 0
    assert taken(p) == {"deck": 2, "mast": 2, "sea": 1}
    assert status_rows(p, capsys)["mast"][2] == "up to date"
    (p / "build/takes/mast/take-1.mp4").unlink()
    capsys.readouterr()
    assert main(["pick", str(p), "deck", "1"]) == 0
    err = capsys.readouterr().err
    # its file is gone, but the service this render talks to still has it: fetched again by
    # the next render, never bought again (hostile helper-54)
    assert "scenes continuing from it keep takes made from this one: mast" in err
    assert status_rows(p, capsys)["mast"][2] == "re-download"


def test_keep_downstream_take_comes_back_with_its_source(
    emu: Emulator, tmp_path: Path, capsys
) -> None:
    p = write_project(tmp_path / "p", THREE)
    assert render(p) == 0
    assert render(p, "--retake", "deck", "--keep-downstream") == 0  # mast 1 kept for deck 2
    assert render(p, "--retake", "deck") == 0  # deck 3, mast 2
    assert main(["pick", str(p), "deck", "2"]) == 0
    assert status_rows(p, capsys)["mast"][2] == "up to date"
    assert taken(p)["mast"] == 1


def test_a_pick_then_compose_makes_the_film_status_describes(
    emu: Emulator, tmp_path: Path, capsys
) -> None:
    """hostile helper-53: `pick` then `compose` (the README's loop) built a film whose
    continuing scene played the take made from the other take of its source, `compose` said
    `film up to date` and `status` said `film: stale (take of 'mast' changed)`."""
    p = write_project(tmp_path / "p", THREE)
    assert main(["render", str(p), *FAST, "--quiet"]) == 0
    assert main(["render", str(p), *FAST, "--quiet", "--retake", "deck"]) == 0
    assert main(["pick", str(p), "deck", "1"]) == 0
    assert main(["compose", str(p)]) == 0
    capsys.readouterr()
    assert main(["status", str(p)]) == 0
    out = capsys.readouterr().out
    assert "film: up to date" in out, out
    assert taken(p) == {"deck": 1, "mast": 1, "sea": 1}
    assert main(["compose", str(p)]) == 0
    assert "film up to date" in capsys.readouterr().err


def test_a_draft_pick_leaves_the_continuing_scenes_on_its_own_chain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """hostile helper-54: picking a --draft take (which a render without --draft replaces by
    take 1) put mast's take 1, made from deck's take 1, beside deck's draft take 2 in the
    lock, and said mast kept a take made from the pick."""
    monkeypatch.delenv("RUNWARE_API_KEY", raising=False)  # the embedded emulator
    p = write_project(tmp_path / "p", THREE)
    assert render(p) == 0
    assert render(p, "--draft", "--retake", "deck") == 0  # deck 2 and mast 2, drafts
    assert taken(p) == {"deck": 2, "mast": 2, "sea": 1}
    assert main(["pick", str(p), "deck", "1"]) == 0
    assert taken(p) == {"deck": 1, "mast": 1, "sea": 1}
    capsys.readouterr()
    assert main(["pick", str(p), "deck", "2"]) == 0
    err = capsys.readouterr().err
    assert "a render without --draft puts take 1 back" in err, err
    assert "keep takes made from this one" not in err, err
    # mast keeps its take: the lock is not put on a chain the pick left
    assert taken(p) == {"deck": 2, "mast": 1, "sea": 1}


def test_a_paid_take_whose_file_is_gone_is_fetched_again_not_bought(
    emu: Emulator, tmp_path: Path, capsys
) -> None:
    """hostile helper-54: after `pick deck 1`, mast's take 1 (made from deck's take 1, paid)
    had lost its file: status called mast stale and the next render bought mast and sea's
    neighbour again. A paid take with a URL is fetched again, as the lock's own take is."""
    import sqlite3

    p = write_project(tmp_path / "p", THREE)
    assert render(p) == 0
    assert render(p, "--retake", "deck") == 0  # deck 2, and mast 2 made from it
    with sqlite3.connect(p / "build" / "journal.sqlite") as db:  # as if Runware made them
        db.execute("UPDATE takes SET made_by = 'runware https://api.runware.ai/v1'")
    (p / "build/takes/mast/take-1.mp4").unlink()
    assert main(["pick", str(p), "deck", "1"]) == 0
    assert taken(p)["mast"] == 1
    assert status_rows(p, capsys)["mast"][2] == "re-download"
    charged = len(emu.ledger)
    assert render(p) == 0
    assert len(emu.ledger) == charged  # nothing bought again
    assert taken(p) == {"deck": 1, "mast": 1, "sea": 1}
    assert (p / "build/takes/mast/take-1.mp4").is_file()


def test_a_paid_take_picked_without_a_key_is_not_from_another_version(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """hostile helper-55: a paid take picked in a keyless (or --draft) session was "made from
    another version of the scene": its key was compared with the emulator's, which hashes the
    maker in."""
    import sqlite3

    from storyboard.board.spec import load_project
    from storyboard.generate.staleness import scene_keys
    from storyboard.plan.compile import compile_project

    p = write_project(tmp_path / "p", THREE)
    assert render(p) == 0
    real = scene_keys(compile_project(load_project(p)))  # the keys Runware's takes have
    with sqlite3.connect(p / "build" / "journal.sqlite") as db:  # as if Runware made them
        for scene, key in real.items():
            db.execute(
                "UPDATE takes SET made_by = 'runware https://api.runware.ai/v1', key = ? "
                "WHERE scene = ?",
                (key, scene),
            )
    monkeypatch.delenv("RUNWARE_API_KEY")
    capsys.readouterr()
    assert main(["pick", str(p), "sea", "1"]) == 0
    assert "another version" not in capsys.readouterr().err
    edit(p, "The open sea.", "The open sea at noon.")
    assert main(["pick", str(p), "sea", "1"]) == 0
    assert "take 1 was made from another version of 'sea'" in capsys.readouterr().err


def test_takes_show_what_each_take_was_made_from(emu: Emulator, tmp_path: Path, capsys) -> None:
    p = write_project(tmp_path / "p", THREE)
    assert render(p) == 0
    edit(p, "The open sea.", "The open sea at noon.")
    assert render(p) == 0
    capsys.readouterr()
    assert main(["takes", str(p), "sea"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:6] == ["take", "version", "model", "size", "duration", "cost"]
    one, two = lines[2].split(), lines[3].split()
    assert one[:4] == ["1", "stale", "openai:3@1", "1280x720"]
    assert two[:4] == ["2*", "current", "openai:3@1", "1280x720"]
    assert "The open sea." in lines[2] and "The open sea at noon..." in lines[3]
