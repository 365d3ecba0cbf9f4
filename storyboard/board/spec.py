"""Loading a storyboard file: validation that reports ``file:line: field: message``.

Every problem found in a file is collected and raised together as one :class:`SpecError`.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from storyboard.errors import Problem, SpecError, unique
from storyboard.files import https_url_problem, resolve_inside, shell_arg

from .messages import clean_loc, did_you_mean, field_names, model_at, schema_problems
from .partial import readable_part, without_flagged, without_unchecked
from .schema import STORYBOARD_FILE, Storyboard
from .schema import json_schema as json_schema  # re-exported: part of the spec's API
from .yamlsrc import (
    Located,
    Path_,
    YAMLLimitError,
    format_path,
    load_located,
    read_source,
    value_at,
)


class Project:
    """A loaded, validated storyboard and where it lives."""

    # variants (issue 20): set on a variant's own project by board/variants.py
    variant: str | None = None  # None: the main film
    main_title: str | None = None  # the main film's title (names the variant's film file)
    reframe: str = "pad"  # how clips of another aspect fit the film: pad or crop
    focus: tuple[float, float] = (0.5, 0.5)  # the point a crop keeps
    # issue 15: on a board read past schema problems, the fields the schema refused (cut out)
    unchecked: list[Path_] = []

    @property
    def suffix(self) -> str:
        """``.VARIANT`` for a variant's own files (film, lock, film key), else empty."""
        return f".{self.variant}" if self.variant else ""

    @property
    def render_command(self) -> str:
        """``storyboard render ROOT``, with ``--variant NAME`` for a variant's film: what a
        message tells the user to run (hostile helper-31: a variant's named the main film)."""
        tail = f" --variant {self.variant}" if self.variant else ""
        return f"storyboard render {shell_arg(self.root)}{tail}"

    def __init__(self, root: Path, file: Path, board: Storyboard, src: Located, raw: dict):
        self.root = root
        self.file = file
        self.board = board
        self.src = src
        self.raw = raw

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def build(self) -> Path:
        return self.root / "build"

    def display(self) -> str:
        """The storyboard path as shown in messages (relative when possible)."""
        return display_path(self.file)

    def line(self, path: Path_) -> int | None:
        return self.src.line_of(path)

    def scene_line(self, index: int, field: str | None = None) -> int | None:
        """Line of a scene field, falling back to ``defaults.field`` when it came from there."""
        if field is not None:
            p = ("scenes", index, field)
            if p in self.src.lines:
                return self.src.lines[p]
            d = ("defaults", field)
            if d in self.src.lines:
                return self.src.lines[d]
        return self.src.line_of(("scenes", index))

    def problem(self, path: Path_, message: str, line: int | None = None) -> Problem:
        """A problem at ``path``; a scene value taken from ``defaults`` is reported there."""
        where, at = where_in_file(self.src, path)
        return Problem(self.display(), line or at, format_path(where), message)


IMAGE_KINDS = "(png, jpg, webp, bmp, gif)"  # the pictures a first frame or a cast member may be


def find_storyboard(path: str | Path) -> Path:
    """A project folder or a storyboard file -> the storyboard file."""
    p = Path(path)
    if p.is_dir():
        inner = p / STORYBOARD_FILE
        if inner.exists() or p.name != STORYBOARD_FILE:
            p = inner  # else the folder given is the "storyboard file" (hostile fix-44 P6)
    if not p.is_file():
        what = "is a folder, not a storyboard file" if p.is_dir() else "no such storyboard file"
        raise SpecError(
            [
                Problem(
                    str(p),
                    None,
                    "",
                    f"{what} (expected PROJECT/{STORYBOARD_FILE}; try `storyboard init NAME`)",
                )
            ]
        )
    return p.resolve()


def special(p: Path) -> str | None:
    """What is at ``p`` when it is there and no regular file: ``a folder``, ``a FIFO``, ``a
    socket``, ``a device`` (:func:`~storyboard.board.assets.mode_kind`); None otherwise."""
    import os

    from .assets import mode_kind

    try:
        return mode_kind(os.stat(p).st_mode)
    except (OSError, ValueError):
        return None


def not_a_file(p: Path, value: str, what: str) -> str:
    """Why ``value`` (at ``p``, inside the project) is no file to read: a folder, a FIFO, a
    socket or a device, or nothing there (hostile fix-44 P6: a folder was `image not found`;
    helper-47: a FIFO or /dev/zero's node still was). ``what``: the kind of file wanted, e.g.
    ``an image file (png, jpg)``."""
    kind = special(p)
    if kind is not None:
        return f"{value!r} is {kind}, not {what}"
    return f"{value!r} not found"


def load_project(path: str | Path) -> Project:
    """Load and validate a storyboard. Raises :class:`SpecError` listing every problem."""
    file = find_storyboard(path)
    shown = display_path(file)
    try:
        text = read_source(file)
        src = load_located(text)
    except UnicodeDecodeError as e:
        raise SpecError([not_utf8(shown, e)]) from None
    except OSError as e:
        raise SpecError([Problem(shown, None, "", f"cannot read file: {e}")]) from None
    except YAMLLimitError as e:
        every = [(e.line, e.where, e.message), *e.more]
        raise SpecError([Problem(shown, ln, format_path(w), m) for ln, w, m in every]) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        msg = getattr(e, "problem", None) or str(e)
        ctx = getattr(e, "context", None)
        full = f"invalid YAML: {msg}" + (f" ({ctx})" if ctx else "")
        raise SpecError([Problem(shown, line, "", full)]) from None
    problems: list[Problem] = []
    for dpath, dline in src.duplicates:
        problems.append(Problem(shown, dline, format_path(dpath), "duplicate key"))
    raw = src.data
    if not isinstance(raw, dict):
        problems.append(
            Problem(shown, 1, "", "the storyboard must be a mapping with 'title' and 'scenes'")
        )
        raise SpecError(problems)
    board, schema = _validate(shown, src, raw)
    problems.extend(schema)
    partial: Project | None = None
    if board is not None:
        partial = Project(file.parent, file, board, src, raw)
        data = raw
    else:
        # every stage in one run (issue 15): check the files on the board as it would be with
        # the misspelt keys corrected and the unknown ones dropped, when that makes it valid
        best, unchecked, data = _best_effort(raw)
        if best is not None:
            partial = Project(file.parent, file, best, src, raw)
            partial.unchecked = unchecked
    if partial is not None:
        flagged = without_unchecked(_check_references(partial), partial.unchecked)
        problems.extend(flagged)
        if flagged:  # the later stages check the board without the fields flagged here
            cut, more = without_flagged(data, flagged, _errors)
            if cut is not None:
                partial.board = cut
            partial.unchecked = [*partial.unchecked, *more]
    if isinstance(raw.get("variants"), dict) and raw["variants"]:
        from .variants import check_variants, news  # variants build on the main film

        # every variant's problems too, whatever the main film's (hostile fix-44 P1); one
        # that is the main film's own problem again is said once, for the main film
        found = check_variants(partial) if partial is not None else []
        problems.extend(news(found, problems))
    if problems:
        err = SpecError(unique(sorted(problems, key=lambda p: p.line or 0)))
        err.partial = partial
        raise err
    assert board is not None
    return Project(file.parent, file, board, src, raw)


def not_utf8(shown: str, e: UnicodeDecodeError) -> Problem:
    """The line and column of the first byte that is not UTF-8 (hostile fix-44 P5: the
    message gave the byte's offset in the file, no line)."""
    data = bytes(e.object)
    before = data[: e.start]
    line = before.count(b"\n") + 1
    column = e.start - (before.rfind(b"\n") + 1) + 1
    return Problem(
        shown,
        line,
        "",
        f"not UTF-8 text (byte 0x{data[e.start]:02x} at column {column}); save the file as UTF-8",
    )


def display_path(path: str | Path) -> str:
    """A path as shown in messages: relative to the working directory when it is inside it."""
    p = Path(path).resolve()
    try:
        return str(p.relative_to(Path.cwd()))
    except ValueError:
        return str(p)


def apply_defaults(raw: dict) -> dict:
    """The storyboard with ``defaults`` merged into every scene; a scene's own fields win.

    ``prompt`` and ``template`` are one choice: a scene that sets either takes neither from the
    defaults. ``vars`` merge key by key.
    """
    defaults = raw.get("defaults")
    scenes = raw.get("scenes")
    if not isinstance(defaults, dict) or not isinstance(scenes, list):
        return raw
    merged = dict(raw)
    merged["scenes"] = [_merge_scene(defaults, s) if isinstance(s, dict) else s for s in scenes]
    return merged


def _merge_scene(defaults: dict, scene: dict) -> dict:
    base = dict(defaults)
    if "prompt" in scene or "template" in scene:
        base.pop("prompt", None)
        base.pop("template", None)
    out = {**base, **scene}
    if isinstance(defaults.get("vars"), dict) and isinstance(scene.get("vars"), dict):
        out["vars"] = {**defaults["vars"], **scene["vars"]}
    return out


def _errors(raw: dict) -> tuple[Storyboard | None, list[Any]]:
    try:
        return Storyboard.model_validate(apply_defaults(raw)), []
    except ValidationError as e:
        return None, list(e.errors())


def _validate(shown: str, src: Located, raw: dict) -> tuple[Storyboard | None, list[Problem]]:
    """Validate the schema; problems that only follow from a reported root cause are dropped.

    A root cause is a misspelt key with an obvious correction (``defualts:``) or a conflict in
    ``defaults``: the file is validated again as if each were fixed, and a problem that would
    then disappear is a follow-on, not news.
    """
    board, errors = _errors(raw)
    if board is not None:
        return board, []

    def relocate(path: Path_) -> Path_:
        return where_in_file(src, path)[0]

    problems = schema_problems(shown, src, errors, relocate)
    fixed = _corrected(raw, errors)
    if fixed is None:
        return None, problems
    _, again = _errors(fixed)
    remain = {(p.where, p.message) for p in schema_problems(shown, src, again, relocate)}
    keep = [
        p
        for p in problems
        if (p.where, p.message) in remain
        or p.where.startswith("defaults")
        or p.message.startswith("unknown key")
    ]
    return None, keep


def _best_effort(raw: dict) -> tuple[Storyboard | None, list[Path_], dict]:
    """The board with every misspelt key corrected and every field the schema refuses cut out
    (board/partial.py), the paths cut, and the data it was validated from; None when not
    even that is valid."""
    fixed = raw
    for _ in range(3):
        board, errors = _errors(fixed)
        if board is not None:
            return board, [], fixed
        again = _corrected(fixed, errors)
        if again is None:
            break
        fixed = again
    return readable_part(fixed, _errors)


def _corrected(raw: dict, errors: list[Any]) -> dict | None:
    """``raw`` with every root cause fixed as its message suggests, or None when none is."""
    fixed = copy.deepcopy(raw)
    changed = False
    for err in errors:
        path = clean_loc(tuple(err["loc"]))
        if err["type"] == "extra_forbidden" and path:
            model = model_at(path[:-1])
            guess = did_you_mean(str(path[-1]), field_names(model)) if model else None
            parent = value_at(fixed, path[:-1])
            if guess and isinstance(parent, dict) and path[-1] in parent:
                value = parent.pop(path[-1])
                parent.setdefault(guess, value)
                changed = True
    defaults = fixed.get("defaults")
    if isinstance(defaults, dict) and "prompt" in defaults and "template" in defaults:
        del defaults["prompt"]
        changed = True
    return fixed if changed else None


def where_in_file(src: Located, path: Path_) -> tuple[Path_, int | None]:
    """Where a scene value really came from: the scene, or ``defaults`` (path and line)."""
    if (
        len(path) >= 3
        and path[0] == "scenes"
        and ("scenes", path[1], path[2]) not in src.lines
        and ("defaults", path[2]) in src.lines
    ):
        dpath = ("defaults", *path[2:])
        return dpath, src.line_of(dpath)
    return path, src.line_of(path)


def _check_references(project: Project) -> list[Problem]:
    """Cross-field checks: unique ids, continuity sources, first-frame files."""
    problems: list[Problem] = []
    board = project.board
    seen: dict[str, int] = {}
    for i, scene in enumerate(board.scenes):
        if scene.id in seen:
            problems.append(
                project.problem(
                    ("scenes", i, "id"),
                    f"duplicate scene id {scene.id!r} (first used by scenes[{seen[scene.id]}])",
                )
            )
        else:
            seen[scene.id] = i
        for name in ("first_frame", "end_frame"):
            value = getattr(scene, name)
            if value is not None and not (name == "first_frame" and value == "board"):
                problems.extend(_check_image(project, i, name, value))
    if board.edit.music is not None and board.edit.music.file is not None:
        p = resolve_inside(project.root, board.edit.music.file)
        if p is None:
            problems.append(
                project.problem(
                    ("edit", "music", "file"),
                    f"{board.edit.music.file!r} is outside the project folder",
                )
            )
        elif not p.is_file():
            message = (
                not_a_file(p, board.edit.music.file, "a sound file")
                if special(p)
                else f"music file not found: {board.edit.music.file}"
            )
            problems.append(project.problem(("edit", "music", "file"), message))
        else:
            from .assets import check_audio

            problems.extend(
                check_audio(project, ("edit", "music", "file"), board.edit.music.file, p, "music")
            )
    from .assets import check_output_file  # assets builds on Project
    from .cast import check_cast  # the cast (issue 17)
    from .voices import sound_problems  # issue 18: voices, sounds, music, lip sync

    problems.extend(check_output_file(project))
    problems.extend(check_cast(project))
    problems.extend(sound_problems(project))
    from .references import reference_problems  # issue 16: scene references

    problems.extend(reference_problems(project))
    return problems


def _check_image(project: Project, i: int, name: str, value: str) -> list[Problem]:
    path = ("scenes", i, name)
    line = project.scene_line(i, name)
    if value.startswith(("http://", "https://")):
        if value.startswith("http://"):
            return [project.problem(path, f"{name} URLs must use https", line)]
        why = https_url_problem(value)
        msg = f"{value!r} is not a usable https URL ({why})"
        return [project.problem(path, msg, line)] if why else []
    p = resolve_inside(project.root, value)
    if p is None:
        return [project.problem(path, f"{value!r} is outside the project folder", line)]
    if special(p):
        return [project.problem(path, not_a_file(p, value, f"an image file {IMAGE_KINDS}"), line)]
    if not p.is_file():
        return [
            project.problem(
                path,
                f"image not found: {value} (paths are relative to {display_path(project.root)}/)",
                line,
            )
        ]
    if p.suffix.lower() not in (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif"):
        return [
            project.problem(path, f"{value!r} is not an image (png, jpg, webp, bmp, gif)", line)
        ]
    from .assets import check_image

    return check_image(project, i, value, p, name)
