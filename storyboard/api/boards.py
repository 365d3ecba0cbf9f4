"""The animatic behind :meth:`storyboard.Project.animatic` (issue 17): the boards in the lock,
cut as the film is cut."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from storyboard.errors import ComposeError
from storyboard.files import shell_arg

from .events import CallbackProgress, ProgressCallback
from .results import ComposeResult

if TYPE_CHECKING:
    from .project import Project


@dataclass(frozen=True)
class CastInfo:
    """One member of the storyboard's cast, as the review page shows it."""

    name: str
    description: str
    images: list[str]
    """The member's own pictures (project-relative paths or https URLs)."""
    node: str | None
    """``cast:NAME`` when its reference sheet is generated (no pictures of its own)."""
    scenes: list[str]
    """The scenes it is in."""


def cast_of(project: Project) -> list[CastInfo]:
    """The members that have a picture (given or generated), in the storyboard's order; a
    member that is only a voice (issue 18) has none and is left out."""
    board = project._spec.board
    return [
        CastInfo(
            name,
            member.description,
            list(member.images),
            None if member.images else f"cast:{name}",
            [s.id for s in board.scenes if name in (s.cast or [])],
        )
        for name, member in board.cast.items()
        if member.description is not None
    ]


def animatic_file(project: Project) -> Path:
    """Where ``render --boards`` cuts the animatic (``build/NAME.animatic.mp4``)."""
    from storyboard.board.assets import animatic_path

    return animatic_path(project._spec)


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
                    f"run `storyboard render {shell_arg(project.root)} --boards` to fetch it again"
                )
            boards[scene.id] = take
        # the film's sounds play in the animatic too (lines, music, effects; not a lip sync,
        # which is a clip, nor the images)
        pictures = ("board:", "cast:", "lipsync:")
        scenes = {s.id for s in spec.board.scenes}
        sounds = {
            n: t for n, t in state.lock.items() if n not in scenes and not n.startswith(pictures)
        }
        done = compose_animatic(
            spec, boards, log=events.log, on_progress=events.frames, sounds=sounds
        )
    return ComposeResult.of(done)
