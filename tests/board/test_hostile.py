"""Hostile storyboards: bombs, huge and deep files, non-finite numbers, sneaky ids and paths.

Each case is one file a hostile (or unlucky) user could write; each must give its pinned
one-line message and exit code 1, never a traceback and never a hang.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_project

from storyboard.cli.main import main

SCENE = "  - {id: a, prompt: A red kite over a grey sea., duration: 8}\n"

BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
)

# (id, storyboard text, extra files, the whole pinned stderr)
CASES: list[tuple[str, str, dict[str, str | bytes], str]] = [
    (
        "alias-bomb",
        "title: T\nvars:\n"
        + "".join("  " + line + "\n" for line in BOMB.splitlines())
        + "scenes:\n"
        + SCENE,
        {},
        "proj/storyboard.yaml:8: vars.f: aliases expand to more than 200000 values"
        " (an alias bomb?); write the values out instead",
    ),
    (
        "recursive-alias",
        "title: T\nvars: {loop: &x [1, *x]}\nscenes:\n" + SCENE,
        {},
        "proj/storyboard.yaml:2: vars.loop: an alias refers to a value that contains it"
        " (a recursive alias)",
    ),
    (
        "deep-nesting",
        "title: T\nvars: {x: " + "[" * 5000 + "]" * 5000 + "}\nscenes:\n" + SCENE,
        {},
        "proj/storyboard.yaml:2: vars.x: values nest more than 50 levels deep",
    ),
    (
        "deep-through-aliases",
        "title: T\nvars:\n  a: &a "
        + "[" * 30
        + "]" * 30
        + "\n  b: "
        + "[" * 30
        + "*a"
        + "]" * 30
        + "\nscenes:\n"
        + SCENE,
        {},
        "proj/storyboard.yaml:4: vars.b: values nest more than 50 levels deep",
    ),
    (
        "huge-integer",
        "title: T\nscenes:\n  - id: a\n    prompt: A red kite over a grey sea.\n"
        "    duration: " + "9" * 5000 + "\n",
        {},
        "proj/storyboard.yaml:5: scenes[0].duration: a number with more than 4300 digits",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_hostile_storyboard_gets_one_clear_message(case, in_tmp: Path, capsys) -> None:
    _, text, files, expected = case
    write_project(in_tmp / "proj", text, files)
    assert main(["validate", "proj"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip() == expected


def test_huge_storyboard_is_refused_before_it_is_read(in_tmp: Path, capsys) -> None:
    proj = write_project(in_tmp / "proj", "title: T\nscenes:\n" + SCENE)
    with open(proj / "storyboard.yaml", "a") as fh:
        fh.write("#" * (2 * 1024 * 1024) + "\n")
    assert main(["validate", "proj"]) == 1
    assert capsys.readouterr().err.strip() == (
        "proj/storyboard.yaml: the file is 2.0 MiB; a storyboard may be at most 2 MiB"
    )
