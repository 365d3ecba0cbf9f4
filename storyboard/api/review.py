"""What the review page, ``export`` and ``render --watch`` need beyond :class:`Project`'s methods.

Functions over a loaded :class:`~storyboard.api.Project`: the cut for an editor, the film's
chapters and captions, and what the journal says about scenes being generated or failed (so a
page can show a render run by any process).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .project import Project


@dataclass(frozen=True)
class Chapter:
    """One scene's place in the film."""

    scene: str
    start: float
    """Seconds into the film where the scene is fully on screen (mid-transition)."""
    end: float


@dataclass(frozen=True)
class Cue:
    """One caption (a dialogue line) on the film's timeline."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class FilmCut:
    """The film file and its timeline, as the lock has it now."""

    path: Path
    duration: float
    chapters: list[Chapter]
    captions: list[Cue]


@dataclass(frozen=True)
class Activity:
    """The newest journal task of a scene: ``pending``, ``submitted``, ``done`` or ``failed``."""

    scene: str
    state: str
    started: float
    """When it was journaled (Unix time)."""
    error: str | None


def export(project: Project, fmt: str, dest: Path | None = None) -> Path:
    """Write the cut for an editor as ``otio``, ``fcpxml`` or ``edl``; returns the file.

    The default file sits beside the film (``build/<film>.<ext>``). Raises
    :class:`~storyboard.ComposeError` when a scene has no take yet.
    """
    return project.export(fmt, dest)


def film_cut(project: Project) -> FilmCut | None:
    """The film's chapters (one per scene) and captions; None until every scene has a take."""
    from storyboard.cut.compose import output_path
    from storyboard.cut.export import lock_timeline

    spec = project._spec
    with project._state() as state:
        if any(s.id not in state.lock for s in spec.board.scenes):
            return None
        tl = lock_timeline(spec, state.lock)
    starts = [seg.start + seg.overlap / 2 for seg in tl.segments]
    chapters = [
        Chapter(seg.scene, round(a, 3), round(starts[i + 1] if i + 1 < len(starts) else seg.end, 3))
        for i, (seg, a) in enumerate(zip(tl.segments, starts, strict=True))
    ]
    cues = [Cue(c.start, c.end, c.text) for c in tl.captions]
    return FilmCut(output_path(spec), tl.duration, chapters, cues)


def activity(project: Project) -> dict[str, Activity]:
    """Each scene's newest journal task (what a render, from any process, is doing)."""
    with project._state() as state:
        tasks = sorted(state.all_tasks(), key=lambda t: t.created_at)
    return {t.scene: Activity(t.scene, t.state, t.created_at, t.error) for t in tasks}


def writer(project: Project) -> tuple[str, int] | None:
    """The process writing the project now, as ``(what, pid)``; None when nobody is.

    Read from ``/proc/locks`` (who holds the flock on ``build/.lock``), never by trying the lock:
    a probe could make a real writer's ``--no-wait`` fail. Where ``/proc/locks`` is missing, the
    lock file's note is trusted when its process is alive.
    """
    import os

    from storyboard.generate.writer import holder

    lock = project.root / "build" / ".lock"
    try:
        st = lock.stat()
    except OSError:
        return None
    who = holder(project.root)
    try:
        text = Path("/proc/locks").read_text()
    except OSError:
        text = None
    if text is not None:
        for line in text.splitlines():
            f = line.split()
            # "1: FLOCK ADVISORY WRITE PID MAJ:MIN:INODE 0 EOF"; "->" lines are waiters
            if len(f) >= 6 and f[1] == "FLOCK" and f[5].endswith(f":{st.st_ino}"):
                return (who[0] if who else "render"), int(f[4])
        return None
    if who is None:
        return None
    try:
        os.kill(who[1], 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, another user's
    return who


def shared_templates() -> Path:
    """The shared prompt templates folder (renders read it too, so a watch loop watches it)."""
    from storyboard.board.prompts import SHARED_TEMPLATES

    return SHARED_TEMPLATES
