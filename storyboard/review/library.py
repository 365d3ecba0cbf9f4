"""What the review page, ``export`` and ``render --watch`` ask of a project, in one place.

Everything here goes through the same library calls as the CLI's commands (load, compile,
assess, render, pick, compose), and every write holds the project's writer lock. Nothing is
cached between calls: the storyboard, the journal and the lock are read fresh, so a render run
from another terminal shows up on the next read.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import storyboard
from storyboard.board.spec import Project as Spec
from storyboard.board.spec import load_project
from storyboard.generate.state import BuildState, Take
from storyboard.generate.writer import holder
from storyboard.plan.compile import Plan, compile_project

Log = Callable[[str], None]


@dataclass
class RenderSummary:
    """What a render from the page or the watch loop did."""

    generated: list[str]
    failed: dict[str, str]
    spent: float
    film: Path | None


def open_project(path: str | Path, draft: bool = False) -> ReviewProject:
    """The project at ``path`` (its folder or its storyboard file), checked once on the way in."""
    spec = load_project(path)
    compile_project(spec)
    return ReviewProject(spec.file, draft)


def pid_alive(pid: int) -> bool:
    """True when a process with this id exists (also when it belongs to another user)."""
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ReviewProject:
    """One project, re-read on every call."""

    def __init__(self, file: Path, draft: bool = False) -> None:
        self.file = file
        self.root = file.parent
        self.draft = draft  # renders make --draft clips, and draft takes count as up to date

    def maker(self) -> str:
        """Who a render from here would make takes with (``runware``, ``emulator``, ``draft``)."""
        from storyboard.generate.backend import BackendOptions

        opts = BackendOptions.from_env()
        opts.emulator_draft = self.draft
        return opts.maker

    def load(self) -> tuple[Spec, Plan]:
        """The storyboard as it is on disk now, compiled (raises StoryboardError when broken)."""
        spec = load_project(self.file)
        return spec, compile_project(spec)

    def _state(self, writer: str | None = None) -> BuildState:
        return BuildState(self.root, writer=writer, wait=False)

    def rendering(self) -> tuple[str, int] | None:
        """The live process holding the writer lock, as ``(what, pid)``, or None."""
        who = holder(self.root)
        if who is None or not pid_alive(who[1]):
            return None
        return who

    def in_flight(self, state: BuildState) -> dict[str, tuple[str, float, str | None]]:
        """Latest journal task per scene: ``scene -> (state, started, error)``."""
        rows = state.db.execute(
            "SELECT scene, state, created_at, error FROM tasks ORDER BY created_at"
        ).fetchall()
        return {r[0]: (r[1], float(r[2]), r[3]) for r in rows}

    # -- actions (each one holds the writer lock, as the CLI's commands do) --------------------

    def api(self) -> storyboard.Project:
        """The project through the public API, as the storyboard is on disk now."""
        return storyboard.load(self.file)

    def pick(self, scene: str, n: int) -> list[str]:
        """Put take ``n`` of ``scene`` in the cut; returns the scenes now stale downstream."""
        return self.api().pick(scene, n, wait=False).downstream

    def plan_cost(self, retake: Sequence[str] = ()) -> tuple[list[str], float]:
        """What a render with these retakes would generate, and its cost (nothing is spent)."""
        plan = self.api().plan(retake, draft=self.draft)
        return [s.scene for s in plan.to_generate], round(plan.cost, 4)

    def render(
        self,
        retake: Sequence[str] = (),
        budget: float | None = None,
        compose: bool = True,
        log: Log | None = None,
    ) -> RenderSummary:
        """Generate what is stale (over ``budget`` nothing is spent), then compose the film."""
        say = log or (lambda _m: None)

        def progress(event: storyboard.Event) -> None:
            if isinstance(event, storyboard.Log):
                say(event.text)

        project = self.api()
        result = project.render(
            retake=retake, budget=budget, draft=self.draft, wait=False, progress=progress
        )
        generated = [s.scene for s in result.scenes if s.status == "generated"]
        failed = {s.scene: s.error or "failed" for s in result.failed}
        film = None
        if compose and not failed:
            film = project.compose(wait=False, progress=progress).film
        return RenderSummary(generated, failed, result.spent, film)

    def export(self, fmt: str, dest: Path | None = None) -> Path:
        """The cut for an editor (otio, fcpxml, edl); see :meth:`storyboard.Project.export`."""
        return self.api().export(fmt, dest)

    def film_timeline(self) -> tuple[Path, Any] | None:
        """The film's path and its timeline from the lock, when every scene has a take."""
        from storyboard.cut.compose import output_path
        from storyboard.cut.export import lock_timeline

        spec, _ = self.load()
        state = self._state()
        try:
            if any(s.id not in state.lock for s in spec.board.scenes):
                return None
            return output_path(spec), lock_timeline(spec, state.lock)
        finally:
            state.close()

    def snapshot(self) -> dict[str, Any]:
        """Everything the page shows, as JSON-ready data (see ``review/page.py``)."""
        from .page import snapshot

        return snapshot(self)


def take_request(state: BuildState, take: Take) -> dict[str, Any]:
    """The task that made a take (model, size), from the journal; empty when unknown."""
    t = state.task(take.task_uuid)
    return t.request if t else {}


def now() -> float:
    """Wall-clock seconds (one place, so tests can see what the page compares against)."""
    return time.time()
