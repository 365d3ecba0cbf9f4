"""Every stage's problems in one run (issue 15): a storyboard the schema refused in part is
still checked for its templates and model rules, on the board as far as it could be read
(``SpecError.partial``, see board/partial.py)."""

from __future__ import annotations

import dataclasses

from storyboard.board.partial import without_unchecked
from storyboard.board.prompts import make_env, render_prompt
from storyboard.board.spec import Project as Spec
from storyboard.board.variants import load_variant, news, variant_names
from storyboard.errors import (
    Problem,
    ProblemsError,
    SpecError,
    StoryboardError,
    TemplateError,
    unique,
)
from storyboard.plan.compile import compile_project


def with_later_stages(e: SpecError) -> SpecError:
    """``e`` with the prompts' and model rules' problems added (compiled from the board as far
    as it could be read), so a run reports every stage's problems, not the first stage's alone.
    A problem at a field the schema refused is a follow-on, left out (board/partial.py)."""
    if e.partial is None:
        return e
    unchecked = e.partial.unchecked
    found: list[Problem] = []
    try:
        if ("model",) in unchecked:  # every model rule hangs on it: the templates alone
            templates_only(e.partial)
        else:
            compile_project(e.partial)
    except ProblemsError as later:
        found = without_unchecked(later.problems, unchecked)
    except StoryboardError:
        pass
    if ("model",) not in unchecked:
        found += news(variant_problems(e.partial), [*e.problems, *found])
    if not found:
        return e
    return SpecError(unique(sorted([*e.problems, *found], key=lambda p: p.line or 0)))


def variant_problems(spec: Spec) -> list[Problem]:
    """The model rules' problems of every variant that loads (one that does not has said
    why already), each naming its variant (hostile fix-44 P1)."""
    problems: list[Problem] = []
    for name in variant_names(spec):
        try:
            film = load_variant(spec, name)
            compile_project(film)
        except ProblemsError as e:
            if not isinstance(e, SpecError):
                problems.extend(
                    dataclasses.replace(p, message=f"variant {name!r}: {p.message}")
                    for p in e.problems
                )
        except StoryboardError:
            pass
    return problems


def templates_only(spec: Spec) -> None:
    """Render every scene's prompt; raise one TemplateError listing every failure."""
    env = make_env(spec.root)
    problems = []
    for i in range(len(spec.board.scenes)):
        try:
            render_prompt(spec, env, i)
        except ProblemsError as t:
            problems.extend(t.problems)
    if problems:
        raise TemplateError(problems)
