from __future__ import annotations

import json
from pathlib import Path

import pytest
from broken_cases import CASES
from helpers import REPO, write_project

from storyboard.board.spec import json_schema, load_project
from storyboard.cli.main import main
from storyboard.errors import SpecError

GOLDEN = json.loads((Path(__file__).parents[1] / "golden" / "broken.json").read_text())


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 30
    assert set(GOLDEN) == {c[0] for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_broken_storyboard_gets_its_pinned_message(case, in_tmp: Path, capsys) -> None:
    cid, text, files, _ = case
    write_project(in_tmp / "proj", text, files)
    code = main(["validate", "proj"])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert "Traceback" not in err
    assert err.strip().replace(str(REPO) + "/", "<repo>/") == GOLDEN[cid]
    # every line names the file and (where there is one) the line
    for line in err.strip().splitlines():
        assert line.startswith(("proj/", "<repo>/", str(REPO)))


def test_ok_storyboard_validates(in_tmp: Path, capsys) -> None:
    write_project(
        in_tmp / "p",
        """
        title: T
        scenes:
          - {id: a, prompt: A red kite over a grey sea., duration: 8}
    """,
    )
    assert main(["validate", "p"]) == 0
    assert capsys.readouterr().out.strip() == (
        "p/storyboard.yaml: OK (1 scenes, 8 s, $0.80 to generate everything)"
    )


def test_defaults_apply_and_scene_wins(in_tmp: Path) -> None:
    write_project(
        in_tmp / "p",
        """
        title: T
        defaults: {duration: 4, style: noir}
        scenes:
          - {id: a, prompt: x y}
          - {id: b, prompt: x y, duration: 12}
    """,
    )
    board = load_project("p").board
    assert [s.duration for s in board.scenes] == [4, 12]
    assert board.scenes[0].style == "noir"


def test_continuity_shorthands(in_tmp: Path) -> None:
    write_project(
        in_tmp / "p",
        """
        title: T
        scenes:
          - {id: a, prompt: x y, duration: 4}
          - {id: b, prompt: x y, duration: 4, continuity: extend, transition: crossfade}
          - {id: c, prompt: x y, duration: 4, continuity: {mode: last_frame, from: a}, trim: [1, 3]}
    """,
    )
    s = load_project("p").board.scenes
    assert s[1].continuity is not None and s[1].continuity.mode == "extend"
    assert s[1].transition is not None and s[1].transition.type == "crossfade"
    assert s[2].continuity is not None and s[2].continuity.from_ == "a"
    assert s[2].trim is not None and (s[2].trim.in_, s[2].trim.out) == (1, 3)


def test_missing_project_is_a_clear_error(in_tmp: Path) -> None:
    with pytest.raises(SpecError, match="no such storyboard file"):
        load_project("nowhere")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            "title: Caf\u00e9\nscenes:\n  - {id: a, prompt: x}\n".encode("latin-1"),
            "proj/storyboard.yaml:1: not UTF-8 text (byte 0xe9 at column 11); save the file as "
            "UTF-8",
        ),
        (
            b'title: T\nscenes:\n  - id: a\n    prompt: "a caf\xe9 at dusk"\n',
            "proj/storyboard.yaml:4: not UTF-8 text (byte 0xe9 at column 19); save the file as "
            "UTF-8",
        ),
    ],
    ids=["first-line", "fourth-line"],
)
def test_a_file_that_is_not_utf8_names_the_line_of_the_bad_byte(
    in_tmp: Path, capsys, data: bytes, expected: str
) -> None:
    """Hostile fix-44 P5: a Latin-1 storyboard was `cannot read file: 'utf-8' codec can't
    decode byte 0xe9 in position 11`, with no line."""
    (in_tmp / "proj").mkdir()
    (in_tmp / "proj" / "storyboard.yaml").write_bytes(data)
    assert main(["validate", "proj"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.strip() == expected, err


def test_a_storyboard_file_that_is_a_folder_is_said_to_be_one(in_tmp: Path, capsys) -> None:
    """Hostile fix-44 P6: `proj/storyboard.yaml/` (a folder) was reported as
    `proj/storyboard.yaml/storyboard.yaml: no such storyboard file`."""
    (in_tmp / "proj" / "storyboard.yaml").mkdir(parents=True)
    for given in ("proj", "proj/storyboard.yaml"):
        assert main(["validate", given]) == 1
        out, err = capsys.readouterr()
        assert out == "" and err.strip() == (
            "proj/storyboard.yaml: is a folder, not a storyboard file (expected "
            "PROJECT/storyboard.yaml; try `storyboard init NAME`)"
        ), err


def test_schema_is_json_schema_with_descriptions(capsys) -> None:
    schema = json_schema()
    assert schema["title"] == "storyboard.yaml"
    scene = schema["$defs"]["Scene"]
    assert scene["additionalProperties"] is False
    assert all("description" in v for k, v in scene["properties"].items())
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out)["properties"]["scenes"]


def test_init_creates_a_storyboard_that_validates(in_tmp: Path, capsys) -> None:
    assert main(["init", "projects/new-film"]) == 0
    capsys.readouterr()
    assert main(["validate", "projects/new-film"]) == 0
    assert "OK" in capsys.readouterr().out
    assert main(["init", "projects/new-film"]) == 1
    assert "already exists" in capsys.readouterr().err


def test_example_projects_validate(capsys) -> None:
    projects = sorted(p for p in (REPO / "projects").iterdir() if (p / "storyboard.yaml").is_file())
    assert projects
    for p in projects:
        assert main(["validate", str(p)]) == 0, capsys.readouterr().err
