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
    if board.edit.music is not None:
        p = resolve_inside(project.root, board.edit.music.file)
        if p is not None:
            out[p] = "edit.music.file"
    for i, scene in enumerate(board.scenes):
        ff = scene.first_frame
        if ff is not None and not ff.startswith(("http://", "https://")):
            p = resolve_inside(project.root, ff)
            if p is not None:
                out.setdefault(p, f"scenes[{i}].first_frame")
    return out


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
    rel = target.relative_to(project.root.resolve())
    parts = rel.parts
    what = None
    if target == project.file.resolve():
        what = "the storyboard"
    elif rel == Path(LOCK_FILE):
        what = "the lock file"
    elif (
        parts
        and parts[0] == "build"
        and (len(parts) != 2 or parts[1].startswith((".", *BUILD_STATE)))
    ):
        what = "the build state (journal, takes, caches)"
    elif parts and parts[0] == "templates":
        what = "the prompt templates"
    elif target in inputs(project):
        what = f"an input of the film ({inputs(project)[target]})"
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


def check_image(project: Project, index: int, value: str, path: Path) -> list[Problem]:
    """A first frame is a readable image under the size limits (only its header is read)."""
    field = ("scenes", index, "first_frame")
    line = project.scene_line(index, "first_frame")
    size = path.stat().st_size
    if size > MAX_IMAGE_BYTES:
        return [
            project.problem(
                field,
                f"{value!r} is {size / 2**20:.0f} MiB; a first frame may be at most "
                f"{MAX_IMAGE_BYTES // 2**20} MiB",
                line,
            )
        ]
    try:
        image_size(path)
    except ImageRefused as e:
        return [project.problem(field, f"{value!r} {e}", line)]
    return []
