"""``storyboard.load(path) -> Project``: one storyboard, and everything you can do with it.

A :class:`Project` is a snapshot of the storyboard file as loaded; call :func:`load` again after
editing the file. Build state (journal, takes, ``storyboard.lock``) is read fresh by each call.
Its status, takes and picks are in ``takes`` (:class:`~storyboard.api.takes.Takes`), its
variants in ``films`` (:class:`~storyboard.api.films.Films`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from storyboard.board.spec import Project as _Spec
from storyboard.board.spec import load_project
from storyboard.errors import SpecError, StoryboardError
from storyboard.generate.backend import BackendOptions
from storyboard.generate.staleness import film_nodes, render_sets, require_real_takes
from storyboard.generate.state import RUNWARE, lock_name
from storyboard.plan.compile import Plan, compile_project, node_name

from .arguments import (
    callback,
    dollars,
    jobs_arg,
    not_in_a_loop,
    path_arg,
    scene_ids,
    seconds,
    text_arg,
)
from .boards import CastInfo, animatic_file, cast_of
from .events import CallbackProgress, ProgressCallback
from .films import Films
from .planning import _plan_result, hold_budget
from .results import ComposeResult, PlanResult, RenderResult, Validation
from .stages import with_later_stages
from .takes import Takes


def load(path: str | Path, *, api_key: str | None = None, base_url: str | None = None) -> Project:
    """Load and check a storyboard: a project folder or its ``storyboard.yaml``.

    Renders use the Runware API with ``api_key`` (default: ``RUNWARE_API_KEY``) at ``base_url``
    (default: ``RUNWARE_BASE_URL``, else Runware's endpoint); without a key, a local emulator
    that makes placeholder clips at no cost. Raises :class:`~storyboard.SpecError` (every
    problem, as ``file:line: field: message``) when the file is broken.
    """
    try:
        text_arg(api_key, "api_key", "the Runware API key")
        text_arg(base_url, "base_url", "a URL")
        spec = load_project(path_arg(path))
    except SpecError as e:
        raise with_later_stages(e) from None
    try:  # hostile4 P2: the build journal records paths as text
        str(spec.root.resolve()).encode("utf-8")
    except UnicodeEncodeError:
        shown = str(spec.root).encode("utf-8", "backslashreplace").decode()
        raise StoryboardError(
            f"{shown}: the project folder's path is not valid UTF-8; rename the folder "
            "(storyboard keeps the project's paths as text)"
        ) from None
    return Project(spec, api_key=api_key, base_url=base_url)


class Project(Takes, Films):
    """A loaded storyboard: plan it, render it, inspect and pick takes, compose the film
    (and its variants: :attr:`variants`, :meth:`variant`)."""

    def __init__(
        self, spec: _Spec, *, api_key: str | None = None, base_url: str | None = None
    ) -> None:
        self._spec = spec
        self._main: Project | None = None  # for a variant: the storyboard's own film
        self._plan: Plan | None = None
        self._api_key = api_key
        self._base_url = base_url

    def _backend(self, draft: bool = False, latency: float = 1.0) -> BackendOptions:
        env = BackendOptions.from_env()
        return BackendOptions(
            api_key=self._api_key or env.api_key,
            base_url=self._base_url or env.base_url,
            emulator_latency=latency,
            emulator_draft=draft,
        )

    @property
    def real(self) -> bool:
        """True when renders use the real (paid) Runware API; False: the local emulator."""
        return self._backend().maker == RUNWARE

    def __repr__(self) -> str:
        return f"<storyboard.Project {self.title!r} at {str(self.root)!r}>"

    @property
    def root(self) -> Path:
        """The project folder."""
        return self._spec.root

    @property
    def file(self) -> Path:
        """The storyboard file."""
        return self._spec.file

    @property
    def title(self) -> str:
        """The film's title."""
        return self._spec.board.title

    @property
    def scenes(self) -> list[str]:
        """Scene ids, in film order."""
        return [s.id for s in self._spec.board.scenes]

    @property
    def film_file(self) -> Path:
        """Where the film is written (``output.file``, or ``build/<title slug>.<ext>``)."""
        from storyboard.cut.compose import output_path

        return output_path(self._spec)

    @property
    def animatic_file(self) -> Path:
        """``build/NAME.animatic.mp4``: where ``render(boards=True)`` cuts the animatic."""
        return animatic_file(self)

    def cast(self) -> list[CastInfo]:
        """The cast members that have a picture: their own, or a generated sheet (``node``)."""
        return cast_of(self)

    def nodes(self, boards: bool = False) -> list[str]:
        """The tasks a render makes, each after those it waits for: ``cast:NAME`` sheets,
        ``board:SCENE`` boards and the scenes' clips (``boards``: as ``render --boards``)."""
        plan = self._compiled()
        wanted = plan.wanted(boards)
        return [t.scene for t in plan.nodes if t.scene in wanted]

    @property
    def lock_file(self) -> Path:
        """``storyboard.lock`` (a variant: ``storyboard.VARIANT.lock``): which take of each
        scene makes the cut."""
        return self.root / lock_name(self._spec.variant)

    def display(self) -> str:
        """The storyboard's path as messages show it (relative to the working folder if inside)."""
        return self._spec.display()

    # -- planning (nothing is spent, nothing is written) ---------------------------------------

    def _compiled(self) -> Plan:
        if self._plan is None:
            self._plan = compile_project(self._spec)
        return self._plan

    def validate(self) -> Validation:
        """Compile every scene against the model's rules; raise with every problem found.

        Raises :class:`~storyboard.PlanError` or :class:`~storyboard.TemplateError`.
        """
        plan = self._compiled()
        warnings = [w for w in [plan.deprecation(), *plan.warnings] if w]
        return Validation(
            self.file,
            len(plan.tasks),
            plan.total_seconds,
            plan.total_cost,
            "\n".join(warnings) or None,
            plan.counts(),
        )

    def plan(
        self,
        retake: Sequence[str] = (),
        keep_downstream: bool = False,
        budget: float | None = None,
        draft: bool = False,
        variant: str | None = None,
        boards: bool = False,
    ) -> PlanResult:
        """What :meth:`render` would generate with these options, and what it would cost
        (``variant``: for that film; see :meth:`variant`; ``boards``: as ``render --boards``
        would: the cast sheets and boards, no clip).

        Raises :class:`~storyboard.PlanError` for an unknown scene in ``retake`` and
        :class:`~storyboard.BudgetError` when the cost is over ``budget`` (US dollars).
        """
        retake, budget = scene_ids(retake), dollars(budget)
        if variant is not None:
            return self._film_of(variant).plan(
                retake, keep_downstream, budget, draft, boards=boards
            )
        plan = self._compiled()
        plan.require_scenes(list(retake), "--retake")
        maker = self._backend(draft).maker
        only = plan.wanted(boards) | {node_name(r) for r in retake}
        every, fetch = render_sets(plan, list(retake), keep_downstream, maker)
        stale = every & only
        hold_budget(plan, stale, budget)
        return _plan_result(plan, stale, later=every - only, fetch=fetch & only)

    # -- spending and making -----------------------------------------------------------------

    def render(
        self,
        *,
        retake: Sequence[str] = (),
        keep_downstream: bool = False,
        budget: float | None = None,
        jobs: int = 4,
        progress: ProgressCallback | None = None,
        draft: bool = False,
        wait: bool = True,
        emulator_latency: float = 1.0,
        variant: str | None = None,
        boards: bool = False,
        only_if_up_to_date: bool = False,
    ) -> RenderResult:
        """Generate every stale scene (and nothing else); keep the takes; update the lock
        (``variant``: that film's scenes and lock; takes another film has are reused).

        The cast sheets and boards the clips use are made first; with ``boards`` only the
        sheets and every board are made (no clip: the animatic's pictures).

        Uses the Runware API when the project has a key (see :func:`load`), else a local
        emulator (placeholder clips, no cost; ``draft`` makes them small and fast). While it
        runs, no other command may write the project: with ``wait=False`` a busy project raises
        at once, otherwise the render waits (and says so through ``progress``). One scene's
        failure does not stop the others: see :attr:`RenderResult.failed` and
        :meth:`RenderResult.raise_for_failures`. Raises :class:`~storyboard.BudgetError`
        before spending anything when the render would cost more than ``budget``.
        An interrupted render resumes its paid tasks when run again. ``only_if_up_to_date``:
        send, fetch and collect nothing; raise :class:`~storyboard.StoryboardError` when
        anything is to be done (a check with the words of a render).
        """
        import asyncio

        not_in_a_loop("render")  # the arguments: checked by render_async
        return asyncio.run(
            self._film_of(variant).render_async(
                retake=retake,
                keep_downstream=keep_downstream,
                budget=budget,
                jobs=jobs,
                progress=progress,
                draft=draft,
                wait=wait,
                emulator_latency=emulator_latency,
                boards=boards,
                only_if_up_to_date=only_if_up_to_date,
            )
        )

    async def render_async(
        self,
        *,
        retake: Sequence[str] = (),
        keep_downstream: bool = False,
        budget: float | None = None,
        jobs: int = 4,
        progress: ProgressCallback | None = None,
        draft: bool = False,
        wait: bool = True,
        emulator_latency: float = 1.0,
        boards: bool = False,
        only_if_up_to_date: bool = False,
    ) -> RenderResult:
        """:meth:`render` for code already inside an event loop (same arguments)."""
        from .rendering import RenderRequest, render_async

        retake, budget, jobs = scene_ids(retake), dollars(budget), jobs_arg(jobs)
        progress, emulator_latency = callback(progress), seconds(emulator_latency)
        req = RenderRequest(
            retake=list(retake),
            keep_downstream=keep_downstream,
            budget=budget,
            jobs=jobs,
            backend=self._backend(draft, emulator_latency),
            wait=wait,
            boards=boards,
            only_if_up_to_date=only_if_up_to_date,
        )
        return await render_async(self, req, CallbackProgress(progress, not self.real))

    def compose(
        self,
        *,
        wait: bool = True,
        progress: ProgressCallback | None = None,
        force: bool = False,
        variant: str | None = None,
        cache: str | Path | None = None,
        only_if_up_to_date: bool = False,
    ) -> ComposeResult:
        """Build the film from ``storyboard.lock`` alone (no generation); returns its paths.

        When nothing that shapes the film changed it encodes nothing (``up_to_date``; ``force``
        composes anyway); otherwise only the chunks of picture and sound the chunk cache lacks
        (``cache``, default ``build/chunks``, bounded by ``STORYBOARD_CACHE_MB``). ``progress``
        receives :class:`Frames` events while the picture is made. ``variant``: that film.
        ``only_if_up_to_date``: compose nothing; raise :class:`~storyboard.ComposeError` when
        the film is not up to date (a check with the words of a compose).

        Raises :class:`~storyboard.ComposeError` when a chosen take's file is missing, when the
        project has a real key but the cut holds placeholder takes, or when the film cannot be
        written. ``wait`` and ``progress``: as for :meth:`render`.
        """
        from storyboard.cut.compose import compose_film
        from storyboard.cut.takes import LockView
        from storyboard.generate.staleness import cut_lock

        progress = callback(progress)
        if cache is not None:
            cache = path_arg(cache, "cache")
        if variant is not None:
            film = self._film_of(variant)
            return film.compose(
                wait=wait,
                progress=progress,
                force=force,
                cache=cache,
                only_if_up_to_date=only_if_up_to_date,
            )
        events = CallbackProgress(progress)
        with self._state("compose", wait, events) as state:
            plan = self._compiled()
            lock, left_out = cut_lock(plan, state)
            if self.real:
                require_real_takes(state, lock, film_nodes(plan))
            done = compose_film(
                self._spec,
                LockView(state, lock, left_out),
                log=events.log,
                on_progress=events.frames,
                force=force,
                cache_dir=Path(cache) if cache is not None else None,
                only_if_up_to_date=only_if_up_to_date,
            )
        return ComposeResult.of(done)

    def animatic(
        self, *, wait: bool = True, progress: ProgressCallback | None = None
    ) -> ComposeResult:
        """Cut ``build/NAME.animatic.mp4`` from the boards (``render(boards=True)`` makes them):
        each board held for its scene's duration with a slow push-in, with the film's
        transitions, captions and music. Raises :class:`~storyboard.ComposeError` when a
        scene has no board yet."""
        from .boards import cut_animatic

        return cut_animatic(self, wait=wait, progress=progress)

    def export(
        self, format: str = "otio", dest: str | Path | None = None, variant: str | None = None
    ) -> Path:
        """Write the cut (the takes in ``storyboard.lock``) as an editing timeline for an
        editor: ``otio``, ``fcpxml`` or ``edl``; returns the file (default: beside the film).

        Raises :class:`~storyboard.StoryboardError` for an unknown format, a scene without a
        take, or an EDL at a frame rate timecode cannot express.
        """
        from storyboard.cut.export import export_cut
        from storyboard.generate.staleness import cut_lock

        if variant is not None:
            return self._film_of(variant).export(format, dest)
        with self._state() as state:
            lock, _ = cut_lock(self._compiled(), state)
            return export_cut(self._spec, lock, format, Path(dest) if dest else None)
