"""The build-state side of :class:`~storyboard.Project`: status, takes and picks.

Each reads the build state (journal, takes, ``storyboard.lock``) fresh; of these only
:meth:`Takes.pick` writes (the lock). ``_state`` opens the build state for the project's other
calls too (compose, export, the review page).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from storyboard.errors import StoryboardError
from storyboard.generate.staleness import Assessment, already_paid, assess, maybe_sent
from storyboard.generate.state import RUNWARE, BuildState, Take
from storyboard.plan.compile import node_name

from .arguments import scene_id, take_number
from .events import CallbackProgress, ProgressCallback
from .results import FilmStatus, PickResult, SceneStatus, Status, TakeInfo, Uncollected

if TYPE_CHECKING:
    from storyboard.board.spec import Project as _Spec
    from storyboard.generate.backend import BackendOptions
    from storyboard.plan.compile import Plan

    from .project import Project


class Takes:
    """The build-state side of :class:`~storyboard.Project`."""

    _spec: _Spec

    if TYPE_CHECKING:  # defined by Project (project.py) and Films (films.py)

        @property
        def root(self) -> Path: ...

        def _backend(self, draft: bool = False, latency: float = 1.0) -> BackendOptions: ...

        def _compiled(self) -> Plan: ...

        def _film_of(self, variant: str | None) -> Project: ...

        @property
        def variants(self) -> list[str]: ...

        @property
        def variant_name(self) -> str: ...

        def films(self, names: str | Sequence[str] = "all") -> list[Project]: ...

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
        return self.all_takes([scene_id(scene)], draft)[node_name(scene)]

    def all_takes(self, names: Sequence[str], draft: bool = False) -> dict[str, list[TakeInfo]]:
        """:meth:`takes` of each of ``names`` (scene ids or task names), the build state read
        once for all of them (a review page of 120 lines read it 120 times)."""
        from storyboard.generate.picks import take_rows

        plan = self._compiled()
        plan.require_scenes(list(names))
        maker = self._backend(draft).maker
        nodes = [node_name(n) for n in names]
        others = self._other_films(nodes, maker)
        out: dict[str, list[TakeInfo]] = {}
        with self._state() as state:
            for scene in nodes:
                chosen = state.lock.get(scene)
                out[scene] = [
                    dataclasses.replace(
                        _take_info(self.root, r.take, state, chosen),
                        model=r.model,
                        size=r.size,
                        prompt=r.prompt,
                        current=r.current,
                        film=None if r.current else others[scene].get(r.take.key),
                    )
                    for r in take_rows(plan, state, scene, maker)
                ]
        return out

    def _other_films(self, nodes: list[str], maker: str) -> dict[str, dict[str, str]]:
        """For each node, the content keys the storyboard's other films have for it now, and
        the film of each: a take of another film is named for it, not called stale (hostile
        helper-45: a variant's take read as "made from an earlier version of the scene")."""
        from storyboard.generate.staleness import accepted_makers, scene_keys

        found: dict[str, dict[str, str]] = {n: {} for n in nodes}
        if not self.variants:
            return found
        for film in self.films("all"):
            if film.variant_name == self.variant_name:
                continue
            try:
                plan = film._compiled()
            except StoryboardError:  # a film that does not compile: its takes stay stale
                continue
            for m in accepted_makers(maker):
                keys = scene_keys(plan, m)
                for n in nodes:
                    if n in keys:
                        found[n].setdefault(keys[n], film.variant_name)
        return found

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
        scenes continuing from it that the next render generates; those that have a take made
        from this one are put in the cut with it. Raises
        :class:`~storyboard.StoryboardError` when there is no such take, or (with
        ``wait=False``) when another command is writing the project; otherwise waits for
        it, saying so through ``progress``.
        """
        from storyboard.generate.picks import pick_take

        scene, take = scene_id(scene), take_number(take)
        plan = self._compiled()
        plan.require_scenes([scene])
        scene = node_name(scene)
        with self._state("pick", wait, CallbackProgress(progress)) as state:
            done = pick_take(plan, state, scene, take, self._backend(draft).maker)
        return PickResult(scene, take, plan.downstream(scene), done.stale, done.warnings, done.kept)


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
