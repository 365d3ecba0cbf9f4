"""The review page's, ``export``'s and the watch loop's view of a project, over the public API.

Nothing is cached between calls: the storyboard is loaded again (``storyboard.load``) and the
journal and lock are read fresh, so an edit or a render run from another terminal shows up on
the next read. Every write goes through the API, which holds the project's writer lock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import storyboard.api as sb
from storyboard.api import review as extras

Log = Callable[[str], None]


@dataclass(frozen=True)
class Offer:
    """What a render from the page would do, shown before it is asked for."""

    generate: list[str]
    """The tasks it would send."""
    cost: float
    """US dollars."""
    real: bool
    """Spent on the real service (else the local emulator)."""
    refused: str | None
    """Why a budgeted render would be refused whatever the budget (a price no source gives)."""
    fetch: list[str]
    """The tasks whose take file it fetches again (missing, or not the bytes kept): not paid."""


@dataclass
class RenderSummary:
    """What a render from the page or the watch loop did."""

    generated: list[str]
    failed: dict[str, str]
    spent: float
    """US dollars; with the emulator, what the real service would have charged."""
    film: Path | None
    real: bool = False


def open_project(path: str | Path, draft: bool = False) -> ReviewProject:
    """The project at ``path`` (its folder or its storyboard file), checked once on the way in.

    ``draft``: as ``render --draft`` (emulator only): renders make small, fast placeholder clips
    and ``--draft`` takes count as up to date.
    """
    project = sb.load(path)
    project.validate()
    return ReviewProject(project.file, draft)


class ReviewProject:
    """One project, loaded again on every call."""

    def __init__(self, file: Path, draft: bool = False, variant: str = "main") -> None:
        self.file = file
        self.root = file.parent
        self.draft = draft
        self.variant = variant  # which film of the storyboard the page shows (issue 20)

    def for_variant(self, name: str | None) -> ReviewProject:
        """The same project, showing the film ``name`` (``main`` or a variant's name)."""
        return ReviewProject(self.file, self.draft, name or "main")

    def load(self) -> sb.Project:
        """The storyboard as it is on disk now (raises StoryboardError when it is broken)."""
        project = sb.load(self.file).variant(self.variant)
        project.validate()
        return project

    def scene_ids(self) -> list[str]:
        """What ``retake`` and ``pick`` may name in the storyboard as it is now: its scene ids,
        then its other tasks (``cast:NAME`` sheets, ``board:SCENE`` boards, sounds; issue 17)."""
        project = self.load()
        return list(dict.fromkeys([*project.scenes, *project.nodes(), *project.nodes(True)]))

    def pick(self, scene: str, n: int) -> tuple[list[str], list[str], list[str]]:
        """Put take ``n`` of ``scene`` in the cut; returns the scenes the next render makes,
        the warnings (a take whose file does not match its sha256, NSFW, ...) and the scenes
        whose takes made from this one it put in the cut with it."""
        done = self.load().pick(scene, n, wait=False, draft=self.draft)  # hostile F6
        return list(done.stale), list(done.warnings), list(done.kept)

    def offer(self, retake: Sequence[str] = ()) -> Offer:
        """What a render with these retakes would do, from one load of the project: nothing is
        spent."""
        from storyboard.errors import BudgetError

        project = self.load()
        refused = None
        try:  # the page's render always has a budget: a node no source prices stops it
            found = project.plan(list(retake), budget=1e12, draft=self.draft)
        except BudgetError as e:  # hostile N13 F2
            refused = str(e).replace("--budget cannot hold it", "a budget cannot hold it")
            found = project.plan(list(retake), draft=self.draft)
        status = project.status(draft=self.draft)
        fetch = [s.scene for s in status.scenes if s.action == "re-download"]
        return Offer(found.task_names, round(found.cost, 4), project.real, refused, fetch)

    def render(
        self,
        retake: Sequence[str] = (),
        budget: float | None = None,
        compose: bool = True,
        log: Log | None = None,
        wait: bool = False,
    ) -> RenderSummary:
        """Generate what is stale (over ``budget`` nothing is spent), then compose the film.

        ``wait=False``: a project another command is writing raises at once instead of waiting.
        """
        project = self.load()

        def progress(event: sb.Event) -> None:
            if log is not None and isinstance(event, sb.Log | sb.Note):
                log(str(event))

        result = project.render(
            retake=list(retake), budget=budget, progress=progress, wait=wait, draft=self.draft
        )
        made = [s.scene for s in result.scenes if s.status == "generated"]
        failed = {s.scene: s.error or s.status for s in result.failed}
        film = None
        if compose and not failed:
            film = project.compose(wait=wait, progress=progress).film
        return RenderSummary(made, failed, result.spent, film, project.real)

    def export(self, fmt: str, dest: Path | None = None) -> Path:
        """The cut for an editor (otio, fcpxml, edl)."""
        return extras.export(self.load(), fmt, dest)

    def film_file(self) -> Path:
        """Where the film is (or will be)."""
        return self.load().film_file

    def film_cut(self) -> extras.FilmCut | None:
        """The film's path, chapters and captions (None until every scene has a take)."""
        return extras.film_cut(self.load())

    def snapshot(self) -> dict[str, Any]:
        """Everything the page shows, as JSON-ready data (see ``review/page.py``)."""
        from .page import snapshot

        return snapshot(self)
