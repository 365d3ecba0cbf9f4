"""Loading a storyboard file: validation that reports ``file:line: field: message``.

Every problem found in a file is collected and raised together as one :class:`SpecError`.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from storyboard.errors import Problem, SpecError, unique
from storyboard.files import resolve_inside

from .schema import STORYBOARD_FILE, Storyboard
from .schema import json_schema as json_schema  # re-exported: part of the spec's API
from .yamlsrc import Located, Path_, YAMLLimitError, format_path, load_located, read_source


class Project:
    """A loaded, validated storyboard and where it lives."""

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
        return Problem(self.display(), line or self.line(path), format_path(path), message)


def find_storyboard(path: str | Path) -> Path:
    """A project folder or a storyboard file -> the storyboard file."""
    p = Path(path)
    if p.is_dir():
        p = p / STORYBOARD_FILE
    if not p.is_file():
        raise SpecError(
            [
                Problem(
                    str(p),
                    None,
                    "",
                    "no such storyboard file (expected "
                    f"PROJECT/{STORYBOARD_FILE}; try `storyboard init NAME`)",
                )
            ]
        )
    return p.resolve()


def load_project(path: str | Path) -> Project:
    """Load and validate a storyboard. Raises :class:`SpecError` listing every problem."""
    file = find_storyboard(path)
    shown = display_path(file)
    try:
        text = read_source(file)
        src = load_located(text)
    except (OSError, UnicodeDecodeError) as e:
        raise SpecError([Problem(shown, None, "", f"cannot read file: {e}")]) from None
    except YAMLLimitError as e:
        raise SpecError([Problem(shown, e.line, format_path(e.where), e.message)]) from None
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
    merged = _apply_defaults(raw)
    board: Storyboard | None = None
    try:
        board = Storyboard.model_validate(merged)
    except ValidationError as e:
        for err in e.errors():
            problems.append(_problem_from_pydantic(shown, src, raw, err))
    if board is not None:
        project = Project(file.parent, file, board, src, raw)
        problems.extend(_check_references(project))
    if problems:
        raise SpecError(unique(sorted(problems, key=lambda p: p.line or 0)))
    assert board is not None
    return Project(file.parent, file, board, src, raw)


def display_path(path: str | Path) -> str:
    """A path as shown in messages: relative to the working directory when it is inside it."""
    p = Path(path).resolve()
    try:
        return str(p.relative_to(Path.cwd()))
    except ValueError:
        return str(p)


def _apply_defaults(raw: dict) -> dict:
    defaults = raw.get("defaults")
    scenes = raw.get("scenes")
    if not isinstance(defaults, dict) or not isinstance(scenes, list):
        return raw
    merged = dict(raw)
    merged["scenes"] = [{**defaults, **s} if isinstance(s, dict) else s for s in scenes]
    return merged


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The pydantic model whose fields live at ``loc`` (for did-you-mean suggestions)."""
    model: type[BaseModel] | None = Storyboard
    for part in loc:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        f = model.model_fields.get(part)
        if f is None:
            f = next((x for x in model.model_fields.values() if x.alias == part), None)
        if f is None:
            return None
        model = _inner_model(f.annotation)
    return model


def _inner_model(ann: Any) -> type[BaseModel] | None:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in getattr(ann, "__args__", ()) or ():
        m = _inner_model(arg)
        if m is not None:
            return m
    return None


def _field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _problem_from_pydantic(shown: str, src: Located, raw: dict, err: Any) -> Problem:
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    # drop union/tag markers pydantic inserts (e.g. 'float', 'literal['off']')
    clean: list[str | int] = []
    for p in loc:
        if isinstance(p, str) and ("[" in p or p in ("float", "int", "str", "bool")):
            continue
        clean.append(p)
    path = tuple(clean)
    kind = err["type"]
    given = err.get("input")
    if kind == "extra_forbidden":
        key = str(path[-1])
        model = _model_at(path[:-1])
        names = _field_names(model) if model else []
        guess = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
        hint = (
            f"; did you mean '{guess[0]}'?"
            if guess
            else (f"; expected one of: {', '.join(names)}" if names else "")
        )
        msg = f"unknown key '{key}'{hint}"
    elif kind == "missing":
        msg = f"required key '{path[-1]}' is missing"
        path = path[:-1] + (path[-1],)
    elif kind == "literal_error":
        exp = err.get("ctx", {}).get("expected", "")
        msg = f"expected {exp}, got {given!r}"
    elif kind == "too_short" and path == ("scenes",):
        msg = "a storyboard needs at least one scene"
    elif kind == "finite_number":
        msg = f"expected a finite number, got {given!r}"
    elif kind in ("value_error", "assertion_error"):
        msg = str(err["msg"]).removeprefix("Value error, ")
    else:
        msg = f"{err['msg']}, got {given!r}" if not isinstance(given, dict | list) else err["msg"]
    line = _line_for(src, raw, path)
    return Problem(shown, line, format_path(path), msg)


def _line_for(src: Located, raw: dict, path: Path_) -> int | None:
    # a scene value that came from `defaults` points at the defaults line
    if len(path) >= 3 and path[0] == "scenes" and path not in src.lines:
        dpath = ("defaults", *path[2:])
        if dpath in src.lines:
            return src.lines[dpath]
    return src.line_of(path)


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
            if value is not None:
                problems.extend(_check_image(project, i, name, value))
    if board.edit.music is not None:
        p = resolve_inside(project.root, board.edit.music.file)
        if p is None:
            problems.append(
                project.problem(
                    ("edit", "music", "file"),
                    f"{board.edit.music.file!r} is outside the project folder",
                )
            )
        elif not p.is_file():
            problems.append(
                project.problem(
                    ("edit", "music", "file"), f"music file not found: {board.edit.music.file}"
                )
            )
    from .assets import check_output_file  # assets builds on Project

    problems.extend(check_output_file(project))
    return problems


def _check_image(project: Project, i: int, name: str, value: str) -> list[Problem]:
    path = ("scenes", i, name)
    line = project.scene_line(i, name)
    if value.startswith(("http://", "https://")):
        if value.startswith("http://"):
            return [project.problem(path, f"{name} URLs must use https", line)]
        return []
    p = resolve_inside(project.root, value)
    if p is None:
        return [project.problem(path, f"{value!r} is outside the project folder", line)]
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

    return check_image(project, i, value, p)
