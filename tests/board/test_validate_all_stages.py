"""``validate`` reports every problem of every stage in one run (issue 15, hostile F3): the
schema, the input files, the prompts and templates, the model rules. A field that failed the
schema is left out of the later stages' checks (no follow-on noise); the rest is still checked."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from helpers import png_bytes, write_project

from storyboard.cli.main import main

BOARD = """\
title: V
model: openai:3@1
defaults: {duration: 4}
scenes:
  - id: a
    prompt: A kite over the sea.
    first_frame: assets/text.png
  - id: b
    prompt: A kite over the sand.
    first_frame: assets/out.png
  - id: c
    prompt: A kite over the town.
    first_frame: ../outside/secret.txt
  - id: d
    prompt: A kite over the hills.
    first_frame: /dev/zero
  - id: e
    prompt: "{{ nope }} over the bay."
    duration: 5
  - id: f
    prompt: A kite in the rain.
    trim: {in: 3, out: 1}
  - id: g
    prompt: A kite at night.
    duration: [4]
edit: {music: {file: assets/tune.mp3, volume: -2}, loudness: 99}
output: {fps: 0}
"""

LINE = re.compile(r"^proj/storyboard\.yaml:\d+: [a-z_]+(\[\d+\])?(\.[a-z_]+(\[\d+\])?)*: \S")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("secret\n")
    root = write_project(
        tmp_path / "proj",
        BOARD,
        {"assets/text.png": "hello, not an image\n", "assets/tune.mp3": png_bytes()},
    )
    os.symlink(tmp_path / "outside" / "secret.txt", root / "assets" / "out.png")
    return root


def test_every_stage_reports_in_one_run(project: Path, capsys) -> None:
    assert main(["validate", "proj"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    for line in lines:
        assert LINE.match(line), line
    text = "\n".join(lines)
    expected = [
        # the schema
        "scenes[5].trim: trim.out (1.0) must be after trim.in (3.0)",
        "scenes[6].duration:",
        "edit.music.volume:",
        "edit.loudness:",
        "output.fps:",
        # the input files
        "scenes[0].first_frame: 'assets/text.png' is not an image",
        "scenes[1].first_frame: 'assets/out.png' is outside the project folder",
        "scenes[2].first_frame: '../outside/secret.txt' is outside the project folder",
        "scenes[3].first_frame: '/dev/zero' is outside the project folder",
        "edit.music.file: 'assets/tune.mp3' has no audio stream",
        # the prompts and templates
        "scenes[4].prompt:",
        # the model rules
        "scenes[4].duration: scene 'e': OpenAI Sora 2 accepts durations",
    ]
    for want in expected:
        assert want in text, f"missing {want!r} in:\n{text}"
    assert "'nope'" in text or "nope" in text


def test_a_field_that_failed_the_schema_is_not_checked_again(project: Path, capsys) -> None:
    """scene g's duration is a list: one schema problem, no model-rule problem about the
    duration it fell back to; scene f's bad trim leaves its prompt and files checked."""
    assert main(["validate", "proj"]) == 1
    err = capsys.readouterr().err
    assert err.count("scenes[6].duration") == 1, err
    assert err.count("scenes[5].trim") == 1, err


def test_broken_scenes_leave_the_others_checked(tmp_path: Path, monkeypatch, capsys) -> None:
    """A scene without an id, one that is not a mapping and one with an unknown model: the
    other scenes' model rules are still checked, and a scene without an id is named by its
    place, never by a stand-in."""
    monkeypatch.chdir(tmp_path)
    write_project(
        tmp_path / "proj",
        "title: T\nscenes:\n"
        "  - {prompt: A kite over the sea., duration: 5}\n"
        "  - hello\n"
        "  - {id: c, prompt: A kite on the sand., model: nope:1@1}\n"
        "  - {id: d, prompt: A kite in the rain., duration: 7}\n",
    )
    assert main(["validate", "proj"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "unchecked" not in err, err
    assert "proj/storyboard.yaml:3: scenes[0].id: required key 'id' is missing" in err
    assert "scenes[0].duration: scenes[0] (no usable id): OpenAI Sora 2 accepts durations" in err
    assert "proj/storyboard.yaml:4: scenes[1]: expected a mapping" in err
    assert "scenes[2].model: unknown model 'nope:1@1'" in err
    assert "scenes[3].duration: scene 'd': OpenAI Sora 2 accepts durations" in err


VARIANTS = """\
title: VS
model: bytedance:seedance@2.5
size: 1280x720
scenes:
  - {id: a, prompt: a lighthouse, duration: 2}
  - {id: b, prompt: a boat, duration: 4, first_frame: assets/missing.png}
variants:
  fr: {skip: [nope]}
  Bad: {}
"""


@pytest.mark.parametrize("bad_name", [True, False], ids=["bad-variant-name", "names-fine"])
def test_variants_files_and_model_rules_in_one_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, bad_name: bool
) -> None:
    """A variant's name, a variant's own problem, a missing file and a model rule: every one
    in the first run, each at its line (hostile fix-44 P1: the variants were checked only once
    the main film had no problem, the model rules only when the schema had one)."""
    monkeypatch.chdir(tmp_path)
    board = VARIANTS if bad_name else VARIANTS.replace("  Bad: {}\n", "")
    write_project(tmp_path / "vs", board)
    assert main(["validate", "vs"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    expected = [
        "vs/storyboard.yaml:5: scenes[0].duration: scene 'a': ByteDance Seedance 2.5 accepts "
        "durations of 4 to 30 whole seconds, got 2",
        "vs/storyboard.yaml:6: scenes[1].first_frame: image not found: assets/missing.png",
        "vs/storyboard.yaml:8: variants.fr.skip: no scene 'nope' to skip (scenes: a, b)",
    ]
    if bad_name:
        expected.append("vs/storyboard.yaml:9: variants.Bad: 'Bad' is not a slug")
    for want in expected:
        assert want in err, f"missing {want!r} in:\n{err}"
    assert len(err.strip().splitlines()) == len(expected), err  # nothing said twice


def test_every_bad_variant_name_in_one_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """A reserved name, a name that is not a slug and one YAML reads as a number: all three,
    each at its own line, with the other variants' problems."""
    monkeypatch.chdir(tmp_path)
    write_project(
        tmp_path / "v2",
        """\
        title: V2
        model: bytedance:seedance@2.5
        scenes:
          - {id: a, prompt: a lighthouse, duration: 4}
        variants:
          main: {}
          Bad Name: {}
          2024: {}
          fr: {skip: [nope]}
        """,
    )
    assert main(["validate", "v2"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for want in [
        "v2/storyboard.yaml:6: variants.main: 'main' is reserved",
        "v2/storyboard.yaml:7: variants.Bad Name: 'Bad Name' is not a slug",
        "v2/storyboard.yaml:8: variants: variant name 2024 is a number to YAML",
        "v2/storyboard.yaml:9: variants.fr.skip: no scene 'nope' to skip (scenes: a)",
    ]:
        assert want in err, f"missing {want!r} in:\n{err}"


def test_model_rules_of_the_main_film_and_its_variants_in_one_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """A file the schema accepts: the main film's model rules and a variant's own, together;
    the main film's problem is not repeated for the variant."""
    monkeypatch.chdir(tmp_path)
    write_project(
        tmp_path / "v3",
        """\
        title: V3
        model: bytedance:seedance@2.5
        scenes:
          - {id: a, prompt: a lighthouse, duration: 2}
          - {id: b, prompt: a boat, duration: 4}
        variants:
          fr:
            scenes: {b: {duration: 3}}
        """,
    )
    assert main(["validate", "v3"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines == [
        "v3/storyboard.yaml:4: scenes[0].duration: scene 'a': ByteDance Seedance 2.5 accepts "
        "durations of 4 to 30 whole seconds, got 2",
        "v3/storyboard.yaml:8: scenes[1].duration: variant 'fr': scene 'b': "
        "ByteDance Seedance 2.5 accepts durations of 4 to 30 whole seconds, got 3",
    ], err


@pytest.mark.parametrize(
    "other",
    ["", "output: {fps: 0}\n"],
    ids=["alone", "beside-a-schema-problem"],
)
def test_an_unknown_cast_member_is_reported_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, other: str
) -> None:
    """Hostile fix-44 P3: a scene's unknown cast member, read by its prompt too, was said twice
    (`unknown cast member 'nobody' (cast: ...)` by the cast check, `'nobody' is not in cast;
    known: ...` by the prompt's): once, by the cast check."""
    monkeypatch.chdir(tmp_path)
    write_project(
        tmp_path / "c",
        """\
        title: C
        model: bytedance:seedance@2.5
        cast:
          wren: {description: an old woman}
        scenes:
          - id: a
            cast: [wren, nobody]
            prompt: "{{ cast.nobody }} climbs the stair"
            duration: 4
        """
        + other,
    )
    assert main(["validate", "c"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.count("nobody") == 1, err
    assert (
        "c/storyboard.yaml:7: scenes[0].cast[1]: scene 'a': unknown cast member 'nobody' "
        "(cast: wren)" in err
    ), err


def test_the_storyboards_problems_come_before_a_templates_in_line_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """hostile helper-54: problems were sorted by line number whatever their file, so a
    template's line 3 came before the storyboard's line 6."""
    monkeypatch.chdir(tmp_path)
    write_project(
        tmp_path / "proj",
        "title: T\nmodel: google:3@3\nsize: 1280x720\nscenes:\n"
        "  - {id: a, template: bad.j2, duration: 4}\n"
        "  - {id: b, prompt: A kite., duration: 5}\n",
        {"templates/bad.j2": "line one\nline two\n{{ nope( }}\n"},
    )
    assert main(["validate", "proj"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert [line.split(":")[0:2] for line in err] == [
        ["proj/storyboard.yaml", "6"],
        ["proj/templates/bad.j2", "3"],
    ], err
