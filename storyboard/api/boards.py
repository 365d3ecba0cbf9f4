"""The animatic behind :meth:`storyboard.Project.animatic` (issue 17): the boards in the lock,
cut as the film is cut."""

from __future__ import annotations

from typing import TYPE_CHECKING

from storyboard.errors import ComposeError

from .events import CallbackProgress, ProgressCallback
from .results import ComposeResult

if TYPE_CHECKING:
    from .project import Project


def cut_animatic(
    project: Project, *, wait: bool = True, progress: ProgressCallback | None = None
) -> ComposeResult:
    """Cut ``build/NAME.animatic.mp4`` from each scene's chosen board."""
    from storyboard.cut.animatic import compose_animatic

    events = CallbackProgress(progress)
    spec = project._spec
    with project._state("compose", wait, events) as state:
        boards = {}
        for scene in spec.board.scenes:
            take = state.lock.get(f"board:{scene.id}")
            if take is None:
                continue
            if not state.file_ok(take):
                raise ComposeError(
                    f"board:{scene.id}: take {take.n} file {take.file} is missing or damaged; "
                    f"run `storyboard render {project.root} --boards` to fetch it again"
                )
            boards[scene.id] = take
        done = compose_animatic(spec, boards, log=events.log, on_progress=events.frames)
    return ComposeResult.of(done)
