"""First contact with the command line: pipes, exact option names, `init` for editors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from storyboard.board.scaffold import SCHEMA_FILE
from storyboard.board.schema import json_schema
from storyboard.board.spec import load_project
from storyboard.cli.main import build_parser, main


@pytest.mark.parametrize(
    "argv",
    [["schema"], ["--help"], ["plan", "p"]],
    ids=" ".join,
)
def test_a_closed_pipe_is_not_a_traceback(argv: list[str], tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "storyboard.yaml").write_text(
        "title: T\nmodel: openai:3@2\nscenes: [{id: a, prompt: xx, duration: 8}]\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "storyboard", *argv],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # `| head` that has already gone: every write hits a closed pipe
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert proc.returncode in (0, 141)  # argparse's help ignores a closed pipe itself


def _parsers(parser=None):  # type: ignore[no-untyped-def]
    import argparse

    parser = parser or build_parser()
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from _parsers(child)


def test_abbreviated_options_are_refused(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as e:
        main(["plan", str(tmp_path), "--retak", "deck"])
    assert e.value.code == 2
    assert "unrecognized arguments: --retak deck" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["render", str(tmp_path), "--retak", "deck", "--dry-run"])
    assert "unrecognized arguments: --retak deck" in capsys.readouterr().err


def test_no_parser_accepts_abbreviations() -> None:
    from storyboard.cli.main import no_abbreviations

    parser = build_parser()
    no_abbreviations(parser)
    parsers = list(_parsers(parser))
    assert len(parsers) > 10
    assert all(p.allow_abbrev is False for p in parsers)


TITLES = [
    "Back\\",
    'She said "no"',
    "It's here",
    "Part 2: the return",
    "Take #1",
    "two\nlines",
    "été – 東京 🎬",
    "- dash",
    "[brackets] {braces}",
    "@at `tick` %pct &amp *star !bang |pipe >gt",
    "yes",
    "1984",
    "",
]


@pytest.mark.parametrize("title", TITLES, ids=range(len(TITLES)))
def test_init_writes_any_title_so_that_it_reads_back(title: str, in_tmp: Path, capsys) -> None:
    assert main(["init", "film", "--title", title]) == 0
    capsys.readouterr()
    assert load_project("film").board.title == title


def test_init_points_editors_at_a_schema_beside_the_storyboard(in_tmp: Path, capsys) -> None:
    assert main(["init", "film"]) == 0
    text = (in_tmp / "film" / "storyboard.yaml").read_text()
    assert text.splitlines()[0] == f"# yaml-language-server: $schema={SCHEMA_FILE}"
    schema = json.loads((in_tmp / "film" / SCHEMA_FILE).read_text())
    assert schema == json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert main(["validate", "film"]) == 0
    capsys.readouterr()


def test_the_written_schema_checks_storyboards(in_tmp: Path, capsys) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    assert main(["init", "film"]) == 0
    schema = json.loads((in_tmp / "film" / SCHEMA_FILE).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    starter = yaml.safe_load((in_tmp / "film" / "storyboard.yaml").read_text())
    jsonschema.validate(starter, schema)  # the starter passes in an editor too
    bad = dict(starter, defualts={})
    with pytest.raises(jsonschema.ValidationError, match="defualts"):
        jsonschema.validate(bad, schema)
    short = dict(starter, edit={"transition": "fade", "captions": False, "loudness": False})
    short["scenes"] = [dict(s, continuity="extend", trim=[1, 2]) for s in starter["scenes"]]
    jsonschema.validate(short, schema)


def test_a_model_warning_is_printed_once_per_project(
    in_tmp: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RUNWARE_API_KEY", raising=False)
    (in_tmp / "p").mkdir()
    (in_tmp / "p" / "storyboard.yaml").write_text(
        "title: T\nmodel: openai:3@1\nscenes: [{id: a, prompt: xx, duration: 8}]\n"
    )
    assert main(["plan", "p"]) == 0
    first = capsys.readouterr().err
    assert "p/storyboard.yaml: warning: model openai:3@1 (OpenAI Sora 2) is deprecated" in first
    assert main(["plan", "p"]) == 0
    assert capsys.readouterr().err == ""  # the second plan is quiet
    assert main(["validate", "p"]) == 0
    assert "warning" in capsys.readouterr().err  # validate reports everything, every time
    # with a real key a render would be refused: the warning is repeated every time
    monkeypatch.setenv("RUNWARE_API_KEY", "k-test")
    assert main(["plan", "p"]) == 0
    assert capsys.readouterr().err == first


def test_a_removed_working_folder_is_one_message(tmp_path: Path) -> None:
    """hostile helper-51: run from a folder removed since (a shell left in a deleted build
    tree), any command ended in a traceback from ``Path.cwd()``; now one line says why.
    ``--version`` needs no folder and still answers."""
    project = Path(__file__).resolve().parents[2] / "projects" / "lighthouse"
    gone = tmp_path / "gone"
    gone.mkdir()
    code = (
        "import os, sys\n"
        "os.chdir(sys.argv[1]); os.rmdir(sys.argv[1])\n"
        "from storyboard.cli.main import main\n"
        "sys.exit(main(sys.argv[2:]))\n"
    )

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", code, str(gone), *argv],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    validate = run("validate", str(project))
    assert validate.returncode == 1, validate.stderr
    assert "Traceback" not in validate.stderr
    assert "current folder no longer exists" in validate.stderr
    gone.mkdir()
    version = run("--version")
    assert version.returncode == 0 and "Traceback" not in version.stderr
