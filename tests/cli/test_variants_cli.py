"""``--variant`` and ``--on`` on the command line: plans, refusals, and one message each."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from helpers import write_project

from storyboard.cli.main import main

BOARD = """
title: Tide
defaults: {duration: 4}
scenes:
  - {id: harbour, prompt: "A harbour at dawn."}
  - {id: storm, prompt: "A storm."}
variants:
  vertical: {size: 720x1280, reframe: crop}
  native: {size: 720x1280}
  short: {skip: [storm]}
"""


def test_plan_all_shows_each_films_cost_and_what_it_shares(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_project(in_tmp / "p", BOARD)
    assert main(["plan", "p", "--variant", "all"]) == 0
    out = capsys.readouterr().out
    assert "== vertical ==" in out and "== native ==" in out
    assert "shares: harbour (with main), storm (with main): generated once" in out
    rows = [line.split() for line in out.splitlines() if line.startswith(("main ", "vertical "))]
    assert ["main", "1280x720", "2", "0", "$0.80"] in rows  # Sora 2: $0.10/s, 2 scenes of 4 s
    assert ["vertical", "720x1280", "2", "2", "$0.00"] in rows  # its own size; adds nothing
    # native regenerates both; short shares harbour with main
    assert out.rstrip().endswith("all 4 films: $1.60 (each shared scene counted once)")
    assert not (in_tmp / "p" / "build").exists()  # a plan writes nothing


def test_plan_all_with_boards_prices_each_films_boards_and_no_clip(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`plan --variant all --boards` priced every film's clips, not what `render --variant all
    --boards` buys: each film's boards (at that film's size)."""
    write_project(in_tmp / "p", BOARD)
    assert main(["plan", "p", "--variant", "all", "--boards"]) == 0
    out = capsys.readouterr().out
    clips = [row for row in out.splitlines() if row.startswith(("harbour ", "storm "))]
    assert clips and all(row.rstrip().endswith("later (no clips with --boards)") for row in clips)
    rows = [line.split() for line in out.splitlines() if line.startswith(("main ", "native "))]
    assert ["main", "1280x720", "2", "0", "$0.12"] in rows  # two boards of $0.06 (FLUX)
    assert ["native", "720x1280", "2", "0", "$0.12"] in rows  # its own boards, at 9:16
    assert "board:harbour  720x1280" in out
    # vertical crops the main film's pictures; short's harbour board is the main film's
    assert out.rstrip().endswith("all 4 films: $0.24 (each shared scene counted once)")
    assert main(["plan", "p", "--variant", "all", "--boards", "--json"]) == 0
    batch = json.loads(capsys.readouterr().out)
    films = {f["variant"]: f for f in batch["films"]}
    assert [t["node"] for t in films["native"]["tasks"]] == ["board:harbour", "board:storm"]
    assert films["short"]["shared"] == {"board:harbour": "main"}
    assert batch["total_cost"] == pytest.approx(0.24)


def test_a_budget_over_all_films_boards_holds_their_boards(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_project(in_tmp / "p", BOARD)
    boards = ["render", "p", "--variant", "all", "--boards", "--dry-run", "--budget"]
    assert main([*boards, "0.5"]) == 0  # the boards: $0.24 (the clips would be $1.60)
    capsys.readouterr()
    assert main([*boards, "0.2"]) == 1
    err = capsys.readouterr().err
    assert "these films would cost $0.24, over the --budget of $0.20; nothing was spent" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["plan", "p", "--variant", "vertcal"], "no variant 'vertcal' (variants: vertical, native"),
        (["render", "p", "--on", "spark"], "--on: expected `ray` (a local Ray instance) or "),
        (["render", "p", "--on", "ray://head"], "--on: expected `ray`"),
        (
            ["render", "p", "--variant", "all", "--retake", "harbour"],
            "--retake works on one film at a time",
        ),
        (
            ["export", "p", "--variant", "all", "-o", "cut.otio"],
            "--output names one file: with --variant all each film's timeline is written "
            "beside its film",
        ),
        (["render", "p", "--on", "ray://127.0.0.1:99999"], "port 99999 is not a TCP port"),
        (  # hostile helper-41: the clips were bought, then the compose could not reach it
            ["render", "p", "--variant", "all", "--on", "ray://127.0.0.1:1"],
            "--on ray://127.0.0.1:1: cannot reach the cluster (",
        ),
    ],
    ids=[
        "unknown-variant",
        "unknown-executor",
        "address-without-port",
        "retake-all",
        "export-all-to-one-file",
        "port-out-of-range",
        "cluster-unreachable",
    ],
)
def test_bad_arguments_are_one_message_and_spend_nothing(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    write_project(in_tmp / "p", BOARD)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err, err
    assert "Traceback" not in err
    assert not (in_tmp / "p" / "build" / "takes").exists()  # nothing generated
    assert not (in_tmp / "p" / "build" / "journal.sqlite").exists()


def test_on_ray_without_ray_says_how_to_install_it(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_project(in_tmp / "p", BOARD)
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    assert main(["render", "p", "--variant", "all", "--on", "ray"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == (
        "--on ray: Ray is not installed; install the optional extra: pip install -e '.[ray]'"
        "  (or: pip install 'ray[client]>=2.9')"
    )
    assert not (in_tmp / "p" / "build" / "journal.sqlite").exists()  # nothing generated first


def test_a_cluster_without_ray_client_says_how_to_install_it(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ray without its `client` extra cannot reach a `ray://` cluster: said before anything is
    generated (hostile helper-41: the extra lacked it, and the clips were bought first)."""
    pytest.importorskip("ray", reason="Ray is not installed (pip install -e '.[ray]')")
    write_project(in_tmp / "p", BOARD)
    monkeypatch.setitem(sys.modules, "grpc", None)  # import grpc -> ImportError
    assert main(["render", "p", "--variant", "all", "--on", "ray://127.0.0.1:10001"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("--on ray://127.0.0.1:10001: Ray Client is not installed"), err
    assert not (in_tmp / "p" / "build" / "journal.sqlite").exists()


def test_validate_checks_every_film_against_the_model(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_project(
        in_tmp / "p", BOARD.replace("native: {size: 720x1280}", "native: {size: 640x480}")
    )
    assert main(["validate", "p"]) == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]  # after the model's warning
    assert last == (
        "p/storyboard.yaml:8: size: variant 'native': OpenAI Sora 2 accepts sizes 1280x720, "
        "720x1280, got 640x480"
    )  # the variant's own line


DRAFTED = BOARD.split("variants:")[0] + "variants:\n  vertical: {size: 720x1280, reframe: crop}\n"


@pytest.fixture(scope="module")
def drafted_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose every film was rendered with ``render --variant all --draft``, once
    for the tests that only read it (status, plan)."""
    root = tmp_path_factory.mktemp("drafted")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("RUNWARE_API_KEY", raising=False)
        mp.chdir(root)
        write_project(root / "p", DRAFTED)
        assert main(["render", "p", "--variant", "all", "--draft", "--quiet"]) == 0
    return root / "p"


@pytest.fixture
def drafted(
    drafted_once: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Path:
    """:func:`drafted_once`, from its folder (the tests name it ``p``)."""
    monkeypatch.delenv("RUNWARE_API_KEY", raising=False)
    monkeypatch.chdir(drafted_once.parent)
    capsys.readouterr()
    return drafted_once


def test_status_judges_every_film_as_a_draft_with_draft(
    drafted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "p", "--draft"]) == 0  # hostile-31: the variants were judged in full
    films = [line for line in capsys.readouterr().out.splitlines() if line.startswith("film")]
    assert films == [
        f"film: up to date: {drafted / 'build' / 'tide.mp4'}",
        f"film (vertical): up to date: {drafted / 'build' / 'tide.vertical.mp4'}",
    ]


def test_status_all_shows_every_film(drafted: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "p", "--variant", "all", "--draft"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # it was refused, naming render_variants() (hostile-31)
    out = captured.out
    assert out.startswith("== main ==\n") and "\n== vertical ==\n" in out
    assert out.count("0 of 2 scenes stale") == 2
    films = [line for line in out.splitlines() if line.startswith("film")]
    assert films == [  # each film once, in its own part
        f"film: up to date: {drafted / 'build' / 'tide.mp4'}",
        f"film: up to date: {drafted / 'build' / 'tide.vertical.mp4'}",
    ]


def test_status_all_says_the_projects_money_once_after_the_films(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The journal is the project's: what was spent and what waits to be collected were
    printed again in every film's part, as if each film had spent it."""
    from storyboard.generate.state import BuildState

    monkeypatch.delenv("RUNWARE_API_KEY", raising=False)
    write_project(in_tmp / "p", DRAFTED)
    state = BuildState(in_tmp / "p")
    state.record_task("7a5b1c2d-0000-4000-8000-000000000000", "harbour", "k", None, {}, 0.4)
    state.mark("7a5b1c2d-0000-4000-8000-000000000000", "submitted")
    state.close()
    assert main(["status", "p", "--variant", "all"]) == 0
    out = capsys.readouterr().out
    assert out.count("2 of 2 scenes stale; next render: $0.80\n") == 2  # each film's own
    films, project = out.split("\nspent so far on this project: ")
    assert "paid but not collected" not in films and "\n== vertical ==\n" in films
    assert films.rstrip().splitlines()[-1].startswith("film: stale")
    assert project.startswith("$0.00\n\npaid but not collected yet")
    assert project.rstrip().endswith("harbour  task 7a5b1c2d  submitted  $0.40")
    assert main(["status", "p", "--variant", "vertical"]) == 0  # one film: as it was
    one = capsys.readouterr().out
    assert "2 of 2 scenes stale; next render: $0.80; spent so far on this project: $0.00" in one
    assert one.count("harbour  task 7a5b1c2d  submitted  $0.40") == 1


@pytest.mark.parametrize("name", ["main", "vertical"])
def test_plan_json_of_one_film_is_that_films_tasks(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    write_project(in_tmp / "p", BOARD)
    assert main(["plan", "p", "--json", "--variant", name]) == 0
    one = json.loads(capsys.readouterr().out)  # it printed the text table (hostile-31)
    assert [t["scene"] for t in one["tasks"]] == ["harbour", "storm"]
    assert one["total_cost"] == pytest.approx(0.8)


def test_plan_json_of_all_films_is_one_document(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_project(in_tmp / "p", BOARD)
    assert main(["plan", "p", "--json", "--variant", "all"]) == 0
    batch = json.loads(capsys.readouterr().out)
    films = {f["variant"]: f for f in batch["films"]}
    assert list(films) == ["main", "vertical", "native", "short"]
    assert films["vertical"]["size"] == "720x1280"
    assert films["vertical"]["shared"] == {"harbour": "main", "storm": "main"}
    assert films["vertical"]["adds"] == 0
    assert [t["scene"] for t in films["native"]["tasks"]] == ["harbour", "storm"]
    assert films["short"]["shared"] == {"harbour": "main"}
    assert batch["total_cost"] == pytest.approx(1.6)  # each shared scene counted once


def test_plan_variant_judges_drafts_with_draft(
    drafted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", "p", "--variant", "all", "--draft"]) == 0
    out = capsys.readouterr().out
    generated = [row for row in out.splitlines() if row.rstrip().endswith(" generate")]
    assert generated == [], out  # --draft was dropped: every scene planned again (hostile-31)
    assert out.rstrip().endswith("all 2 films: $0.00 (each shared scene counted once)")


def test_render_all_with_boards_cuts_each_films_animatic_and_no_film(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """hostile helper-41: `render --variant all --boards` bought each film's boards, then
    composed the films (no clip yet: exit 1) instead of cutting the animatics; with `--cache`
    one film's boards render composed its film."""
    write_project(in_tmp / "p", BOARD.replace("  short: {skip: [storm]}\n", ""))
    fast = ["--boards", "--draft", "--quiet", "--emulator-latency", "0.05"]
    assert main(["render", "p", "--variant", "all", *fast]) == 0
    out = capsys.readouterr().out
    build = in_tmp / "p" / "build"
    made = sorted(f.name for f in build.glob("*.mp4"))
    assert made == ["tide.animatic.mp4", "tide.native.animatic.mp4", "tide.vertical.animatic.mp4"]
    assert out.count("animatic: ") == 3, out
    for f in build.glob("*.mp4"):
        f.unlink()
    assert main(["render", "p", *fast, "--cache", str(in_tmp / "chunks")]) == 0
    err = capsys.readouterr().err
    assert "note: --on and --cache compose films; the animatics are cut here" in err
    assert sorted(f.name for f in build.glob("*.mp4")) == ["tide.animatic.mp4"]


def test_export_all_writes_each_films_timeline_beside_it(
    drafted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """hostile helper-45: the README lists `export --variant all`; it said "no variant 'all'"."""
    assert main(["export", "p", "--variant", "all", "--format", "edl"]) == 0
    written = capsys.readouterr().out.split()
    assert written == [
        str(drafted / "build" / "tide.edl"),
        str(drafted / "build" / "tide.vertical.edl"),
    ]
    assert all(Path(f).is_file() for f in written)


def test_a_take_made_for_another_film_is_named_for_it_not_called_stale(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """hostile helper-45: the main film listed the alt film's take of a scene it rewrites as
    "made from an earlier version of the scene" (stale): it is current, in the other film."""
    import storyboard

    monkeypatch.delenv("RUNWARE_API_KEY", raising=False)
    board = BOARD.split("variants:")[0] + (
        'variants:\n  alt: {scenes: {storm: {prompt: "A bigger storm."}}}\n'
    )
    p = write_project(in_tmp / "p", board)
    fast = ["--draft", "--quiet", "--no-compose", "--emulator-latency", "0.05"]
    assert main(["render", "p", "--variant", "all", *fast]) == 0
    capsys.readouterr()
    assert main(["takes", "p", "storm", "--draft"]) == 0
    out = capsys.readouterr().out
    rows = [line.split()[:3] for line in out.splitlines()[2:] if line[:1].isdigit()]
    assert rows == [["1*", "current", "openai:3@1"], ["2", "film", "alt"]], out
    assert "film NAME = current in that film (a variant)" in out
    takes = storyboard.load(p).takes("storm", draft=True)
    assert [(t.current, t.film) for t in takes] == [(True, None), (False, "alt")]
    alt = storyboard.load(p).variant("alt").takes("storm", draft=True)
    assert [(t.current, t.film) for t in alt] == [(False, "main"), (True, None)]
