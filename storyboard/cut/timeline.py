"""The cut as data: which part of which file plays when, the transitions, and the captions.

Pure: computed from the storyboard, the lock and each file's probed length, so the film's
length and every caption time are known (and tested) before anything is encoded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from storyboard.board.schema import parse_size
from storyboard.board.spec import Project
from storyboard.errors import ComposeError

from .dialogue import Placed, place_lines, timed
from .takes import ChosenTake


@dataclass(frozen=True)
class Segment:
    """One scene's footage on the film's timeline."""

    scene: str
    take: ChosenTake
    file: str  # relative to the project
    src_start: float  # seconds into the file
    duration: float  # whole frames at the film's fps
    start: float  # on the film timeline
    transition: str  # into this segment: cut | crossfade | fade
    overlap: float  # seconds shared with the previous segment
    dialogue: tuple[tuple[str, str], ...] = ()

    @property
    def end(self) -> float:
        return self.start + self.duration


@dataclass(frozen=True)
class Caption:
    start: float
    end: float
    text: str


@dataclass
class Timeline:
    segments: list[Segment]
    fps: int
    width: int
    height: int
    fade_in: float = 0.0
    fade_out: float = 0.0
    captions: list[Caption] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # what was shortened to fit
    # variants (issue 20): clips of another aspect are padded (letterbox) or cropped
    reframe: str = "pad"
    focus: tuple[float, float] = (0.5, 0.5)
    lines: list[Placed] = field(default_factory=list)  # issue 18: lines placed in time

    @property
    def duration(self) -> float:
        return self.segments[-1].end if self.segments else 0.0

    def frames(self) -> int:
        return round(self.duration * self.fps)


def build_timeline(
    project: Project,
    lock: Mapping[str, ChosenTake],
    lengths: dict[str, float],
    line_lengths: Mapping[str, float] | None = None,
) -> Timeline:
    """Lay the chosen takes end to end with their trims and transitions.

    ``lengths`` maps each take's file to its probed duration; ``line_lengths`` each spoken
    line's node (``line:SCENE/N``) to its take's length (a line without one is estimated).
    """
    board = project.board
    fps = board.output.fps
    width, height = parse_size(board.output.size or board.size)
    missing = [s.id for s in board.scenes if s.id not in lock]
    if missing:
        raise ComposeError(
            f"no take yet for {', '.join(missing)}: run `{project.render_command}` first"
        )
    segments: list[Segment] = []
    warnings: list[str] = []
    t = 0.0
    for i, scene in enumerate(board.scenes):
        take = lock[scene.id]
        length = lengths[take.file]
        part_start = min(take.offset, max(0.0, length - 1.0 / fps))
        part_len = length - part_start
        trim_in = scene.trim.in_ if scene.trim else 0.0
        trim_out = scene.trim.out if scene.trim and scene.trim.out is not None else part_len
        if trim_out > part_len + 0.5 / fps:
            warnings.append(
                f"scene {scene.id!r}: trim.out {trim_out:g} s is past the end of its "
                f"{part_len:.2f} s clip; cut at {part_len:.2f} s"
            )
        trim_out = min(trim_out, part_len)
        if trim_in >= trim_out:
            raise ComposeError(
                f"scene {scene.id!r}: trim {trim_in:g}-{trim_out:g} s leaves nothing"
                f" of a {part_len:.2f} s clip"
            )
        frames = max(1, round((trim_out - trim_in) * fps))
        duration = frames / fps
        tr = scene.transition or board.edit.transition
        kind = tr.type if i > 0 else "cut"
        if i == 0 and scene.transition is not None and scene.transition.type != "cut":
            warnings.append(
                f"scene {scene.id!r}: the first scene has nothing to "
                f"{scene.transition.type} from; it starts cut"
            )
        overlap = 0.0
        if kind != "cut":
            prev = segments[-1].duration
            overlap_frames = round(min(tr.duration, duration / 2, prev / 2) * fps)
            overlap = overlap_frames / fps
            if overlap_frames == 0:
                warnings.append(
                    f"scene {scene.id!r}: too short for a {kind}; joined with a cut instead"
                )
                kind = "cut"
            elif overlap_frames < round(tr.duration * fps):
                warnings.append(
                    f"scene {scene.id!r}: {kind} of {tr.duration:g} s shortened to "
                    f"{overlap:.2f} s (half the shorter clip)"
                )
        start = t - overlap
        segments.append(
            Segment(
                scene.id,
                take,
                take.file,
                part_start + trim_in,
                duration,
                start,
                kind,
                overlap,
                tuple((d.who, d.line) for d in scene.dialogue),
            )
        )
        t = start + duration
    tl = Timeline(segments, fps, width, height, board.edit.fade_in, board.edit.fade_out)
    timed_scenes = {s.id for i, s in enumerate(board.scenes) if timed(project, i)}
    captions = caption_times(tl, skip=timed_scenes)
    for i, seg in enumerate(segments):  # issue 18: lines at their time, captions with them
        if seg.scene not in timed_scenes:
            continue
        next_overlap = segments[i + 1].overlap if i + 1 < len(segments) else 0.0
        placed, late = place_lines(
            project,
            i,
            seg.start,
            seg.start + seg.overlap,
            seg.end - next_overlap,
            line_lengths or {},
            film_end=tl.duration,
        )
        tl.lines.extend(placed)
        warnings.extend(late)
        captions.extend(Caption(p.start, p.end, caption_text(p.line.caption)) for p in placed)
    tl.captions = within(sorted(captions, key=lambda c: c.start), tl.duration)
    tl.warnings = warnings
    tl.reframe, tl.focus = project.reframe, project.focus
    return tl


def within(captions: list[Caption], end: float) -> list[Caption]:
    """The captions cut to a film ``end`` seconds long: a cue that runs past the end ends
    there, one that starts at or after it is left out (hostile fix-44 P2: a narration line
    longer than the last scene had its cue run 2 s past the film)."""
    end = round(end, 3)
    return [
        c if c.end <= end else Caption(c.start, end, c.text)
        for c in captions
        if round(c.start, 3) < end
    ]


MIN_CUE = 0.4  # seconds a caption needs on screen to be read; more lines share a cue


def caption_text(text: str) -> str:
    """One line of plain text: no line breaks, control characters or ``-->`` that could
    start a cue of their own in the SRT file."""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return re.sub(r"-{2,}>", "->", " ".join(text.split()))


def caption_times(tl: Timeline, skip: set[str] | frozenset[str] = frozenset()) -> list[Caption]:
    """Dialogue lines timed inside the clear part of their scene (outside transitions); the
    scenes in ``skip`` have their lines placed in time instead (``dialogue.place_lines``)."""
    out: list[Caption] = []
    segs = tl.segments
    for i, seg in enumerate(segs):
        if not seg.dialogue or seg.scene in skip:
            continue
        clear_start = seg.start + seg.overlap
        next_overlap = segs[i + 1].overlap if i + 1 < len(segs) else 0.0
        clear_end = seg.end - next_overlap
        span = max(0.01, clear_end - clear_start)
        t = clear_start + min(0.25, span * 0.05)
        usable = span - 2 * min(0.25, span * 0.05)
        lines = [
            (caption_text(f"{who}: {line}"), min(200, max(8, len(line))))
            for who, line in seg.dialogue
        ]
        # more lines than fit: consecutive lines share a cue rather than flash by (or vanish)
        per_cue = -(-len(lines) // max(1, int(usable / MIN_CUE)))
        cues = [
            (
                " / ".join(text for text, _ in lines[k : k + per_cue]),
                sum(w for _, w in lines[k : k + per_cue]),
            )
            for k in range(0, len(lines), per_cue)
        ]
        total = sum(w for _, w in cues)
        for text, w in cues:
            d = usable * w / total
            start, end = round(t, 3), round(t + d - min(0.05, d * 0.2), 3)
            out.append(Caption(start, max(end, start + 0.001), text))
            t += d
    return out


def srt(captions: list[Caption]) -> str:
    """SubRip text."""

    def ts(x: float) -> str:
        ms = int(round(x * 1000))
        h, ms = divmod(ms, 3_600_000)
        m, ms = divmod(ms, 60_000)
        s, ms = divmod(ms, 1000)
        return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"

    blocks = [
        f"{i}\n{ts(c.start)} --> {ts(max(c.end, c.start + 0.001))}\n{caption_text(c.text)}\n"
        for i, c in enumerate(captions, 1)
    ]
    return "\n".join(blocks)


def parse_srt(text: str) -> list[Caption]:
    """Read SubRip text back (the inverse of :func:`srt`)."""
    out = []
    pat = re.compile(
        r"(\d+):(\d+):(\d+),(\d+) --> (\d+):(\d+):(\d+),(\d+)\n(.*?)(?:\n\n|\n?$)", re.S
    )
    for m in pat.finditer(text):
        g = [int(x) for x in m.groups()[:8]]
        a = g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000
        b = g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000
        out.append(Caption(a, b, m.group(9).strip()))
    return out
