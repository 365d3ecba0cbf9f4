"""First contact: what a new user meets in the first minutes (README example, typos, messages)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from helpers import REPO, wav_bytes, write_project

from storyboard.board.spec import load_project
from storyboard.cli.main import main
from storyboard.errors import PlanError, SpecError

README_YAML = re.findall(r"```yaml\n(.*?)```", (REPO / "README.md").read_text(), re.S)


def _storyboard_blocks() -> list[str]:
    return [b for b in README_YAML if re.search(r"^scenes:", b, re.M)]


def test_readme_has_storyboard_examples() -> None:
    assert _storyboard_blocks()


@pytest.mark.parametrize("n", range(len(_storyboard_blocks())))
def test_readme_storyboard_example_validates(n: int, in_tmp: Path, capsys) -> None:
    # the README points at projects/lighthouse for its assets and templates
    shutil.copytree(REPO / "projects" / "lighthouse", in_tmp / "film")
    (in_tmp / "film" / "storyboard.yaml").write_text(_storyboard_blocks()[n], encoding="utf-8")
    code = main(["validate", "film"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.startswith("film/storyboard.yaml: OK")
    assert all(": warning: " in line for line in err.splitlines())  # e.g. a retired model


def test_a_scene_prompt_overrides_defaults_template(in_tmp: Path) -> None:
    write_project(
        in_tmp / "p",
        """
        title: T
        defaults: {template: shot.j2, duration: 4, vars: {place: pier, cast: []}}
        scenes:
          - {id: a, subject: a pier at dawn}
          - {id: b, prompt: "An inline prompt about {{ place }}.", vars: {cast: [x]}}
        """,
    )
    s = load_project("p").board.scenes
    assert (s[0].template, s[0].prompt) == ("shot.j2", None)
    assert (s[1].template, s[1].prompt) == (None, "An inline prompt about {{ place }}.")
    assert s[1].vars == {"place": "pier", "cast": ["x"]}  # vars merge key by key


def test_a_scene_template_overrides_defaults_prompt(in_tmp: Path) -> None:
    write_project(
        in_tmp / "p",
        """
        title: T
        defaults: {prompt: "A grey sea.", duration: 4}
        scenes:
          - {id: a}
          - {id: b, template: shot.j2, subject: a red kite}
        """,
    )
    s = load_project("p").board.scenes
    assert (s[0].template, s[0].prompt) == (None, "A grey sea.")
    assert (s[1].template, s[1].prompt) == ("shot.j2", None)


def _messages(text: str, in_tmp: Path, files: dict[str, str | bytes] | None = None) -> list[str]:
    write_project(in_tmp / "p", text, files)
    with pytest.raises((SpecError, PlanError)) as e:
        from storyboard.plan.compile import compile_project

        compile_project(load_project("p"))
    return str(e.value).splitlines()


SEVEN = "".join(f"  - {{id: s{i}, subject: shot {i}}}\n" for i in range(7))


def test_misspelt_defaults_is_reported_once_without_follow_on_errors(in_tmp: Path) -> None:
    text = "title: T\ndefualts:\n  duration: 8\n  template: shot.j2\nscenes:\n" + SEVEN
    assert _messages(text, in_tmp) == [
        "p/storyboard.yaml:2: defualts: unknown key 'defualts'; did you mean 'defaults'?"
    ]


def test_a_real_problem_next_to_a_typo_is_still_reported(in_tmp: Path) -> None:
    text = (
        "titel: T\ndefaults: {duration: 8, template: shot.j2}\nscenes:\n"
        "  - {id: a, subject: x}\n  - {id: b, subject: y, transition: crosfade}\n"
    )
    assert _messages(text, in_tmp) == [
        "p/storyboard.yaml:1: titel: unknown key 'titel'; did you mean 'title'?",
        "p/storyboard.yaml:5: scenes[1].transition.type: expected 'cut', 'crossfade' or 'fade', "
        "got 'crosfade'; did you mean 'crossfade'?",
    ]


def test_defaults_with_prompt_and_template_is_one_problem(in_tmp: Path) -> None:
    text = "title: T\ndefaults: {duration: 8, template: shot.j2, prompt: xx}\nscenes:\n" + SEVEN
    assert _messages(text, in_tmp) == [
        "p/storyboard.yaml:2: defaults: give either 'prompt' or 'template', not both"
    ]


def test_a_missing_default_template_is_reported_once(in_tmp: Path) -> None:
    text = "title: T\ndefaults:\n  duration: 8\n  template: nope.j2\nscenes:\n" + SEVEN
    msgs = _messages(text, in_tmp)
    assert len(msgs) == 1
    assert msgs[0].startswith(
        "p/storyboard.yaml:4: defaults.template: template 'nope.j2' not found (searched "
    )
    assert msgs[0].endswith("(scenes 's0', 's1', 's2', 's3', 's4', 's5', 's6')"), (
        "names the scenes that use it"
    )


def test_a_bad_default_duration_is_reported_once(in_tmp: Path) -> None:
    text = "title: T\ndefaults:\n  duration: 7\n  template: shot.j2\nscenes:\n" + SEVEN
    assert _messages(text, in_tmp) == [
        "p/storyboard.yaml:3: defaults.duration: OpenAI Sora 2 accepts durations of 4, 8, 12, "
        "16 or 20 seconds, got 7 (scenes 's0', 's1', 's2', 's3', 's4', 's5', 's6')"
    ]


def test_a_bad_default_transition_is_reported_once(in_tmp: Path) -> None:
    text = "title: T\ndefaults:\n  duration: 8\n  transition: crosfade\nscenes:\n" + SEVEN
    assert _messages(text.replace("subject", "prompt"), in_tmp) == [
        "p/storyboard.yaml:4: defaults.transition.type: expected 'cut', 'crossfade' or 'fade', "
        "got 'crosfade'; did you mean 'crossfade'?"
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "continuity: last-frame",
            "scenes[1].continuity.mode: expected 'cut', 'extend' or 'last_frame', "
            "got 'last-frame'; did you mean 'last_frame'?",
        ),
        (
            "transition: {type: Crossfade}",
            "scenes[1].transition.type: expected 'cut', 'crossfade' or 'fade', got 'Crossfade'; "
            "did you mean 'crossfade'?",
        ),
        ("trim: {in: -1}", "scenes[1].trim.in: expected a number of at least 0, got -1"),
        (
            "trim: [1]",
            "scenes[1].trim: expected [IN, OUT] or {in: SECONDS, out: SECONDS}, got a list",
        ),
        ("duration: eight", "scenes[1].duration: expected a number, got 'eight'"),
        (
            "number_results: 1.5",
            "scenes[1].number_results: expected a whole number, got 1.5",
        ),
        (
            "subject: yes",
            "scenes[1].subject: expected text, got true (YAML reads yes, no, on, "
            "off, true and false as true/false: put the value in quotes)",
        ),
        ("vars: [a]", "scenes[1].vars: expected a mapping (key: value lines), got a list"),
        ("dialogue: [{who: A, line: ''}]", "scenes[1].dialogue[0].line: must not be empty"),
    ],
    ids=lambda v: v.split(":")[0] if isinstance(v, str) else v,
)
def test_scene_field_messages_in_our_words(line: str, message: str, in_tmp: Path) -> None:
    text = "title: T\nscenes:\n  - {id: a, prompt: xx, duration: 8}\n  - id: b\n    prompt: yy\n"
    text += f"    {line}\n"
    assert _messages(text, in_tmp) == [f"p/storyboard.yaml:6: {message}"]


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (
            "edit: {captions: str}",
            "edit.captions: expected 'off', 'srt' or 'burn', got 'str'; did you mean 'srt'?",
        ),
        (
            "edit: {loudness: of}",
            "edit.loudness: expected a number or 'off', got 'of'; did you mean 'off'?",
        ),
        (
            "edit: {transition: {type: fade, duration: 9}}",
            "edit.transition.duration: expected a number from 0 to 5, got 9",
        ),
        ("edit: {true_peak: 2}", "edit.true_peak: expected a number of at most 0, got 2"),
        (
            "edit: {music: {file: a.mp3, loop: perhaps}}",
            "edit.music.loop: expected true or false, got 'perhaps'",
        ),
        (
            "output: {quality: 100}",
            "output.quality: expected a whole number from 20 to 99, got 100",
        ),
        (
            "output: {format: mp5}",
            "output.format: expected 'MP4', 'WEBM' or 'MOV', got 'MP5'; did you mean 'MP4'?",
        ),
        (
            "output: mp4",
            "output: expected a mapping with keys such as file, format, quality, "
            "fps, size; got 'mp4'",
        ),
        (
            "scenes: {id: a}",
            "scenes: expected a list of scenes (each one starting with '- id: ...'), got a mapping",
        ),
    ],
    ids=lambda v: v.split(":")[0] + v.split(":")[1] if isinstance(v, str) else v,
)
def test_top_level_messages_in_our_words(block: str, message: str, in_tmp: Path) -> None:
    text = (
        "title: T\n"
        + ("" if block.startswith("scenes") else "scenes: [{id: a, prompt: xx, duration: 8}]\n")
        + block
        + "\n"
    )
    msgs = _messages(text, in_tmp, {"a.mp3": wav_bytes()})
    assert [m.split(": ", 1)[1] for m in msgs] == [message]


def test_yaml_off_means_off(in_tmp: Path) -> None:
    write_project(
        in_tmp / "p",
        "title: 1984\nscenes: [{id: a, prompt: xx, duration: 8}]\n"
        "edit: {captions: off, loudness: off}\n",
    )
    board = load_project("p").board
    assert (board.title, board.edit.captions, board.edit.loudness) == ("1984", "off", "off")


SHOT_VARS = """
title: T
vars:
  places: {deck: the deck of a ship, cliff: a granite cliff}
  characters: {ada: a wiry woman}
defaults: {duration: 8, template: shot.j2}
scenes:
  - id: a
    subject: x
    vars: {place: dek}
"""


def test_a_shared_template_lookup_points_at_the_storyboard_value(in_tmp: Path) -> None:
    [msg] = _messages(SHOT_VARS, in_tmp)
    assert msg == (
        "p/storyboard.yaml:9: scenes[0].vars.place: scene 'a': 'dek' is not in places; "
        f"did you mean 'deck'? (looked up at {REPO}/templates/shot.j2:13)"
    )


def test_a_default_value_that_is_missing_is_reported_once_at_defaults(in_tmp: Path) -> None:
    text = SHOT_VARS.replace("{duration: 8,", "{duration: 8, vars: {place: dek},").replace(
        "    vars: {place: dek}\n", "  - {id: b, subject: y}\n"
    )
    [msg] = _messages(text, in_tmp)
    assert msg.startswith(
        "p/storyboard.yaml:5: defaults.vars.place: 'dek' is not in places; did you mean 'deck'?"
    )
    assert msg.endswith("(scenes 'a', 'b')")


def test_an_inline_lookup_suggests_the_nearest_key(in_tmp: Path) -> None:
    text = SHOT_VARS + '  - {id: b, prompt: "{{ characters.adda }} waits"}\n'
    text = text.replace("vars: {place: dek}", "vars: {place: deck}")
    assert _messages(text, in_tmp) == [
        "p/storyboard.yaml:10: scenes[1].prompt: scene 'b': 'adda' is not in characters; "
        "did you mean 'ada'?"
    ]


def test_an_undefined_variable_suggests_the_nearest_name(in_tmp: Path) -> None:
    text = SHOT_VARS.replace("vars: {place: dek}", "vars: {place: deck}")
    text += "  - {id: b, template: mine.j2}\n"
    files = {"templates/mine.j2": "A shot of\n{{ subjcet }} at sea.\n"}
    assert _messages(text, in_tmp, files) == [
        "p/storyboard.yaml:10: scenes[1].template: scene 'b': undefined variable 'subjcet' at "
        "p/templates/mine.j2:2; did you mean 'subject'?"
    ]
