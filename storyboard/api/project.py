"""``storyboard.load(path) -> Project``: one storyboard, and everything you can do with it.

A :class:`Project` is a snapshot of the storyboard file as loaded; call :func:`load` again after
editing the file. Build state (journal, takes, ``storyboard.lock``) is read fresh by each call.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from storyboard.board.spec import Project as _Spec
from storyboard.board.spec import load_project
from storyboard.errors import SpecError, StoryboardError
from storyboard.generate.backend import BackendOptions
from storyboard.generate.staleness import (
    Assessment,
    already_paid,
    assess,
    maybe_sent,
    require_real_takes,
    stale_scenes,
)
from storyboard.generate.state import RUNWARE, BuildState, Take, lock_name
from storyboard.plan.compile import Plan, compile_project, node_name

from .boards import CastInfo, animatic_file, cast_of
from .events import CallbackProgress, ProgressCallback
from .films import Films
from .planning import _plan_result, hold_budget
from .results import (
    ComposeResult,
    FilmStatus,
    PickResult,
    PlanResult,
    RenderResult,
    SceneStatus,
    Status,
    TakeInfo,
    Uncollected,
    Validation,
)
from .stages import with_later_stages


def load(path: str | Path, *, api_key: str | None = None, base_url: str | None = None) -> Project:
    """Load and check a storyboard: a project folder or its ``storyboard.yaml``.

    Renders use the Runware API with ``api_key`` (default: ``RUNWARE_API_KEY``) at ``base_url``
    (default: ``RUNWARE_BASE_URL``, else Runware's endpoint); without a key, a local emulator
    that makes placeholder clips at no cost. Raises :class:`~storyboard.SpecError` (every
    problem, as ``file:line: field: message``) when the file is broken.
    """
    try:
        spec = load_project(path)
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


class Project(Films):
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
        if variant is not None:
            return self._film_of(variant).plan(
                retake, keep_downstream, budget, draft, boards=boards
            )
        plan = self._compiled()
        plan.require_scenes(list(retake), "--retake")
        maker = self._backend(draft).maker
        only = plan.wanted(boards) | {node_name(r) for r in retake}
        every = stale_scenes(plan, list(retake), keep_downstream, maker)
        stale = every & only
        hold_budget(plan, stale, budget)
        return _plan_result(plan, stale, later=every - only)

    # -- build state -------------------------------------------------------------------------

    @contextmanager
    def _state(
        self, writer: str | None = None, wait: bool = True, progress: CallbackProgress | None = None
    ) -> Iterator[BuildState]:
        on_wait = progress.log if progress is not None else None
        state = BuildState(
            self.root, writer=writer, wait=wait, on_wait=on_wait, variant=self._spec.variant
        )
        try:
            yield state
        finally:
            state.close()

    def status(self, draft: bool = False, variant: str | None = None) -> Status:
        """Every scene: up to date or stale, why, and what the next render costs (``draft``:
        judged as ``render --draft`` would, so ``--draft`` takes count as up to date;
        ``variant``: that film's)."""
        if variant is not None:
            return self._film_of(variant).status(draft)
        plan = self._compiled()
        with self._state() as state:
            found = assess(plan, state, maker=self._backend(draft).maker)
            paid_for = already_paid(state, found)  # collected by the next render, not bought
            wanted = plan.wanted()
            pending = maybe_sent(state, found)
            rows = []
            for t in plan.nodes:
                a = found[t.scene]
                take = state.lock.get(t.scene)
                if t.scene.startswith("lipsync:"):  # a clip made over the scene's clip and lines
                    mode, source = "lip sync", ", ".join(t.depends_on) or None
                elif t.kind == "video":
                    mode, source = t.mode, t.source
                else:  # a sheet or board (its references), or a sound (hostile H13f)
                    mode = "image" if t.kind == "image" else "sound"
                    source = ", ".join(t.depends_on) or None
                used = t.scene in wanted
                if not used and take is None:
                    continue  # a board no clip uses and nobody made yet: `render --boards`
                action = a.action if used or not a.stale else "for render --boards"
                rows.append(
                    SceneStatus(
                        scene=t.scene,
                        mode=mode,
                        source=source,
                        stale=a.stale and used,
                        action=action,
                        reasons=(list(a.reasons) if used else [])
                        + [why for why, _ in pending.get(t.scene, [])],
                        take=take.n if take else None,
                        next_cost=(a.cost if a.stale and used and t.scene not in paid_for else 0.0)
                        + sum(price for _, price in pending.get(t.scene, [])),
                        price_known=t.price_known,
                    )
                )
            waiting = [  # accepted by the service: paid (a pending one maybe never sent)
                Uncollected(t.scene, t.task_uuid, t.state, t.price)
                for t in state.uncollected()
                if t.state != "pending"
            ]
            paid, would = state.spent_split(self._backend(draft).maker != RUNWARE)
            return Status(rows, paid, waiting, self._film(found), would_cost=would)

    def _film(self, found: dict[str, Assessment]) -> FilmStatus:
        from storyboard.cut.compose import film_state, output_path

        dest = output_path(self._spec)
        takes = {s: a.use for s, a in found.items() if a.use is not None}
        wanted = self._compiled().wanted()
        todo = [s for s, a in found.items() if a.stale and s in wanted]
        if todo:
            n = len(todo)
            what = "scene" if all(":" not in s for s in todo) else "task"
            return FilmStatus(dest, False, [f"{n} {what}{'s' if n > 1 else ''} to render first"])
        st = film_state(self._spec, takes)
        return FilmStatus(dest, st.up_to_date, st.reasons)

    def takes(self, scene: str, draft: bool = False) -> list[TakeInfo]:
        """Every take of ``scene``, oldest first; ``chosen`` marks the one in the cut; each
        with the model, size and prompt it was made from and whether that is still current
        (``draft``: as ``render --draft`` judges it)."""
        return self.all_takes([scene], draft)[node_name(scene)]

    def all_takes(self, names: Sequence[str], draft: bool = False) -> dict[str, list[TakeInfo]]:
        """:meth:`takes` of each of ``names`` (scene ids or task names), the build state read
        once for all of them (a review page of 120 lines read it 120 times)."""
        from storyboard.generate.picks import take_rows

        plan = self._compiled()
        plan.require_scenes(list(names))
        maker = self._backend(draft).maker
        out: dict[str, list[TakeInfo]] = {}
        with self._state() as state:
            for scene in map(node_name, names):
                chosen = state.lock.get(scene)
                out[scene] = [
                    dataclasses.replace(
                        _take_info(self.root, r.take, state, chosen),
                        model=r.model,
                        size=r.size,
                        prompt=r.prompt,
                        current=r.current,
                    )
                    for r in take_rows(plan, state, scene, maker)
                ]
        return out

    def pick(
        self,
        scene: str,
        take: int,
        *,
        wait: bool = True,
        progress: ProgressCallback | None = None,
        draft: bool = False,
    ) -> PickResult:
        """Put take number ``take`` of ``scene`` in the cut (rewrites ``storyboard.lock``);
        ``draft``: judged as ``render --draft`` would (``--draft`` takes are current).

        The pick sticks while the scene keeps its content; when the scene changes, the next
        render makes a new take (changing it back brings this pick back). ``stale`` lists the
        scenes continuing from it that the next render generates. Raises
        :class:`~storyboard.StoryboardError` when there is no such take, or (with
        ``wait=False``) when another command is writing the project; otherwise waits for
        it, saying so through ``progress``.
        """
        from storyboard.generate.picks import pick_take

        plan = self._compiled()
        plan.require_scenes([scene])
        scene = node_name(scene)
        with self._state("pick", wait, CallbackProgress(progress)) as state:
            done = pick_take(plan, state, scene, take, self._backend(draft).maker)
        return PickResult(scene, take, plan.downstream(scene), done.stale, done.warnings)

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
        return await render_async(self, req, CallbackProgress(progress))

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
            if self.real:
                require_real_takes(state, self.scenes)
            done = compose_film(
                self._spec,
                state,
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

        if variant is not None:
            return self._film_of(variant).export(format, dest)
        with self._state() as state:
            return export_cut(self._spec, state.lock, format, Path(dest) if dest else None)


def _take_info(root: Path, t: Take, state: BuildState, chosen: Take | None) -> TakeInfo:
    return TakeInfo(
        scene=t.scene,
        n=t.n,
        file=t.file,
        path=root / t.file,
        duration=t.duration if t.duration is not None else _sound_length(root, t, state),
        cost=t.cost,
        created=datetime.fromtimestamp(t.created_at, UTC),
        chosen=chosen is not None and chosen.video_uuid == t.video_uuid,
        missing=not state.file_ok(t),
        nsfw=t.nsfw,
        video_uuid=t.video_uuid,
        video_id=t.video_id,
        url=t.url,
        sha256=t.sha256,
        placeholder=t.maker != RUNWARE,
    )


def _sound_length(root: Path, t: Take, state: BuildState) -> float | None:
    """A spoken line's, an effect's or the music's length, read from its file (the service
    does not say it); None for a picture (hostile2 H13e: both were shown as 0.0 s)."""
    from storyboard.files import SOUND_SUFFIXES
    from storyboard.media.probe import duration_cached

    if Path(t.file).suffix.lower() not in SOUND_SUFFIXES:
        return None
    path = state.path_of(t)
    try:
        if path is None or not state.file_ok(t):
            return None
        return duration_cached(path, t.media_key, root / "build" / "media")
    except StoryboardError:
        return None
