"""When each line is said (issue 18): dialogue and narration placed in their scenes.

Pure, like the timeline: a line starts at its ``at`` (seconds into its scene) or, without one,
a short gap after the line before it (the first one a moment after the scene is clear of its
transition). A spoken line lasts as long as its take really is (the file's probed length);
a line nobody voices lasts about as long as it takes to read. Its caption starts and ends with
it. A line that runs past its scene's end is a warning at the line's ``file:line``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from storyboard.board.audio_models import estimated_speech_seconds
from storyboard.board.lines import NARRATOR, Line, all_lines, scene_lines, timed
from storyboard.board.spec import Project

__all__ = ["GAP", "LEAD", "NARRATOR", "Line", "Placed", "all_lines", "place_lines", "timed"]

LEAD = 0.25  # seconds from the clear start of a scene to its first untimed line
GAP = 0.3  # seconds between a line and the next untimed one


@dataclass(frozen=True)
class Placed:
    """A line on the film's timeline."""

    line: Line
    start: float
    end: float


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
    film_end: float | None = None,
) -> tuple[list[Placed], list[str]]:
    """One scene's lines on the film timeline (the scene plays ``start``-``end`` and is clear
    of transitions from ``clear_start``), and a warning for each line that overflows it
    (``film_end``: where the film ends; a line past it is cut there, or not heard at all:
    hostile helpers 56 and 58: it said only "runs past", and the line was dropped)."""
    placed: list[Placed] = []
    warnings: list[str] = []
    t = clear_start + LEAD
    for ln in scene_lines(project, index):
        begin = start + ln.at if ln.at is not None else t
        finish = begin + line_length(ln, lengths)
        placed.append(Placed(ln, round(begin, 4), round(finish, 4)))
        t = finish + GAP
        over = finish - end
        long = f"({end - start:.2f} s long)"
        unheard = film_end is not None and begin >= film_end - 0.005
        cut = film_end is not None and finish > film_end + 0.005
        if begin >= end - 0.005:
            fate = (
                "the film ends first: it is not heard"
                if unheard
                else "the film ends first, and cuts it"
                if cut
                else "it plays under what follows"
            )
            message = (
                f"warning: the line starts {begin - end:.2f} s after scene {ln.scene!r} ends "
                f"{long}: {fate}"
            )
            warnings.append(str(project.problem(ln.where, message)))
        elif over > 0.005:
            message = (
                f"warning: the line runs {over:.2f} s past the end of scene {ln.scene!r} {long}"
            )
            if cut:
                message += ": the film ends first, and cuts it"
            warnings.append(str(project.problem(ln.where, message)))
    return placed, warnings
