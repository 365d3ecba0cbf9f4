"""N13: a sound whose model has no published price (every generated effect: mirelo is the
catalogue's only effect model) counted as $0 under ``render --budget``, so a budget never held
it. Now it is refused like an unpriced scene, naming the node and where the storyboard takes
its ``price:`` (USD per second you expect); with one, plan and budget count it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import write_project

from storyboard.board.spec import load_project
from storyboard.cli.main import main
from storyboard.plan.compile import compile_project

pytestmark = pytest.mark.usefixtures("quick_polls")  # only for speed: see conftest

BOARD = """
title: T
size: 1280x720
defaults: {duration: 4}
scenes:
  - id: a
    prompt: A lighthouse door at night.
    sounds:
      - {prompt: "a heavy door creaks open", at: 1.0, duration: 1.5%s}
"""


def _plan(p: Path) -> Any:
    return compile_project(load_project(p))


def test_an_unpriced_effect_is_refused_under_a_budget(tmp_path: Path, capsys: Any) -> None:
    p = write_project(tmp_path / "p", BOARD % "")
    plan = _plan(p)
    assert plan.unpriced == ["sfx:a/1"]
    assert main(["render", str(p), "--budget", "100"]) != 0
    err = capsys.readouterr().err
    assert "no source gives the price of sfx:a/1 (mirelo:1@1)" in err
    assert "set `price:` (USD per second you expect) on scene a's sounds entry 1" in err
    assert "nothing was spent" in err and "Traceback" not in err
    assert not (p / "storyboard.lock").exists() and not (p / "build" / "takes").exists()
    # plan still shows it, as not published, and says how to price it
    assert main(["plan", str(p)]) == 0
    out = capsys.readouterr().out
    assert "not published" in out and "set `price:`" in out


def test_a_priced_effect_is_counted_and_held_by_the_budget(tmp_path: Path, capsys: Any) -> None:
    p = write_project(tmp_path / "p", BOARD % ", price: 0.2")
    plan = _plan(p)
    sfx = plan.node("sfx:a/1")
    assert not plan.unpriced and sfx.price_known and sfx.cost == pytest.approx(0.3)
    clip = plan.node("a").cost
    assert main(["plan", str(p)]) == 0
    out = capsys.readouterr().out
    assert "$0.30" in out and "mirelo:1@1; the total" not in out
    # a budget that covers the clip but not the clip and the effect is refused
    assert main(["render", str(p), "--budget", f"{clip + 0.1:.2f}"]) != 0
    err = capsys.readouterr().err
    assert f"this render would cost ${clip + 0.3:.2f}, over the --budget" in err
    assert "nothing was spent" in err


def test_unpriced_music_and_voices_name_where_their_price_goes(tmp_path: Path, capsys: Any) -> None:
    board = """
title: T
size: 1280x720
defaults: {duration: 4}
narrator: {model: "inworld:tts@2", voice: Ashley, language: en%s}
edit:
  music: {prompt: "a slow cello", model: "runware:ace-step@v1.5-base"%s}
scenes:
  - id: a
    prompt: A lighthouse at dusk.
    narration: ["She lit the lamp."]
"""
    p = write_project(tmp_path / "p", board % ("", ""))
    plan = _plan(p)
    assert sorted(plan.unpriced) == ["line:a/1", "music"]
    assert main(["render", str(p), "--budget", "100"]) != 0
    err = capsys.readouterr().err
    assert "line:a/1 (inworld:tts@2), music (runware:ace-step@v1.5-base)" in err
    assert "on narrator, edit.music;" in err and "nothing was spent" in err
    p = write_project(tmp_path / "p", board % (", price: 0.01", ", price: 0.002"))
    plan = _plan(p)
    assert not plan.unpriced
    assert plan.node("music").cost > 0 and plan.node("line:a/1").cost > 0


def test_a_price_on_a_sound_file_is_refused_with_its_line(tmp_path: Path, capsys: Any) -> None:
    generated = 'prompt: "a heavy door creaks open", at: 1.0, duration: 1.5%s'
    board = BOARD.replace(generated, "file: door.wav, at: 1.0, price: 0.2")
    p = write_project(tmp_path / "p", board)
    (p / "door.wav").write_bytes(b"RIFF")
    assert main(["plan", str(p)]) != 0
    err = capsys.readouterr().err
    assert "storyboard.yaml:8" in err and "'price' are for generated sounds" in err
    assert "Traceback" not in err


VARIANTS = """
variants:
  loud:
    scenes:
      a: {sounds: [{prompt: "a gull screams", at: 0.5, duration: 2}]}
"""


def test_several_films_are_refused_before_the_first_is_bought(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hostile N13 F1: `--variant all --budget` bought the main film, then refused the variant
    whose effect has no price, saying "nothing was spent". F6: a dry run of a variant never
    checked the budget at all."""
    from storyboard.emulator import Emulator, EmulatorConfig

    p = write_project(tmp_path / "p", BOARD % ", price: 0.2" + VARIANTS)
    with Emulator(EmulatorConfig(latency=0.01, draft=True)) as emu:
        monkeypatch.setenv("RUNWARE_API_KEY", "test-key")
        monkeypatch.setenv("RUNWARE_BASE_URL", emu.base_url)
        assert main(["render", str(p), "--variant", "all", "--budget", "100"]) != 0
        err = capsys.readouterr().err
        assert "film loud: no source gives the price of sfx:a/1 (mirelo:1@1)" in err
        assert not emu.ledger and not (p / "storyboard.lock").exists()
        assert main(["render", str(p), "--variant", "loud", "--dry-run", "--budget", "100"]) != 0
        assert "no source gives the price of sfx:a/1" in capsys.readouterr().err
        assert main(["render", str(p), "--variant", "main", "--dry-run", "--budget", "0.1"]) != 0
        assert "over the --budget of $0.10" in capsys.readouterr().err


def test_a_budget_over_several_films_plans_each_film_once(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The budget of `--variant all` planned every film twice (the batch's total, then each
    film under the budget); a dry run planned it a third time to print it."""
    from storyboard.api.project import Project

    planned: list[str] = []
    plan = Project.plan

    def counted(self: Project, *args: Any, **kwargs: Any) -> Any:
        planned.append(self.variant_name)
        return plan(self, *args, **kwargs)

    monkeypatch.setattr(Project, "plan", counted)
    monkeypatch.delenv("RUNWARE_API_KEY", raising=False)
    p = write_project(tmp_path / "p", BOARD % ", price: 0.2" + VARIANTS)
    assert main(["render", str(p), "--variant", "all", "--budget", "100"]) != 0
    assert "film loud: no source gives the price of sfx:a/1" in capsys.readouterr().err
    assert planned == ["main", "loud"]
    assert not (p / "storyboard.lock").exists()
    priced = VARIANTS.replace("duration: 2}", "duration: 2, price: 0.2}")
    p = write_project(tmp_path / "q", BOARD % ", price: 0.2" + priced)
    planned.clear()
    assert main(["render", str(p), "--variant", "all", "--dry-run", "--budget", "100"]) == 0
    assert "all 2 films: $" in capsys.readouterr().out
    assert planned == ["main", "loud"]


def test_an_unpriced_sound_already_paid_for_is_collected_under_a_budget(tmp_path: Path) -> None:
    """Hostile N13 F3: an effect the service had accepted (charged, not yet collected) still
    blocked a budgeted render, though collecting it costs nothing."""
    from storyboard.errors import BudgetError
    from storyboard.generate.staleness import Assessment, check_budget

    plan = _plan(write_project(tmp_path / "p", BOARD % ""))
    found = {t.scene: Assessment(t.scene, "", True, cost=t.cost) for t in plan.nodes}
    with pytest.raises(BudgetError):
        check_budget(plan, found, 100.0)
    rest = sum(t.cost for t in plan.nodes if t.scene != "sfx:a/1")
    assert check_budget(plan, found, 100.0, paid={"sfx:a/1"}) == pytest.approx(rest)


def test_amounts_under_a_cent_apart_are_told_apart(tmp_path: Path) -> None:
    """Hostile N13 F9: "would cost $0.02, over the --budget of $0.02"."""
    from storyboard.errors import BudgetError
    from storyboard.generate.staleness import Assessment, check_budget

    plan = _plan(write_project(tmp_path / "p", BOARD % ", price: 0.0137"))
    found = {t.scene: Assessment(t.scene, "", True, cost=t.cost) for t in plan.nodes}
    with pytest.raises(BudgetError) as e:
        check_budget(plan, found, 0.02, only={"sfx:a/1"})
    assert "would cost $0.0205, over the --budget of $0.0200 (sfx:a/1 $0.02)" in str(e.value)


def test_a_price_leaves_the_film_as_it_is(tmp_path: Path) -> None:
    """Hostile N13 F7: adding `price:` made the film stale ("dialogue of 'a' changed", "music
    changed"): what a sound costs is not in the film."""
    from storyboard.cut.filmkey import film_parts

    board = BOARD + "edit:\n  music: {prompt: a slow cello%s}\n"
    plain = film_parts(load_project(write_project(tmp_path / "a", board % ("", ""))), {})
    priced = load_project(write_project(tmp_path / "b", board % (", price: 0.2", ", price: 0.01")))
    assert film_parts(priced, {}) == plain


def test_a_price_on_a_priced_model_is_said_to_be_unused(tmp_path: Path, capsys: Any) -> None:
    """Hostile N13 F8: a `price:` on a voice or music whose model has a published price was
    ignored without a word."""
    board = """
title: T
size: 1280x720
defaults: {duration: 4}
narrator: {model: "xai:tts@0", voice: Sal, price: 0.5}
edit:
  music: {prompt: "a slow cello", price: 0.5}
scenes:
  - {id: a, prompt: A lighthouse at dusk., narration: ["She lit the lamp."]}
"""
    p = write_project(tmp_path / "p", board)
    plan = _plan(p)
    assert plan.node("music").cost == pytest.approx(0.15)  # the catalogue's, not 0.5 x seconds
    assert main(["validate", str(p)]) == 0
    out = capsys.readouterr()
    text = out.out + out.err
    assert "storyboard.yaml:4: narrator.price: warning: xai:tts@0 has a published price" in text
    assert "storyboard.yaml:6: edit.music.price: warning: minimax:music@2.6 has a published" in text


def test_status_says_the_price_is_unknown(tmp_path: Path, capsys: Any) -> None:
    """Hostile N13 F10: `status` showed an unpriced effect's next cost as $0.00."""
    p = write_project(tmp_path / "p", BOARD % "")
    assert main(["status", str(p)]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("sfx:a/1"))
    assert row.rstrip().endswith("unknown")
    assert "and sfx:a/1, whose price no source gives;" in out


def test_a_priced_effect_s_placeholder_says_what_it_would_cost(tmp_path: Path) -> None:
    """M4 (helper-23): the emulator knows no price for an effect (none is published), so its
    placeholder said "would cost $0.00" while the plan counted the storyboard's `price:`. The
    emulator now gives no figure it does not have, and the placeholder is counted at the
    planned price: in the render's row, the take and the project's status."""
    import storyboard
    from storyboard.emulator import Emulator, EmulatorConfig

    p = write_project(tmp_path / "p", BOARD % ", price: 0.2")
    with Emulator(EmulatorConfig(latency=0.05, draft=True)) as emu:
        project = storyboard.load(p, api_key="k", base_url=emu.base_url)
        done = project.render(draft=True)
    assert done.ok
    row = next(s for s in done.scenes if s.scene == "sfx:a/1")
    assert row.cost == pytest.approx(0.3)
    assert row.takes[0].placeholder and row.takes[0].money == "$0 (would cost $0.30)"
    clip = next(s for s in done.scenes if s.scene == "a")
    assert done.spent == pytest.approx(clip.cost + 0.3)
    status = project.status(draft=True)
    assert status.spent == 0 and status.would_cost == pytest.approx(clip.cost + 0.3)
