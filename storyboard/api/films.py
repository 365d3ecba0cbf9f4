"""The films of one storyboard (issue 20): the main film and its variants.

A variant is a :class:`~storyboard.Project` of its own (its plan, render, status, compose and
export are that film's); the journal, the takes and the chunk cache are shared, so a scene
whose task is the same in two films is generated once, and a chunk made for one film is
reused by the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from storyboard.errors import BudgetError, StoryboardError
from storyboard.money import usd

from .events import CallbackProgress, ProgressCallback
from .results import ComposeResult, FilmPlan, PlanResult, VariantsPlan

if TYPE_CHECKING:
    from storyboard.board.spec import Project as _Spec

    from .project import Project


class Films:
    """The variant side of :class:`~storyboard.Project`."""

    _spec: _Spec
    _api_key: str | None
    _base_url: str | None
    _main: Project | None

    @property
    def variants(self) -> list[str]:
        """The storyboard's variants (``variants:``) by name, in file order."""
        from storyboard.board.variants import variant_names

        return variant_names(self._spec if self._main is None else self._main._spec)

    @property
    def variant_name(self) -> str:
        """``main`` for the storyboard's own film, else the variant's name."""
        return self._spec.variant or "main"

    def variant(self, name: str) -> Project:
        """The film ``name`` (``main``: the storyboard's own) as a project of its own: its
        plan, render, status, compose and export are that film's; the takes are shared.
        Raises :class:`~storyboard.SpecError` for an unknown name."""
        from storyboard.board.variants import load_variant

        from .project import Project

        main = self._main if self._main is not None else self
        assert isinstance(main, Project)
        if name == "main":
            return main
        if name == self._spec.variant:
            assert isinstance(self, Project)
            return self
        film = Project(
            load_variant(main._spec, name), api_key=self._api_key, base_url=self._base_url
        )
        film._main = main
        return film

    def films(self, names: str | Sequence[str] = "all") -> list[Project]:
        """The films named (``all``: the main film, then every variant in file order)."""
        if isinstance(names, str):
            names = ["main", *self.variants] if names == "all" else [names]
        return [self.variant(n) for n in dict.fromkeys(names)]

    def _film_of(self, variant: str | None) -> Project:
        from .project import Project

        if variant is None:
            assert isinstance(self, Project)
            return self
        if variant == "all":
            raise StoryboardError(
                "variant 'all' is several films: render each of films() "
                "(`for film in project.films(): film.render()`), then compose_variants() "
                "(`storyboard render --variant all`)"
            )
        return self.variant(variant)

    def plan_variants(
        self,
        names: str | Sequence[str] = "all",
        draft: bool = False,
        boards: bool = False,
        budget: float | None = None,
    ) -> VariantsPlan:
        """Each film's plan, and the tasks it shares with an earlier film (the same task:
        generated once, and charged once in the total). ``boards``: as ``render --variant all
        --boards`` would, the cast sheets and each film's boards (at that film's size), no
        clip. Nothing is spent or written.

        Raises :class:`~storyboard.BudgetError` when the films together cost more than
        ``budget`` (US dollars), or when one of them makes a task no source prices.
        """
        from storyboard.generate.staleness import check_budget_amount

        from .planning import hold_budget

        check_budget_amount(budget)
        films = self.films(names)
        batch = _shared([(f, f.plan(draft=draft, boards=boards)) for f in films], draft, boards)
        if budget is None:
            return batch
        if batch.cost > budget + 1e-9:
            raise BudgetError(
                f"these films would cost {usd(batch.cost)}, over the --budget of "
                f"{usd(budget)}; nothing was spent"
            )
        for film, planned in zip(films, batch.films, strict=True):
            try:  # a task no source prices (the total holds every priced one)
                hold_budget(film._compiled(), set(planned.plan.task_names), budget)
            except BudgetError as e:
                several = len(films) > 1
                raise BudgetError(f"film {planned.variant}: {e}" if several else str(e)) from None
        return batch

    @staticmethod
    def check_compose_settings() -> None:
        """Raise :class:`~storyboard.StoryboardError` when ``STORYBOARD_CACHE_MB`` or
        ``STORYBOARD_JOBS`` is unusable: a render checks them before it spends anything."""
        from storyboard.cut.chunks import cache_limit_bytes
        from storyboard.cut.machine import jobs_cap

        cache_limit_bytes()
        jobs_cap()

    @staticmethod
    def check_executor(on: str | None) -> None:
        """Raise :class:`~storyboard.StoryboardError` when ``on`` names no executor, Ray is
        not installed, or a ``ray://`` cluster cannot be reached from here (``on``: as for
        :meth:`compose_variants`). Nothing is started."""
        from storyboard.cut.executors import reachable

        reachable(on)

    def compose_variants(
        self,
        names: str | Sequence[str] = "all",
        *,
        on: str | None = None,
        cache: str | Path | None = None,
        force: bool = False,
        wait: bool = True,
        progress: ProgressCallback | None = None,
    ) -> list[ComposeResult]:
        """Compose several films: in local processes (``on=None``), or as Ray tasks
        (``on="ray"``: a local Ray instance, or ``"ray://HOST:PORT"``, an existing cluster),
        each film's compose a task and, within it, each chunk encode one. ``cache``: the
        chunk cache folder (default ``build/chunks``; on a cluster of several machines, a
        path every machine sees). Generation is never done here (see :meth:`render`)."""
        from .batch import compose_films

        return compose_films(self.films(names), on, cache, force, wait, CallbackProgress(progress))


def _shared(films: list[tuple[Project, PlanResult]], draft: bool, boards: bool) -> VariantsPlan:
    """The films' plans, each with the tasks an earlier film makes with the same content key:
    its clips (``boards``: its sheets and boards) and every task it would send."""
    from storyboard.generate.staleness import scene_keys

    seen: dict[tuple[str, str], str] = {}
    out = []
    for film, plan in films:
        keys = scene_keys(film._compiled(), film._backend(draft).maker)
        shared = {}
        made = [i.node for i in plan.images] if boards else [s.scene for s in plan.scenes]
        # every task the film makes: clips, and its sheets, boards and sounds (issue 17)
        for name in dict.fromkeys(made + plan.task_names):
            mark = (name, keys[name])
            if mark in seen:
                shared[name] = seen[mark]
            else:
                seen[mark] = film.variant_name
        out.append(FilmPlan(film.variant_name, plan, shared))
    return VariantsPlan(out)
