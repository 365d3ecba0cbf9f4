"""``--variant`` on the commands (issue 20): which film of the storyboard a command is about,
and the batch forms (``plan --variant all``, ``render --variant all --on ray``)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import storyboard.api as sb
from storyboard.api.results import FilmPlan, VariantsPlan
from storyboard.errors import Problem, ProblemsError, StoryboardError
from storyboard.money import usd

from .report import plan_table, table

VARIANT_HELP = "which film: main (the storyboard's own), a variant's name, or all"
ON_HELP = (
    "run the composes (and their chunk encodes) as Ray tasks: `ray` (a local Ray instance) "
    "or `ray://HOST:PORT` (an existing cluster); needs pip install -e '.[ray]'"
)

RETAKE_ONE_FILM = (
    "--retake works on one film at a time (--variant NAME): the other films that "
    "share the scene keep their take until you pick the new one there"
)


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def add_variant(p: argparse.ArgumentParser, batch: bool = False, one: bool = False) -> None:
    """``--variant`` (and, for batch commands, ``--on`` and ``--cache``); ``one``: a command
    of one film (`takes`, `pick`), where ``all`` is refused in words (:func:`one_film`)."""
    help_ = "which film: main (the storyboard's own) or a variant's name" if one else VARIANT_HELP
    p.add_argument("--variant", "-V", default=None, metavar="NAME", help=help_)
    if batch:
        p.add_argument("--on", default=None, metavar="ray|ray://HOST:PORT", help=ON_HELP)
        p.add_argument(
            "--cache",
            default=None,
            metavar="PATH",
            help="the chunk cache folder (default PROJECT/build/chunks); on a cluster of "
            "several machines, a path every machine sees",
        )


def film_names(project: sb.Project, args: argparse.Namespace) -> list[str]:
    """The films a command works on, checked (an unknown name is one message)."""
    name = getattr(args, "variant", None) or "main"
    films = project.films(name)  # raises SpecError naming the known variants
    return [f.variant_name for f in films]


def cmd_plan_variants(project: sb.Project, args: argparse.Namespace) -> int:
    """``plan --variant all`` (or one name): each film's plan, and what it shares; with
    ``--json``, the tasks (one film: its ``plan --json``; several: one document of them).
    ``render --dry-run`` comes here too: its ``--budget`` is checked on these plans."""
    names = film_names(project, args)
    retake = getattr(args, "retake", None) or []
    boards = getattr(args, "boards", False)
    budget = getattr(args, "budget", None)  # render --dry-run: checked as the render checks it
    if len(names) == 1:  # one film: every option of `plan`, as for the main film
        keep = getattr(args, "keep_downstream", False)
        plan = project.variant(names[0]).plan(retake, keep, budget, args.draft, boards=boards)
        batch = VariantsPlan([FilmPlan(names[0], plan)])
    else:
        if retake:
            raise StoryboardError(RETAKE_ONE_FILM)
        batch = project.plan_variants(names, args.draft, boards, budget)
    if getattr(args, "json", False):
        print(json.dumps(_plan_json(batch, several=len(names) > 1), indent=2))
        return 0
    rows = []
    for film in batch.films:
        print(f"== {film.variant} ==")
        print(plan_table(film.plan))
        if film.shared:
            shared = ", ".join(f"{s} (with {v})" for s, v in film.shared.items())
            print(f"shares: {shared}: generated once")
        print()
        rows.append(
            [
                film.variant,
                film.plan.film_size or film.plan.size,
                str(len(film.plan.scenes)),
                str(len(film.shared)),
                usd(film.cost),
            ]
        )
    print(table(["film", "size", "scenes", "shared", "adds"], rows, right={2, 3, 4}))
    n = len(batch.films)
    films = f"all {n} films" if n > 1 else "the 1 film"
    print(f"\n{films}: {usd(batch.cost)} (each shared scene counted once)")
    return 0


def _plan_json(batch: VariantsPlan, several: bool) -> dict[str, Any]:
    """One film: its ``plan --json`` as it is; several: each film's, with its size, what it
    shares and what it adds, and the batch's total (each shared scene counted once)."""
    if not several:
        return batch.films[0].plan.tasks_json
    films = [
        {
            "variant": film.variant,
            "size": film.plan.film_size or film.plan.size,
            **film.plan.tasks_json,
            "shared": film.shared,
            "adds": round(film.cost, 6),
        }
        for film in batch.films
    ]
    return {"films": films, "total_cost": round(batch.cost, 6)}


def compose_films(project: sb.Project, names: list[str], args: argparse.Namespace) -> int:
    """Compose the films named (locally, or on Ray with ``--on``); print each film."""
    results = project.compose_variants(
        names,
        on=args.on,
        cache=args.cache,
        force=getattr(args, "force", False),
        wait=not args.no_wait,
        progress=lambda e: None if isinstance(e, sb.Frames) else _err(str(e)),
    )
    for name, film in zip(names, results, strict=True):
        where = " (up to date)" if film.up_to_date else ""
        print(f"film ({name}): {film.film}{where}")
        if film.captions is not None:
            print(f"captions ({name}): {film.captions}")
    return 0


def print_variant_films(project: sb.Project, draft: bool = False) -> None:
    """``status``: after the main film, each variant's film (up to date or why not; ``draft``:
    judged as ``render --draft``, as the main film is)."""
    for name in project.variants:
        status = project.status(draft, variant=name)
        film = status.film
        if film is None:
            continue
        state = "up to date" if film.up_to_date else "stale (" + ", ".join(film.reasons) + ")"
        print(f"film ({name}): {state}: {film.path}")


def validate_variants(project: sb.Project, main: ProblemsError | None = None) -> None:
    """Compile every variant against the model's rules and raise once with every problem, the
    main film's (``main``) first; its problems name the variant, and a problem the main film
    has already (at the same line) is not said again for a variant (hostile fix-44 P1)."""
    problems = list(main.problems) if main is not None else []
    said = {(p.file, p.line, p.message) for p in problems}
    kind = type(main) if main is not None else None
    for name in project.variants:
        try:
            project.variant(name).validate()
        except ProblemsError as e:
            kind = kind or type(e)
            problems.extend(
                Problem(p.file, p.line, p.where, f"variant {name!r}: {p.message}")
                for p in e.problems
                if (p.file, p.line, p.message) not in said
            )
    if kind is not None:
        raise kind(problems) from None


def one_film(variant: str | None, command: str) -> str:
    """The film a one-film command works on (hostile helper-54: `pick --variant all` was
    "no variant 'all'" at the storyboard's variants line, and its help offered `all`)."""
    if variant == "all":
        from storyboard.errors import StoryboardError

        raise StoryboardError(
            f"`storyboard {command}` works on one film: --variant main or a variant's name "
            "(`all` is for plan, render, status, compose and export)"
        )
    return variant or "main"
