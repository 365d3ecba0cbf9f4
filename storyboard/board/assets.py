"""Files a storyboard names: the film it writes must not replace an input or the build state,
and the images it reads must be real images of a sane size (checked from their headers)."""

from __future__ import annotations

from pathlib import Path

from storyboard.errors import Problem
from storyboard.files import resolve_inside
from storyboard.media.frames import ImageRefused, image_size

from .spec import Project

LOCK_FILE = "storyboard.lock"
EXTENSIONS = {"MP4": ".mp4", "MOV": ".mov", "WEBM": ".webm"}
MAX_IMAGE_BYTES = 50 * 1024 * 1024
# build/ holds the journal, the takes, caches and the contact sheet; only a film may sit there
BUILD_STATE = ("journal.sqlite", "contact-sheet.png")


def inputs(project: Project) -> dict[Path, str]:
    """Every local file the film is made from (resolved) -> the field that names it."""
    out: dict[Path, str] = {}
    board = project.board
    if board.edit.music is not None and board.edit.music.file is not None:
        p = resolve_inside(project.root, board.edit.music.file)
        if p is not None:
            out[p] = "edit.music.file"
    for i, scene in enumerate(board.scenes):
        for name in ("first_frame", "end_frame"):
            ff = getattr(scene, name)
            if ff is not None and ff != "board" and not ff.startswith(("http://", "https://")):
                p = resolve_inside(project.root, ff)
                if p is not None:
                    out.setdefault(p, f"scenes[{i}].{name}")
        for k, sound in enumerate(scene.sounds):  # issue 18: sound files placed in scenes
            if sound.file is not None:
                p = resolve_inside(project.root, sound.file)
                if p is not None:
                    out.setdefault(p, f"scenes[{i}].sounds[{k}].file")
    for name, member in board.cast.items():  # the cast's own pictures (issue 17)
        for k, image in enumerate(member.images):
            if not image.startswith(("http://", "https://")):
                p = resolve_inside(project.root, image)
                if p is not None:
                    out.setdefault(p, f"cast.{name}.images[{k}]")
    return out


def overwritten(project: Project, target: Path) -> str | None:
    """What writing ``target`` (resolved) would replace that the project is made of, if
    anything: the storyboard, the lock, the build state, the templates or an input."""
    try:
        rel = target.relative_to(project.root.resolve())
    except ValueError:
        return None  # outside the project: nothing of it
    parts = rel.parts
    if target == project.file.resolve():
        return "the storyboard"
    if rel == Path(LOCK_FILE):
        return "the lock file"
    if (
        parts
        and parts[0] == "build"
        and (len(parts) != 2 or parts[1].startswith((".", *BUILD_STATE)))
    ):
        return "the build state (journal, takes, caches)"
    if parts and parts[0] == "templates":
        return "the prompt templates"
    if target in (found := inputs(project)):
        return f"an input of the film ({found[target]})"
    return None


def check_output_file(project: Project) -> list[Problem]:
    """``output.file`` stays in the project and replaces nothing the project is made of."""
    out = project.board.output
    if out.file is None:
        return []
    field = ("output", "file")
    target = resolve_inside(project.root, out.file)
    if target is None:
        return [project.problem(field, f"{out.file!r} is outside the project folder")]
    ext = EXTENSIONS[out.format]
    what = overwritten(project, target)
    hint = f"; name a new file such as film{ext}"
    if what is not None:
        return [project.problem(field, f"{out.file!r} would overwrite {what}{hint}")]
    if target.is_dir():
        return [project.problem(field, f"{out.file!r} is a folder{hint}")]
    if target.suffix.lower() != ext:
        return [
            project.problem(
                field, f"{out.file!r} does not end in {ext} (output.format is {out.format}){hint}"
            )
        ]
    return []


def check_image(
    project: Project, index: int, value: str, path: Path, name: str = "first_frame"
) -> list[Problem]:
    """A first (or end) frame is a readable image under the size limits (only its header is
    read); ``name`` is the scene field that names it."""
    field = ("scenes", index, name)
    line = project.scene_line(index, name)
    kind = "an end frame" if name == "end_frame" else "a first frame"
    size = path.stat().st_size
    if size > MAX_IMAGE_BYTES:
        return [
            project.problem(
                field,
                f"{value!r} is {size / 2**20:.0f} MiB; {kind} may be at most "
                f"{MAX_IMAGE_BYTES // 2**20} MiB",
                line,
            )
        ]
    try:
        image_size(path)
    except ImageRefused as e:
        return [project.problem(field, f"{value!r} {e}", line)]
    return []
