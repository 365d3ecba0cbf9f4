"""``--variant`` and ``--on`` on the command line: plans, refusals, and one message each."""

from __future__ import annotations

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
    assert ["vertical", "1280x720", "2", "2", "$0.00"] in rows  # the reframe adds nothing
    # native regenerates both; short shares harbour with main
    assert out.rstrip().endswith("all 4 films: $1.60 (each shared scene counted once)")
    assert not (in_tmp / "p" / "build").exists()  # a plan writes nothing


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
        (["export", "p", "--variant", "all"], "no variant 'all'"),
    ],
    ids=["unknown-variant", "unknown-executor", "address-without-port", "retake-all", "export-all"],
)
def test_bad_arguments_are_one_message_and_spend_nothing(
    in_tmp: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    write_project(in_tmp / "p", BOARD)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err, err
    assert "Traceback" not in err
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
        "  (or: pip install 'ray>=2.9')"
    )
    assert not (in_tmp / "p" / "build" / "journal.sqlite").exists()  # nothing generated first


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
