"""Bad command-line values get one line and exit code 1, never a traceback."""

from __future__ import annotations

import pytest

from storyboard.cli.main import main

CASES = [
    (["emulator", "--port", "99999"], "--port: a port is 0 to 65535, got 99999"),
    (["emulator", "--port", "-1"], "--port: a port is 0 to 65535, got -1"),
    (["emulator", "--latency", "nan"], "--latency: expected seconds of 0 or more, got nan"),
    (
        ["emulator", "--fault", "{bad json"],
        "--fault: unknown fault kind '{bad json' (one of latency, status, drop, truncate, slow,"
        " error, nsfw)",
    ),
]


@pytest.mark.parametrize(
    ("argv", "expected"), CASES, ids=["port-high", "port-negative", "latency-nan", "fault-json"]
)
def test_bad_emulator_arguments(argv: list[str], expected: str, capsys) -> None:
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert err.strip() == expected


@pytest.mark.parametrize("budget", ["nan", "inf", "-1"])
def test_bad_budget_is_refused_before_anything_is_spent(budget: str, in_tmp, capsys) -> None:
    from helpers import write_project

    write_project(
        in_tmp / "p", "title: T\nscenes:\n  - {id: a, prompt: A kite over the sea., duration: 4}\n"
    )
    assert main(["render", "p", "--dry-run", "--budget", budget]) == 1
    shown = {"nan": "nan", "inf": "inf", "-1": "-1"}[budget]
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"--budget must be an amount of 0 or more dollars, got {shown}"
    )
