"""Variants: more films from one storyboard (aspect ratios, languages, versions).

A variant names only what differs from the main film. It is turned into a storyboard of its
own (the main file's data with the variant's changes applied) and validated like one, so every
scene field, and every top-level field, works in a variant without being listed here; its
problems are reported at the variant's own lines. The result is a :class:`~.spec.Project`
with ``variant`` set: its film, captions, contact sheet, film key and lock are its own
(``build/NAME.VARIANT.mp4``, ``storyboard.VARIANT.lock``), while the journal, takes and chunk
cache are the project's, so a scene whose task is the same in two films is generated once.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from storyboard.errors import Problem, SpecError, unique

from .assets import EXTENSIONS, inputs, written_files
from .schema import VARIANT_KEYS, Storyboard, Variant
from .spec import Project, _check_references, _validate, display_path
from .yamlsrc import Located, Path_, format_path


def variant_names(project: Project) -> list[str]:
    """The variants of a storyboard, in file order (the main film is not one of them)."""
    return list(project.board.variants)


def load_variant(project: Project, name: str) -> Project:
    """The variant ``name`` of ``project`` as a project of its own; raises :class:`SpecError`
    (every problem, at the variant's lines) when it does not make a valid storyboard."""
    if project.variant is not None:
        raise SpecError([Problem(project.display(), None, "", "a variant has no variants")])
    given = project.raw.get("variants") if isinstance(project.raw, dict) else None
    if name not in project.board.variants or not isinstance(given, dict) or name not in given:
        # (a name YAML read as a number is text on the board but not in the file's data)
        known = ", ".join(project.board.variants) or "none"
        raise SpecError(
            [
                Problem(
                    project.display(),
                    project.line(("variants",)),
                    "variants",
                    f"no variant {name!r} (variants: {known}; `main` is the storyboard itself)",
                )
            ]
        )
    v = project.board.variants[name]
    raw, lines, problems = _apply(project, name, v)
    src = Located(raw, lines)
    shown = project.display()
    if problems:
        raise SpecError(problems)
    board, schema = _validate(shown, src, raw)
    own = {  # the fields the variant sets itself, as the derived storyboard names them
        format_path(path[2:]): (format_path(path), line)
        for path, line in project.src.lines.items()
        if len(path) > 2 and path[:2] == ("variants", name)
    }
    problems = [_named(name, p, own) for p in schema]
    if board is not None:
        out = _derived(project, name, v, board, src, raw)
        problems.extend(_named(name, p, own) for p in _check_references(out))
    if problems:
        raise SpecError(unique(sorted(problems, key=lambda p: p.line or 0)))
    assert board is not None
    return out


def check_variants(project: Project) -> list[Problem]:
    """Every problem of every variant (for ``load``: a broken variant is a broken file)."""
    problems: list[Problem] = []
    raw = project.raw.get("variants") if isinstance(project.raw, dict) else None
    for key in raw if isinstance(raw, dict) else ():
        if not isinstance(key, str):  # `007:` is 7 to YAML, `0x1F:` 31: renamed, or merged
            line = _key_line(project, key)
            problems.append(
                Problem(
                    project.display(),
                    line,
                    "variants",
                    f"variant name {key!r} is a {_kind(key)} to YAML, not the text you wrote "
                    "(007 is 7, 0x1F is 31): quote it, e.g. '2024'",
                )
            )
    written = {path: ("main", what) for path, what in written_files(project).items()}
    films: dict[str, Project] = {"main": project}
    for name in project.board.variants:
        if not isinstance(raw, dict) or name not in raw:
            continue  # a name YAML read as a number (said above), or one the schema refused
        try:
            film = load_variant(project, name)
        except SpecError as e:
            problems.extend(e.problems)
            continue
        films[name] = film
        problems.extend(_overwrites(project, name, film, written))
    return problems or _inputs_overwritten(project, films)


def _key_line(project: Project, key: object) -> int | None:
    """The line of the variant whose name YAML read as ``key`` (a number, true/false): the
    file's lines are kept by the text written (``0x1F``), not the value read (31)."""
    for path, line in project.src.lines.items():
        if len(path) == 2 and path[0] == "variants" and isinstance(path[1], str):
            try:
                read = yaml.safe_load(path[1])
            except yaml.YAMLError:
                continue
            if read == key and type(read) is type(key):
                return line
    return project.line(("variants",))


_VARIANT_PREFIX = re.compile(r"^variant '[^']*': ")


def news(found: list[Problem], known: list[Problem]) -> list[Problem]:
    """The problems in ``found`` (the variants') that are not ``known`` already (the main
    film's): a variant made from a main film with a problem has it too, at the same line,
    and it is said once, for the main film (hostile fix-44 P1)."""
    seen = {(p.file, p.line, _VARIANT_PREFIX.sub("", p.message)) for p in known}
    return [p for p in found if (p.file, p.line, _VARIANT_PREFIX.sub("", p.message)) not in seen]


def _inputs_overwritten(project: Project, films: dict[str, Project]) -> list[Problem]:
    """A file one film writes that another film is made from (hostile helper-41: a variant's
    music was the main film's output.file, and the first render wrote the film over it). A
    film's own inputs are checked with its output.file (``assets.check_output_file``)."""
    made_from = {name: inputs(film) for name, film in films.items()}
    used = {path: (name, field) for name, of in made_from.items() for path, field in of.items()}
    problems: list[Problem] = []
    for name, film in films.items():
        for path, what in written_files(film).items():
            user, field = used.get(path, (name, ""))
            if user == name or path in made_from[name]:
                continue  # its own input: said at its own output.file
            where = _file_field(project, name)
            problems.append(
                Problem(
                    project.display(),
                    project.src.line_of(where),
                    format_path(where),
                    f"the film {name!r} would write {display_path(path)} (its {what}), which "
                    f"the film {user!r} is made from ({field}): the first render would "
                    "overwrite it; give the film another output.file",
                )
            )
            break
    return problems


def _overwrites(
    project: Project, name: str, film: Project, written: dict[Path, tuple[str, str]]
) -> list[Problem]:
    """The first file of variant ``name`` that another film (in ``written``: path -> the film
    and what the file is to it) also writes (hostile H12); its own files go in ``written``."""
    for path, what in written_files(film).items():
        other, theirs = written.setdefault(path, (name, what))
        if other == name:
            continue
        where = _file_field(project, name)
        return [
            Problem(
                project.display(),
                project.src.line_of(where),
                format_path(where),
                f"variant {name!r} would write {display_path(path)} (its {what}), which the "
                f"film {other!r} writes (its {theirs}): each would overwrite the other; give it "
                "its own output.file",
            )
        ]
    return []


def _file_field(project: Project, name: str) -> Path_:
    """Where a problem with film ``name``'s files is reported: its own ``output.file`` when it
    gives one, else the variant (the main film: its ``output``)."""
    base: Path_ = () if name == "main" else ("variants", name)
    where: Path_ = (*base, "output", "file")
    return where if where in project.src.lines else base or ("output",)


def _derived(
    project: Project, name: str, v: Variant, board: Storyboard, src: Located, raw: dict
) -> Project:
    out = Project(project.root, project.file, board, src, raw)
    out.variant = name
    out.main_title = project.board.title
    out.reframe = v.reframe or "pad"
    out.focus = v.focus or (0.5, 0.5)
    return out


def _named(name: str, p: Problem, own: dict[str, tuple[str, int]]) -> Problem:
    """``p`` of variant ``name``'s storyboard, its field named as the variant names it where
    the variant set it (``variants.v.output.file``, not ``output.file``)."""
    field, line = own.get(p.where, (p.where, None))
    where = field if line == p.line else p.where
    return Problem(p.file, p.line, where, f"variant {name!r}: {p.message}")


def _apply(project: Project, name: str, v: Variant) -> tuple[dict, dict[Path_, int], list[Problem]]:
    """The main storyboard's data with variant ``name`` applied, and the line of each value."""
    base: Path_ = ("variants", name)
    src = project.src
    main: dict[str, Any] = copy.deepcopy(project.raw)
    given: dict[str, Any] = main.pop("variants")[name]  # names are text (check_variants)
    problems: list[Problem] = []

    def problem(path: Path_, message: str) -> None:
        problems.append(
            Problem(project.display(), src.line_of(base + path), format_path(base + path), message)
        )

    # lines: everything outside scenes and variants stays where it is
    lines: dict[Path_, int] = {
        p: n for p, n in src.lines.items() if p and p[0] not in ("scenes", "variants")
    }
    if () in src.lines:
        lines[()] = src.lines[()]
    if v.size is not None:
        output = main.setdefault("output", {})
        if isinstance(output, dict):
            output["size"] = v.size
            _move(src.lines, lines, (*base, "size"), ("output", "size"))
        if v.reframe is None:  # generated again at this size
            main["size"] = v.size
            _move(src.lines, lines, (*base, "size"), ("size",))
            if isinstance(main.get("defaults"), dict) and "size" in main["defaults"]:
                main["defaults"]["size"] = v.size
    # then the variant's own top-level fields: an explicit `output: {size}` wins
    for key, value in given.items():
        if key in VARIANT_KEYS:
            continue
        main[key] = _merge(main.get(key), value)
        _move(src.lines, lines, (*base, key), (key,))
    output = main.get("output")
    if (
        isinstance(output, dict)
        and output.get("file")
        and "file" not in (given.get("output") or {})
    ):
        # the main film's file name, with the variant's name before its extension (the
        # extension of the variant's own output.format, when it sets one: hostile helper-41)
        f = PurePosixPath(str(output["file"]))
        own = str((given.get("output") or {}).get("format", "")).upper()
        output["file"] = str(f.with_name(f"{f.stem}.{name}{EXTENSIONS.get(own, f.suffix)}"))
        line = src.line_of(base)
        if line is not None:  # a problem with the derived name: at the variant's line
            lines[("output", "file")] = line
    scenes: list[Any] = main.get("scenes") or []
    ids = [str(s.get("id")) if isinstance(s, dict) else "" for s in scenes]
    for sid in v.skip:
        if sid not in ids:
            problem(("skip",), f"no scene {sid!r} to skip (scenes: {', '.join(ids)})")
    for sid, fields in v.scenes.items():
        if sid not in ids:
            problem(("scenes", sid), f"no scene {sid!r} (scenes: {', '.join(ids)})")
            continue
        i = ids.index(sid)
        scene = scenes[i]
        if "prompt" in fields or "template" in fields:
            scene.pop("prompt", None)
            scene.pop("template", None)
        for key, value in fields.items():
            scene[key] = _merge(scene.get(key), value) if key == "vars" else value
    kept = [i for i, sid in enumerate(ids) if sid not in v.skip]
    if not kept:
        problem(("skip",), "skips every scene: a film needs at least one")
    main["scenes"] = [scenes[i] for i in kept]
    for j, i in enumerate(kept):
        _move(src.lines, lines, ("scenes", i), ("scenes", j))
        if ids[i] in v.scenes:
            _move(src.lines, lines, (*base, "scenes", ids[i]), ("scenes", j), keep_root=True)
    return main, lines, problems


def _merge(old: Any, new: Any) -> Any:
    """Mappings merge key by key (recursively); anything else replaces."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = dict(old)
        for k, v in new.items():
            out[k] = _merge(old.get(k), v)
        return out
    return copy.deepcopy(new)


def _move(
    have: dict[Path_, int],
    lines: dict[Path_, int],
    frm: Path_,
    to: Path_,
    keep_root: bool = False,
) -> None:
    """Copy the lines under ``frm`` to ``to`` (overriding what is there)."""
    n = len(frm)
    for p, line in have.items():
        if p[:n] == frm and not (keep_root and len(p) == n):
            lines[to + p[n:]] = line


def _kind(value: object) -> str:
    """What YAML made of a key that is not text, in words."""
    return (
        "true/false"
        if isinstance(value, bool)
        else "number"
        if isinstance(value, int | float)
        else type(value).__name__
    )
