"""Files a storyboard names: the film it writes must not replace an input or the build state,
and the images it reads must be real images of a sane size (checked from their headers)."""

from __future__ import annotations

import re
import stat
from pathlib import Path

from storyboard.errors import Problem
from storyboard.files import resolve_inside
from storyboard.media.frames import ImageRefused, image_decodes, image_size
from storyboard.media.probe import audio_problem

from .spec import Project

LOCK_FILE = "storyboard.lock"
EXTENSIONS = {"MP4": ".mp4", "MOV": ".mov", "WEBM": ".webm"}
MAX_IMAGE_BYTES = 50 * 1024 * 1024
# The file suffixes of each kind of media: what the storyboard may name, and what a take of
# each kind of task is written as (the lock's check that a take is its node's kind)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif")
AUDIO_SUFFIXES = (".wav", ".mp3", ".flac", ".ogg", ".m4a", ".aac", ".opus")
VIDEO_SUFFIXES = (".mp4", ".webm", ".mov", ".mkv")
# build/ holds the journal, the takes, caches and the contact sheet; only a film may sit there
BUILD_STATE = ("journal.sqlite", "contact-sheet.png")
FILM_RECORD = "film.json"  # the last film's key (cut/filmkey.py)
SPECIAL = [
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
]


TITLE_SLUG = 100


def film_path(project: Project) -> Path:
    """Where the film is written: ``output.file``, or ``build/<title slug>.<ext>``."""
    out = project.board.output
    if out.file:
        return project.root / out.file
    title = project.main_title or project.board.title  # a variant (issue 20): NAME.VARIANT.ext
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    # at most TITLE_SLUG characters: with a variant's name (64 at most) and the animatic's or
    # captions' suffix the file name stays far under the 255 bytes a file system allows (a
    # 220-character title failed at the compose as "File name too long": hostile helper-31)
    slug = slug[:TITLE_SLUG].rstrip("-") or "film"
    return project.build / f"{slug}{project.suffix}.{out.format.lower()}"


def animatic_path(project: Project) -> Path:
    """``build/NAME.animatic.mp4``: the film's name, in build/ (``render --boards`` cuts it)."""
    return project.build / f"{film_path(project).stem}.animatic.mp4"


def contact_sheet_path(project: Project, animatic: bool = False) -> Path:
    """``build/contact-sheet.png`` (a variant's: ``contact-sheet.VARIANT.png``; with
    ``animatic``, the animatic's: ``contact-sheet[.VARIANT].animatic.png``)."""
    return project.build / f"contact-sheet{project.suffix}{'.animatic' if animatic else ''}.png"


def written_files(project: Project) -> dict[Path, str]:
    """Every file a compose and an animatic of this film write (resolved) -> what it is."""
    film, animatic = film_path(project).resolve(), animatic_path(project).resolve()
    return {
        film: "film",
        film.with_suffix(".srt"): "captions",
        contact_sheet_path(project).resolve(): "contact sheet",
        animatic: "animatic",
        animatic.with_suffix(".srt"): "animatic's captions",
        contact_sheet_path(project, animatic=True).resolve(): "animatic's contact sheet",
    }


def not_a_file(target: Path) -> str | None:
    """What ``target`` is when it exists and is not a regular file (a folder, a FIFO, a
    socket, a device, a dangling or looping link), else None. Links are followed: a link to
    a regular file is replaced as a link, its target untouched."""
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        try:
            target.lstat()
        except FileNotFoundError:
            return None
        return "a symlink to nothing"
    except OSError as e:
        return f"unreadable ({e.strerror or e})"
    return mode_kind(mode)


def mode_kind(mode: int) -> str | None:
    """What a file of this ``st_mode`` is when it is not a regular file (``a FIFO``, ...),
    else None."""
    for test, word in SPECIAL:
        if test(mode):
            return word
    return None if stat.S_ISREG(mode) else "not a regular file"


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
    from .references import reference_files  # issue 16: scene references

    for p, where in reference_files(project).items():
        out.setdefault(p, where)
    return out


def overwritten(project: Project, target: Path, film: bool = True) -> str | None:
    """What writing ``target`` (resolved) would replace that the project is made of, if
    anything: the storyboard, the lock, the build state, the templates, an input, or (with
    ``film``) the film and its captions."""
    if film:
        dest = film_path(project).resolve()
        if target == dest:
            return "the film"
        if target == dest.with_suffix(".srt"):
            return "the film's captions"
    try:
        rel = target.relative_to(project.root.resolve())
    except ValueError:
        return None  # outside the project: nothing of it
    parts = rel.parts
    if target == project.file.resolve():
        return "the storyboard"
    if rel == Path(LOCK_FILE):
        return "the lock file"
    if rel == Path("build", FILM_RECORD):
        return f"the film's record (build/{FILM_RECORD})"
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
    what = overwritten(project, target, film=False)
    hint = f"; name a new file such as film{ext}"
    if what is None:
        srt = overwritten(project, target.with_suffix(".srt"), film=False)
        what = None if srt is None else f"{srt} with its captions ({target.stem}.srt)"
    if what is not None:
        return [project.problem(field, f"{out.file!r} would overwrite {what}{hint}")]
    kind = not_a_file(project.root / out.file)
    if kind is not None:
        return [project.problem(field, f"{out.file!r} is {kind}{hint}")]
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
    kind = {"end_frame": "an end frame", "references": "a reference image"}.get(
        name, "a first frame"
    )
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
    if not image_decodes(path):
        return [
            project.problem(
                field, f"{value!r} cannot be decoded (a damaged or truncated image)", line
            )
        ]
    return []


def check_audio(
    project: Project, field: tuple[str | int, ...], value: str, path: Path, what: str
) -> list[Problem]:
    """A sound file the storyboard names (``what``: music, a scene's sound, ...) opens and
    has an audio stream that decodes; checked before a render spends anything (a file found
    good is remembered by its exact stat under build/media: not decoded again until it
    changes)."""
    why = _audio_problem_kept(path, project.root / "build" / "media")
    if why is None:
        return []
    return [
        project.problem(field, f"{value!r} {why} ({what} must be a sound file: m4a, mp3, wav, ...)")
    ]


def _audio_problem_kept(path: Path, cache: Path) -> str | None:
    """:func:`audio_problem`, with a good result kept under the file's path, size, inode,
    modification and change times (any write changes the change time)."""
    import zlib

    try:
        st = path.stat()
    except OSError:
        return audio_problem(path)
    stamp = f"{st.st_size}-{st.st_ino}-{st.st_mtime_ns}-{st.st_ctime_ns}"
    mark = cache / f"audio-ok-{zlib.crc32(str(path.resolve()).encode()):08x}-{stamp}"
    if mark.is_file():
        return None
    why = audio_problem(path)
    if why is None:
        _GOOD.setdefault(str(cache), set()).add(mark.name)
        _keep(cache)
    return why


_GOOD: dict[str, set[str]] = {}  # cache folder -> marks of sounds found good by this process


def _keep(cache: Path) -> None:
    if not cache.parent.is_dir():  # validate on a fresh project makes no build/
        return
    try:
        cache.mkdir(exist_ok=True)
        for name in _GOOD.pop(str(cache), set()):
            (cache / name).touch()
    except OSError:
        pass  # a cache, not a record (a read-only project is checked every time)


def keep_checked_sounds(root: Path) -> None:
    """Remember the sounds found good before the project's build/ existed (a first render
    checks them before its state makes build/), so the next render does not decode them."""
    _keep(root / "build" / "media")
