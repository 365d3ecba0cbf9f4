"""When each line is said (issue 18): dialogue and narration placed in their scenes.

Pure, like the timeline: a line starts at its ``at`` (seconds into its scene) or, without one,
a short gap after the line before it (the first one a moment after the scene is clear of its
transition). A spoken line lasts as long as its take really is (the file's probed length);
a line nobody voices lasts about as long as it takes to read. Its caption starts and ends with
it. A line that runs past its scene's end is a warning at the line's ``file:line``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from storyboard.board.audio_models import estimated_speech_seconds
from storyboard.board.spec import Project
from storyboard.board.voices import speaker_of, voices

LEAD = 0.25  # seconds from the clear start of a scene to its first untimed line
GAP = 0.3  # seconds between a line and the next untimed one
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


@dataclass(frozen=True)
class Placed:
    """A line on the film's timeline."""

    line: Line
    start: float
    end: float


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


def line_length(line: Line, lengths: Mapping[str, float]) -> float:
    """A line's length: its spoken take's real length, or about how long it takes to read."""
    if line.voiced and line.node in lengths:
        return lengths[line.node]
    return estimated_speech_seconds(line.text)


def place_lines(
    project: Project,
    index: int,
    start: float,
    clear_start: float,
    end: float,
    lengths: Mapping[str, float],
) -> tuple[list[Placed], list[str]]:
    """One scene's lines on the film timeline (the scene plays ``start``-``end`` and is clear
    of transitions from ``clear_start``), and a warning for each line that overflows it."""
    placed: list[Placed] = []
    warnings: list[str] = []
    t = clear_start + LEAD
    for ln in scene_lines(project, index):
        begin = start + ln.at if ln.at is not None else t
        finish = begin + line_length(ln, lengths)
        placed.append(Placed(ln, round(begin, 4), round(finish, 4)))
        t = finish + GAP
        over = finish - end
        if over > 0.005:
            message = (
                f"warning: the line runs {over:.2f} s past the end of scene {ln.scene!r} "
                f"({end - start:.2f} s long)"
            )
            warnings.append(str(project.problem(ln.where, message)))
    return placed, warnings
