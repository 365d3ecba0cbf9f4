"""Text the service would refuse is refused by validate first, at its line (hostile finding H6:
a whitespace-only line and a NUL in a description passed validate and failed at the service
on every render, with advice to render again)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_project

from storyboard.board.spec import load_project
from storyboard.errors import SpecError

TEXT = """
title: C6
model: google:3@3
narrator: {model: xai:tts@0, voice: Sal}
vars: {mood: "calm \\x07 bell"}
cast:
  m1: {description: "Wren \\0 nul", voice: {model: xai:tts@0, voice: Eve}}
  m2: {description: "   ", voice: {model: xai:tts@0, voice: Eve}}
defaults: {duration: 4}
scenes:
  - id: a
    prompt: "{{ cast.m1 }} waits"
    dialogue:
      - {who: m1, line: "   "}
      - {who: m1, line: "\\0\\0"}
      - {who: m1, line: "Fine.\\tReally.\\nYes."}
    narration: ["  \\t "]
"""


def test_blank_text_and_control_characters_are_errors_at_their_lines(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", TEXT)
    with pytest.raises(SpecError) as e:
        load_project(root)
    found = [str(p) for p in e.value.problems]
    expect = {
        "vars": "control character",  # at the line of `vars:`
        "cast.m1.description": "control character",
        "cast.m2.description": "blank",
        "scenes[0].dialogue[0].line": "blank",
        "scenes[0].dialogue[1].line": "control character",
        "scenes[0].narration[0].line": "blank",
    }
    for field, words in expect.items():
        assert any(f": {field}: " in p and words in p for p in found), (field, found)
    assert not any("dialogue[2]" in p for p in found)  # tabs and newlines are text
    assert len(found) == len(expect), found


@pytest.mark.parametrize(
    "invisible",
    [
        "\\u200b",
        "\\u200b\\u2060 \\ufeff",
        "\\u00a0\\u3000",
        "\\u2800",
        "\\u3164\\u115f",
        "\\u034f\\u180e",
    ],
)
def test_a_line_of_invisible_characters_is_blank(tmp_path: Path, invisible: str) -> None:
    """hostile helper-47 10: a zero-width space passed as a line, priced and voiced."""
    text = (
        "title: Z\nmodel: google:3@3\n"
        "cast:\n  m1: {description: Wren, voice: {model: xai:tts@0, voice: Eve}}\n"
        "scenes:\n  - {id: a, duration: 4, prompt: x, "
        f'dialogue: [{{who: m1, line: "{invisible}"}}]}}\n'
    )
    root = write_project(tmp_path / "p", text)
    with pytest.raises(SpecError) as e:
        load_project(root)
    found = [str(p) for p in e.value.problems]
    assert any(": scenes[0].dialogue[0].line: " in p and "blank" in p for p in found), found


def test_an_empty_scene_model_is_an_error_at_its_line(tmp_path: Path) -> None:
    """hostile helper-47 11: `model: ""` on a scene fell back to the film's model silently
    (helper-49: and `model: "  "` was an unknown model)."""
    root = write_project(
        tmp_path / "p",
        'title: M\nmodel: google:3@3\nscenes:\n  - {id: a, duration: 4, prompt: x, model: ""}\n'
        '  - {id: b, duration: 4, prompt: x, model: "  "}\n',
    )
    with pytest.raises(SpecError) as e:
        load_project(root)
    found = [str(p) for p in e.value.problems]
    assert any(":4: scenes[0].model: must not be empty" in p for p in found), found
    assert any(":5: scenes[1].model: must not be empty" in p for p in found), found


@pytest.mark.parametrize(
    ("air", "words"),
    [
        ("bfl:6@1", "'bfl:6@1' is an image model, not a video model: set it as `image_model:`"),
        ("xai:tts@0", "'xai:tts@0' is an audio model (speech), not a video model"),
    ],
)
def test_an_image_or_audio_model_as_the_video_model_says_what_it_is(
    tmp_path: Path, air: str, words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """hostile helper-47 14: `model: bfl:6@1` was 'unknown model; did you mean bria:60@1?'."""
    from storyboard.cli.main import main

    root = write_project(
        tmp_path / "p", f"title: M\nmodel: {air}\nscenes:\n  - {{id: a, duration: 4, prompt: x}}\n"
    )
    assert main(["validate", str(root)]) == 1
    err = capsys.readouterr().err
    assert words in err and "did you mean" not in err and "Traceback" not in err, err


def test_a_price_on_a_scene_whose_model_has_a_published_price_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """hostile helper-47 12: `price:` on google:3@3 was ignored without a word (the README:
    only for a model whose price no source gives)."""
    from storyboard.cli.main import main

    root = write_project(
        tmp_path / "p",
        "title: M\nmodel: google:3@3\nsize: 1280x720\n"
        "scenes:\n  - {id: a, duration: 4, prompt: a kite, price: 0.01}\n",
    )
    assert main(["validate", str(root)]) == 0
    err = capsys.readouterr().err
    assert "p/storyboard.yaml:5: warning: scene 'a':" in err, err
    assert "has a published price; this `price:` is not used" in err, err


def test_a_refused_cast_member_is_one_problem_not_three(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """hostile helper-47 13: `cast: {wren: {}}` also said `unknown cast member 'wren'` (it
    is in the cast) and `undefined variable 'cast'` in the prompt that names it."""
    from storyboard.cli.main import main

    root = write_project(
        tmp_path / "p",
        "title: C\nmodel: google:3@3\ncast:\n  wren: {}\n  tom: {description: a fisherman}\n"
        'scenes:\n  - {id: a, duration: 4, cast: [wren, tom], prompt: "{{ cast.wren }} climbs"}\n'
        "  - {id: b, duration: 4, cast: [nobody], prompt: a boat}\n",
    )
    assert main(["validate", str(root)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].endswith(
        "p/storyboard.yaml:4: cast.wren: a cast member needs a 'description' (or, for a voice "
        "only, 'voice')"
    ), err
    assert "unknown cast member 'nobody'" in err[1], err  # a name not in the cast still is
    assert len(err) == 2, err


def test_a_variable_an_imported_template_cannot_see_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """hostile helper-53: a template importing the shared shot.j2 got "undefined variable
    'subject' ...; did you mean 'subject'?". An import does not pass the scene's variables
    unless it says ``with context``; the message now says so, and that import validates."""
    from storyboard.cli.main import main

    root = write_project(
        tmp_path / "p",
        "title: M\nmodel: google:3@3\nsize: 1280x720\n"
        "scenes:\n  - {id: a, duration: 4, template: mine.j2, subject: a kite}\n",
        {"templates/mine.j2": "{% import 'shot.j2' as s %}{{ s }}\n"},
    )
    assert main(["validate", str(root)]) == 1
    err = capsys.readouterr().err
    assert "undefined variable 'subject'" in err and "did you mean" not in err, err
    assert "import it with context" in err, err
    (root / "templates/mine.j2").write_text("{% import 'shot.j2' as s with context %}{{ s }}\n")
    assert main(["validate", str(root)]) == 0
