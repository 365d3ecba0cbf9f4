"""Every stage's problems in one run (issue 15): a storyboard the schema refused in part is
still checked for its templates and model rules, on the board as far as it could be read
(``SpecError.partial``, see board/partial.py)."""

from __future__ import annotations

from storyboard.board.partial import without_unchecked
from storyboard.board.prompts import make_env, render_prompt
from storyboard.board.spec import Project as Spec
from storyboard.errors import ProblemsError, SpecError, StoryboardError, TemplateError, unique
from storyboard.plan.compile import compile_project


def with_later_stages(e: SpecError) -> SpecError:
    """``e`` with the prompts' and model rules' problems added (compiled from the board as far
    as it could be read), so a run reports every stage's problems, not the first stage's alone.
    A problem at a field the schema refused is a follow-on, left out (board/partial.py)."""
    if e.partial is None:
        return e
    unchecked = e.partial.unchecked
    try:
        if ("model",) in unchecked:  # every model rule hangs on it: the templates alone
            templates_only(e.partial)
        else:
            compile_project(e.partial)
    except ProblemsError as later:
        found = without_unchecked(later.problems, unchecked)
        return SpecError(unique(sorted([*e.problems, *found], key=lambda p: p.line or 0)))
    except StoryboardError:
        pass
    return e


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
