"""The animatic (issue 17): the film cut from the boards, before any clip is bought.

Each scene's board (its keyframe) becomes a still shot held for the scene's duration with a slow
push-in; the shots are cut exactly as the film is (transitions, captions, music, loudness), into
``build/NAME.animatic.EXT``. The still shots are derived files, made once per board and length
(``build/takes/animatic/``: content-addressed, inside the takes folder so the cut reads them
with the same confinement and hash checks as clips).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyboard.board.assets import animatic_path, contact_sheet_path
from storyboard.board.schema import parse_size
from storyboard.board.spec import Project
from storyboard.errors import ComposeError
from storyboard.files import resolve_inside
from storyboard.media.ffmpeg import audio_codec_args, run_ffmpeg, video_codec_args
from storyboard.media.probe import media_key

from .compose import ComposeResult, compose_film
from .takes import ChosenTake

PUSH_IN = 0.08  # the push-in: the frame grows by 8% over the shot (a look, not a model fact)
FPS = 30
FOLDER = "build/takes/animatic"


@dataclass(frozen=True)
class Still:
    """A board held as a shot: a take-shaped record the cut reads like a clip."""

    n: int
    file: str
    sha256: str
    size: int
    duration: float | None
    offset: float = 0.0

    @property
    def media_key(self) -> str:
        return media_key(self.sha256, self.size)


class Stills:
    """A lock of still shots, scene id -> :class:`Still` (what ``compose_film`` reads)."""

    def __init__(self, root: Path, lock: Mapping[str, ChosenTake]):
        self.root = root
        self._lock = lock

    @property
    def lock(self) -> Mapping[str, ChosenTake]:
        return self._lock

    def file_ok(self, take: Any) -> bool:
        p = resolve_inside(self.root, take.file)
        return p is not None and p.is_file() and p.stat().st_size == take.size


def still_shot(project: Project, scene_id: str, board: ChosenTake, seconds: float) -> Still:
    """The board of a scene as a shot of ``seconds`` with a slow push-in (made once)."""
    src = project.root / board.file
    w, h = parse_size(project.board.output.size or project.board.size)
    frames = max(1, round(seconds * FPS))
    key = hashlib.sha256(f"{board.sha256}:{w}x{h}:{frames}:{PUSH_IN}".encode()).hexdigest()[:24]
    rel = f"{FOLDER}/{scene_id}-{key}.mp4"
    dest = project.root / rel
    if not dest.is_file():
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.stem + ".part.mp4")
        zoom = f"1+{PUSH_IN}*on/{frames}"
        vf = (
            f"scale={w * 2}:{h * 2}:force_original_aspect_ratio=increase,"
            f"crop={w * 2}:{h * 2},"
            f"zoompan=z='{zoom}':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d={frames}:"
            f"s={w}x{h}:fps={FPS},format=yuv420p"
        )
        run_ffmpeg(
            [
                "-i",
                str(src),
                "-f",
                "lavfi",
                "-t",
                f"{frames / FPS:.3f}",
                "-i",
                "anullsrc=r=48000:cl=stereo",
                "-vf",
                vf,
                "-frames:v",
                str(frames),
                *video_codec_args("MP4", 80, preset="veryfast"),
                *audio_codec_args("MP4", "96k"),
                "-shortest",
                "-movflags",
                "+faststart",
                str(tmp),
            ],
            what=f"animatic: {scene_id}",
        )
        tmp.replace(dest)
    data = dest.read_bytes()
    return Still(1, rel, hashlib.sha256(data).hexdigest(), len(data), frames / FPS)


def compose_animatic(
    project: Project,
    boards: Mapping[str, ChosenTake],
    log: Any = print,
    on_progress: Any = None,
    sounds: Mapping[str, ChosenTake] | None = None,
) -> ComposeResult:
    """Cut ``build/NAME.animatic.EXT`` from the boards (scene id -> its board's chosen take);
    ``sounds``: the chosen takes of the film's sound tasks (``line:``, ``music``, ``sfx:``)."""
    missing = [s.id for s in project.board.scenes if s.id not in boards]
    if missing:
        raise ComposeError(
            f"no board yet for {', '.join(missing)}: run `storyboard render "
            f"{project.root} --boards` first"
        )
    lock: dict[str, ChosenTake] = dict(sounds or {})
    for s in project.board.scenes:
        lock[s.id] = still_shot(project, s.id, boards[s.id], float(s.duration or 4.0))
    dest = animatic_path(project)
    rel = str(dest.relative_to(project.root))
    out = project.board.output.model_copy(update={"file": rel, "format": "MP4"})
    edit = project.board.edit
    if edit.music is None:  # boards are silent: nothing to bring to a loudness
        edit = edit.model_copy(update={"loudness": "off"})
    board = project.board.model_copy(update={"output": out, "edit": edit})
    shadow = Project(project.root, project.file, board, project.src, project.raw)
    # each film of the storyboard (issue 20) has its own animatic key and contact sheet
    shadow.stamp_name = f"animatic{project.suffix}.json"  # type: ignore[attr-defined]
    sheet = contact_sheet_path(project, animatic=True).name
    shadow.contact_sheet_name = sheet  # type: ignore[attr-defined]
    return compose_film(shadow, Stills(project.root, lock), log=log, on_progress=on_progress)
