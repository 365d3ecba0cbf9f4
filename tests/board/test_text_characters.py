"""Characters no text means (hostile helper-62): a lone surrogate ("\\ud800", a YAML escape
PyYAML accepts) passed validate in the title, a speaker's name or a prompt, then broke every
place the text is encoded; C1 control characters passed the rule C0 ones meet."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_project

from storyboard.board.spec import load_project
from storyboard.errors import SpecError

BOARD = """
title: "Film \\ud800"
model: google:3@3
scenes:
  - {id: a, duration: 4, prompt: a red kite, dialogue: [{who: "W\\ud800", line: "ok"}]}
"""


def test_a_lone_surrogate_is_an_error_at_its_line(tmp_path: Path) -> None:
    """A dialogue `line` with one is refused at validate; `title` and `who` were not: then
    `storyboard export` died with a TypeError traceback in otio.schema.Timeline(name=...) and
    the review page's /api/state answered 500 (UnicodeEncodeError in the server's log)."""
    p = write_project(tmp_path / "p", BOARD)
    with pytest.raises(SpecError) as e:
        load_project(p)
    found = [str(x) for x in e.value.problems]
    assert any(":1: title:" in f for f in found), found
    assert any("dialogue[0].who" in f for f in found), found


def test_export_of_such_a_title_is_one_message_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from storyboard.cli.main import main

    p = write_project(tmp_path / "p", BOARD)
    main(["render", str(p), "--draft", "--quiet", "--emulator-latency", "0.05"])
    capsys.readouterr()
    code = main(["export", str(p), "--format", "otio"])  # raised TypeError
    err = capsys.readouterr().err
    assert code != 0 and "Traceback" not in err


def test_a_lone_surrogate_in_a_prompt_is_refused_like_one_in_the_negative_prompt(
    tmp_path: Path,
) -> None:
    """`negative_prompt: "n\\ud800"` is refused at its line ('not accepted here (string
    unicode)'), but the same in `prompt` (or in a var the prompt template reads) validates,
    plans and is sent in the same request as positivePrompt."""
    p = write_project(
        tmp_path / "p",
        """
        title: T
        model: google:3@3
        scenes:
          - {id: a, duration: 4, prompt: "a red kite \\ud800"}
        """,
    )
    with pytest.raises(SpecError) as e:
        load_project(p)
    assert any("scenes[0].prompt" in str(x) for x in e.value.problems)


@pytest.mark.parametrize("ch", ["\\x9b", "\\x85", "\\x90"])
def test_a_c1_control_character_is_an_error_like_a_c0_one(tmp_path: Path, ch: str) -> None:
    """U+009B (a terminal's escape), U+0085 (a line break to an EDL reader), U+0090: errors at
    their lines in the title and in dialogue alike, as U+001B is."""
    p = write_project(
        tmp_path / "p",
        f"""
        title: "T{ch}x"
        model: google:3@3
        scenes:
          - {{id: a, duration: 4, prompt: a red kite, dialogue: [{{who: Ann, line: "x{ch}y"}}]}}
        """,
    )
    with pytest.raises(SpecError) as e:
        load_project(p)
    found = [str(x) for x in e.value.problems]
    assert any("title: contains a control character" in f for f in found), found
    assert any("dialogue[0].line: contains a control character" in f for f in found), found
