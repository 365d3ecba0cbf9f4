"""Bad command-line values get one line and exit code 1, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.cli.main import main

CASES = [
    (["emulator", "--port", "99999"], "--port: a port is 0 to 65535, got 99999"),
    (["emulator", "--port", "-1"], "--port: a port is 0 to 65535, got -1"),
    (["emulator", "--latency", "nan"], "--latency: expected seconds of 0 or more, got nan"),
    (
        ["emulator", "--fault", "{bad json"],
        "--fault: unknown fault kind '{bad json' (one of latency, status, cut, drop, truncate,"
        " slow, error, nsfw)",
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


@pytest.mark.parametrize("port", ["99999", "-1"])
def test_bad_review_port_is_one_line(port: str, in_tmp, capsys) -> None:
    from helpers import write_project

    write_project(
        in_tmp / "p", "title: T\nscenes:\n  - {id: a, prompt: A kite over the sea., duration: 4}\n"
    )
    assert main(["review", "p", "--port", port]) == 1
    assert capsys.readouterr().err.strip() == f"--port: a port is 0 to 65535, got {port}"


@pytest.mark.parametrize("jobs", ["0", "-1"])
@pytest.mark.parametrize("watch", [False, True], ids=["render", "watch"])
def test_bad_jobs_is_refused(jobs: str, watch: bool, in_tmp, capsys) -> None:
    from helpers import write_project

    write_project(
        in_tmp / "p", "title: T\nscenes:\n  - {id: a, prompt: A kite over the sea., duration: 4}\n"
    )
    argv = ["render", "p", "--draft", "--jobs", jobs] + (["--watch"] if watch else [])
    assert main(argv) == 1
    assert capsys.readouterr().err.strip() == (
        f"--jobs: scenes generated at once is 1 or more, got {jobs}"
    )
    assert not (in_tmp / "p" / "build").exists()  # refused before anything was started


EXPORT_BOARD = (
    "title: T\nscenes:\n"
    "  - {id: a, prompt: A kite over the sea., duration: 4, first_frame: assets/start.png}\n"
)


@pytest.mark.parametrize(
    ("target", "what"),
    [
        ("storyboard.yaml", "the storyboard"),
        ("storyboard.lock", "the lock file"),
        ("build/journal.sqlite", "the build state (journal, takes, caches)"),
        ("build/takes/a/take-1.mp4", "the build state (journal, takes, caches)"),
        ("templates/cut.edl", "the prompt templates"),
        ("assets/start.png", "an input of the film (scenes[0].first_frame)"),
    ],
)
def test_export_never_overwrites_the_project(target: str, what: str, in_tmp, capsys) -> None:
    from helpers import png_bytes, write_project

    proj = write_project(in_tmp / "p", EXPORT_BOARD, {"assets/start.png": png_bytes()})
    before = {f: f.read_bytes() for f in proj.rglob("*") if f.is_file()}
    assert main(["export", "p", "--format", "edl", "-o", f"p/{target}"]) == 1
    assert capsys.readouterr().err.strip() == (
        f"--output: 'p/{target}' would overwrite {what}; name a new file such as cut.edl"
    )
    assert {f: f.read_bytes() for f in before} == before


@pytest.mark.parametrize("command", [["pick", "a", "1"], ["takes", "a"]])
def test_a_one_film_command_refuses_all_in_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """hostile helper-54: `pick --variant all` answered "variants: no variant 'all'" at the
    storyboard's line, and `pick --help` offered `all`."""
    from helpers import write_project

    from storyboard.cli.main import main

    p = write_project(
        tmp_path / "p",
        "title: T\nmodel: google:3@3\nsize: 1280x720\nscenes:\n  - {id: a, prompt: a kite, "
        "duration: 4}\nvariants:\n  v: {size: 720x1280, reframe: crop}\n",
    )
    name = command[0]
    assert main([name, str(p), *command[1:], "--variant", "all"]) == 1
    err = capsys.readouterr().err
    assert f"`storyboard {name}` works on one film: --variant main or a variant's name" in err
    with pytest.raises(SystemExit):
        main([name, "--help"])
    assert "or all" not in capsys.readouterr().out
