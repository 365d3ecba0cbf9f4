"""Hostile templates: each is refused fast with one message naming the scene and file:line."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest
from helpers import write_project

from storyboard.board.prompts import make_env, render_prompt
from storyboard.board.spec import load_project
from storyboard.cli.main import main
from storyboard.errors import TemplateError


def inline(prompt: str) -> str:
    return f"title: T\nscenes:\n  - id: a\n    duration: 8\n    prompt: {prompt!r}\n".replace(
        "\\\\", "\\"
    )


# (id, inline prompt, the whole pinned stderr); the prompt is on line 5
INLINE: list[tuple[str, str, str]] = [
    (
        "string-times-huge",
        "{{ 'x' * 10**10 }}",
        "proj/storyboard.yaml:5: scenes[0].prompt: scene 'a': '*' would make a value of "
        "10,000,000,000 characters; the limit is 100,000",
    ),
    (
        "lipsum-huge",
        "{{ lipsum(10**7) }}",
        "proj/storyboard.yaml:5: scenes[0].prompt: scene 'a': lipsum() is limited to 20 "
        "paragraphs of at most 200 words",
    ),
    (
        "lipsum-empty-range",
        "{{ lipsum(20, false, 200, 200) }}",
        "proj/storyboard.yaml:5: scenes[0].prompt: scene 'a': lipsum(n, html, min, max) needs"
        " min < max (words per paragraph), got min 200, max 200",
    ),
    (
        "lipsum-min-over-max",
        "{{ lipsum(1, false, 5, 3) }}",
        "proj/storyboard.yaml:5: scenes[0].prompt: scene 'a': lipsum(n, html, min, max) needs"
        " min < max (words per paragraph), got min 5, max 3",
    ),
    (
        "range-huge",
        "{% for i in range(10**9) %}x{% endfor %}",
        "proj/storyboard.yaml:5: scenes[0].prompt: scene 'a': range() of 1,000,000,000 "
        "numbers; the limit is 10,000",
    ),
    (
        "nested-loops",
        "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
        "proj/storyboard.yaml:5: scenes[0].prompt: scene 'a': the template ran more than "
        "1,000,000 steps (loop turns and calls); simplify its loops",
    ),
    (
        "recursive-macro",
        "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
        "proj/storyboard.yaml:5: scenes[0].prompt: scene 'a': macro calls nest more than 50 "
        "deep (a macro calling itself?)",
    ),
    (
        "power-tower",
        "{{ 7 ** 99999 }}",
        "proj/storyboard.yaml:5: scenes[0].prompt: scene 'a': '**' would make a number of "
        "more than 4096 bits",
    ),
    (
        "concat-doubling",
        "{% set ns = namespace(s='xxxxxxxxxx') %}{% for i in range(40) %}"
        "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
        "proj/storyboard.yaml:5: scenes[0].prompt: scene 'a': '~' would make a value of "
        "163,840 characters; the limit is 100,000",
    ),
    (
        "center-huge",
        "{{ 'x' | center(10**9) }}",
        "proj/storyboard.yaml:5: scenes[0].prompt: scene 'a': center(1,000,000,000): "
        "numbers over 100,000 are not allowed here",
    ),
    (
        "str-method-huge",
        "{{ 'x'.ljust(10**9) }}",
        "proj/storyboard.yaml:5: scenes[0].prompt: scene 'a': ljust(1,000,000,000): "
        "numbers over 100,000 are not allowed here",
    ),
    (
        "format-width",
        "{{ '%999999999s' % 'x' }}",
        "proj/storyboard.yaml:5: scenes[0].prompt: scene 'a': a format width or precision "
        "of 100000 or more is not allowed",
    ),
    (
        "replace-blowup",
        "{{ ('x' * 90000).replace('x', 'yy') }}",
        "proj/storyboard.yaml:5: scenes[0].prompt: scene 'a': replace would make a value of "
        "180,002 characters; the limit is 100,000",
    ),
    (
        "output-too-long",
        "{% for i in range(5000) %}{{ 'x' * 50 }}{% endfor %}",
        "proj/storyboard.yaml:5: scenes[0].prompt: scene 'a': the rendered prompt is longer "
        "than 100,000 characters",
    ),
    (
        "list-mutation",
        "{% set l = [1] %}{{ l.append(2) }}",
        "proj/storyboard.yaml:5: scenes[0].prompt: scene 'a': blocked by the template "
        "sandbox: access to attribute 'append' of 'list' object is unsafe.",
    ),
]


@pytest.mark.parametrize("case", INLINE, ids=[c[0] for c in INLINE])
def test_hostile_inline_prompt_is_refused(case, in_tmp: Path, capsys) -> None:
    _, prompt, expected = case
    write_project(in_tmp / "proj", inline(prompt))
    assert main(["validate", "proj"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip() == expected


def test_recursive_macro_in_a_template_file_names_its_line(in_tmp: Path, capsys) -> None:
    write_project(
        in_tmp / "proj",
        "title: T\nscenes:\n  - {id: a, template: loop.j2, duration: 8}\n",
        {
            "templates/loop.j2": "A shot.\n"
            "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}\n{{ f(1) }}\n"
        },
    )
    assert main(["validate", "proj"]) == 1
    assert capsys.readouterr().err.strip() == (
        "proj/templates/loop.j2:2: scenes[0].template: scene 'a': macro calls nest more than "
        "50 deep (a macro calling itself?)"
    )


def test_template_including_itself_is_refused(in_tmp: Path, capsys) -> None:
    write_project(
        in_tmp / "proj",
        "title: T\nscenes:\n  - {id: a, template: me.j2, duration: 8}\n",
        {"templates/me.j2": "A shot.\n{% include 'me.j2' %}\n"},
    )
    assert main(["validate", "proj"]) == 1
    assert capsys.readouterr().err.strip() == (
        "proj/templates/me.j2:2: scenes[0].template: scene 'a': more than 200 templates "
        "included or imported (a template including itself?)"
    )


def test_slow_template_stops_at_the_time_limit(in_tmp: Path) -> None:
    write_project(in_tmp / "proj", inline("{% for i in range(9000) %}{{ i }}{% endfor %}"))
    project = load_project("proj")
    ticks = itertools.count(0.0, 0.5)  # a clock that moves half a second per look
    env = make_env(project.root, clock=lambda: next(ticks))
    with pytest.raises(TemplateError) as e:
        render_prompt(project, env, 0)
    assert str(e.value) == (
        "proj/storyboard.yaml:5: scenes[0].prompt: scene 'a': rendering took more than 5 s; "
        "simplify its loops"
    )


def test_the_budget_is_per_render(in_tmp: Path) -> None:
    """Many scenes that each use most of the budget all render."""
    scene = '  - {id: s%d, duration: 8, prompt: "{%% for i in range(9000) %%}{%% endfor %%}ok"}\n'
    write_project(in_tmp / "proj", "title: T\nscenes:\n" + "".join(scene % i for i in range(3)))
    project = load_project("proj")
    env = make_env(project.root)
    assert [render_prompt(project, env, i) for i in range(3)] == ["ok"] * 3


@pytest.mark.parametrize("linked", ["file", "folder"])
def test_template_symlink_out_of_the_project_is_not_read(in_tmp: Path, capsys, linked: str) -> None:
    secret = in_tmp / "secret"
    secret.mkdir()
    (secret / "shot.j2").write_text("the secret {{ subject }}\n")
    proj = write_project(
        in_tmp / "proj", "title: T\nscenes:\n  - {id: a, template: shot.j2, duration: 8}\n"
    )
    if linked == "file":
        (proj / "templates").mkdir()
        os.symlink(secret / "shot.j2", proj / "templates" / "shot.j2")
    else:
        os.symlink(secret, proj / "templates")
    assert main(["validate", "proj"]) == 1
    real = (secret / "shot.j2").resolve()
    assert capsys.readouterr().err.strip() == (
        f"proj/storyboard.yaml:3: scenes[0].template: scene 'a': template 'shot.j2' is a link "
        f"to {real}, outside {proj.resolve()}; copy the file into the templates folder instead"
    )


def test_template_symlink_inside_the_project_is_fine(in_tmp: Path, capsys) -> None:
    proj = write_project(
        in_tmp / "proj",
        "title: T\nscenes:\n  - {id: a, template: shot.j2, duration: 8}\n",
        {"prompts/shot.j2": "A red kite over a grey sea.\n"},
    )
    (proj / "templates").mkdir()
    os.symlink(proj / "prompts" / "shot.j2", proj / "templates" / "shot.j2")
    assert main(["validate", "proj"]) == 0, capsys.readouterr().err


def test_shared_templates_still_render(in_tmp: Path, capsys) -> None:
    write_project(
        in_tmp / "proj",
        "title: T\nscenes:\n  - {id: a, template: shot.j2, subject: a kite, duration: 8}\n",
    )
    assert main(["validate", "proj"]) == 0, capsys.readouterr().err
