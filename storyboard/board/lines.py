"""The storyboard's lines (issue 18): each dialogue and narration line of a scene, in file
order, named ``line:SCENE/N``, with the voiced speaker when its speaker has a voice.

The plan makes a speech task of every voiced line; the cut places every line in time
(``cut/dialogue``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .spec import Project
from .voices import speaker_of, voices

NARRATOR = "narrator"


@dataclass(frozen=True)
class Line:
    """One dialogue or narration line of a scene, as written."""

    node: str  # line:SCENE/N (N from 1, in file order)
    scene: str
    index: int  # the scene's index
    where: tuple[str | int, ...]  # its path in the file: scenes, i, dialogue|narration, k
    who: str  # as written (dialogue), or "narrator"
    speaker: str | None  # the voiced speaker (cast slug or "narrator"), None: caption only
    text: str
    at: float | None

    @property
    def voiced(self) -> bool:
        return self.speaker is not None

    @property
    def caption(self) -> str:
        return self.text if self.who == NARRATOR else f"{self.who}: {self.text}"


def scene_lines(project: Project, index: int) -> list[Line]:
    """A scene's dialogue and narration lines in file order, named ``line:SCENE/N``."""
    scene = project.board.scenes[index]
    speaking = voices(project)
    found: list[tuple[int, int, Line]] = []
    for k, d in enumerate(scene.dialogue):
        slug = speaker_of(project, d.who)
        where = ("scenes", index, "dialogue", k)
        who = slug if slug in speaking else None
        found.append(
            (
                _line_no(project, where),
                len(found),
                Line("", scene.id, index, where, d.who, who, d.line, d.at),
            )
        )
    for k, n in enumerate(scene.narration):
        where = ("scenes", index, "narration", k)
        who = NARRATOR if NARRATOR in speaking else None
        found.append(
            (
                _line_no(project, where),
                len(found),
                Line("", scene.id, index, where, NARRATOR, who, n.line, n.at),
            )
        )
    found.sort(key=lambda x: (x[0], x[1]))
    return [replace(ln, node=f"line:{scene.id}/{n}") for n, (_, _, ln) in enumerate(found, 1)]


def _line_no(project: Project, where: tuple[str | int, ...]) -> int:
    return project.line(where) or 0


def all_lines(project: Project) -> list[Line]:
    return [ln for i in range(len(project.board.scenes)) for ln in scene_lines(project, i)]


def timed(project: Project, index: int) -> bool:
    """Whether a scene's lines are placed by this module (any voiced line or any ``at``);
    otherwise its captions are spread over the scene as before voices existed."""
    return any(ln.voiced or ln.at is not None for ln in scene_lines(project, index))
