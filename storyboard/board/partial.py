"""The storyboard as far as it can be read, for the later stages' checks (issue 15).

``validate`` reports every problem of every stage in one run: when the schema refuses some
fields, the input files, prompts and model rules are still checked on a board made from the rest.
A field the schema refused is cut out (an optional field falls back to its default; a required
one gets a stand-in) and remembered as *unchecked*: a later stage's problem at or under an
unchecked field is a follow-on of the schema problem already reported, so it is dropped.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Callable
from typing import Any

from storyboard.errors import Problem

from .messages import clean_loc
from .yamlsrc import Path_, format_path, value_at

ROUNDS = 12  # each round cuts every field still refused; nesting is a few levels deep
STAND_IN_PROMPT = "unchecked"  # a scene whose prompt/template the schema refused
STAND_IN_MEMBER = {"description": "unchecked"}  # a cast member the schema refused
STAND_IN_ID = re.compile(r"scene 'unchecked-([0-9]+)'")  # a scene whose id was missing


def readable_part(
    raw: dict, validate: Callable[[dict], tuple[Any, list[Any]]]
) -> tuple[Any, list[Path_], dict]:
    """``(board, unchecked, data)``: the board validated from ``raw`` without the fields the
    schema refuses (None when even that fails: no scene list), the paths that were cut out,
    and the data the board was validated from.

    ``validate(raw) -> (board or None, pydantic errors)``.
    """
    fixed = copy.deepcopy(raw)
    unchecked: list[Path_] = []
    for _ in range(ROUNDS):
        board, errors = validate(fixed)
        if board is not None:
            return board, unchecked, fixed
        progress = False
        for err in errors:
            for cut in _cut(fixed, clean_loc(tuple(err["loc"]))):
                progress = True
                if cut not in unchecked:
                    unchecked.append(cut)
        if not progress:
            break
    return None, unchecked, fixed


def without_flagged(
    data: dict, flagged: list[Problem], validate: Callable[[dict], tuple[Any, list[Any]]]
) -> tuple[Any, list[Path_]]:
    """``(board, unchecked)``: the board validated from ``data`` with each field an input-file
    check flagged cut out (a missing first frame, an unknown cast member), as the schema's
    refused fields are, so the later stages add no follow-on of it (hostile fix-44 P1); the
    board is None when no cut leaves a valid one. A field that cannot be cut (a required id)
    is left in, and still named in ``unchecked``: a later problem there is not news."""
    paths = [parse_path(w) for w in dict.fromkeys(p.where for p in flagged if p.where)]
    unchecked: list[Path_] = list(paths)
    # a whole scene or section is not cut, only its follow-ons left out
    fields = [p for p in paths if len(p) >= (3 if p[0] == "scenes" else 2)]
    every = copy.deepcopy(data)  # all at once first: one validation for a file of many
    cuts = [c for path in fields for c in _cut(every, path)]
    board, _ = validate(every)
    if board is not None:
        return board, [*unchecked, *(c for c in cuts if c not in unchecked)]
    fixed = data
    for path in fields:  # one at a time: each cut kept when the board stays valid
        trial = copy.deepcopy(fixed)
        cut = _cut(trial, path)
        if not cut:
            continue
        again, _ = validate(trial)
        if again is not None:
            fixed, board = trial, again
            unchecked.extend(c for c in cut if c not in unchecked)
    return board, unchecked


def parse_path(where: str) -> Path_:
    """``scenes[2].duration`` -> ``('scenes', 2, 'duration')`` (format_path's inverse)."""
    path: list[str | int] = []
    for part in where.split("."):
        name, *indexes = part.split("[")
        if name:
            path.append(name)
        path.extend(int(i.rstrip("]")) for i in indexes if i.rstrip("]").isdigit())
    return tuple(path)


def _cut(data: dict, path: Path_) -> list[Path_]:
    """Remove (or stand in for) what the schema refused at ``path``; the paths cut."""
    if not path:
        return []
    if path[0] == "scenes" and len(path) >= 2 and isinstance(path[1], int):
        return _cut_scene(data, path)
    if path == ("title",):
        data["title"] = "untitled"
        return [path]
    if len(path) == 2 and path[0] == "cast" and isinstance(data.get("cast"), dict):
        # a member the schema refused as a whole stands in, as a scene does: the scenes that
        # list it and the prompts that say {{ cast.NAME }} add no "unknown cast member" nor
        # "undefined variable" of it (hostile helper-47)
        member = data["cast"].get(path[1])
        if isinstance(member, dict) and member != STAND_IN_MEMBER:
            data["cast"][path[1]] = dict(STAND_IN_MEMBER)
            return [path]
    dropped = _drop_deepest(data, path)
    return [dropped] if dropped else []


def _drop_deepest(data: dict, path: Path_) -> Path_ | None:
    """Delete the deepest mapping key on ``path`` that is there (list items are never removed:
    that would renumber their neighbours); the path of what was deleted."""
    for end in range(len(path), 0, -1):
        key = path[end - 1]
        if not isinstance(key, str):
            continue
        parent = value_at(data, path[: end - 1])
        if isinstance(parent, dict) and key in parent:
            del parent[key]
            return path[:end]
    return None


def _cut_scene(data: dict, path: Path_) -> list[Path_]:
    scenes = data.get("scenes")
    index = path[1]
    if not isinstance(scenes, list) or not isinstance(index, int):
        return []
    if not 0 <= index < len(scenes):
        return []
    scene = scenes[index]
    where: Path_ = ("scenes", index)
    if not isinstance(scene, dict):
        scenes[index] = {"id": f"unchecked-{index}", "prompt": STAND_IN_PROMPT}
        return [where]
    defaults = data.get("defaults")
    if len(path) >= 3 and isinstance(path[2], str):
        field = path[2]
        if field in scene:
            dropped = _drop_deepest(scene, path[2:])
            return [(*where, *dropped)] if dropped else []
        if isinstance(defaults, dict) and field in defaults:
            dropped = _drop_deepest(defaults, path[2:])
            return [("defaults", *dropped)] if dropped else []
        if field == "id":  # required, and missing
            scene["id"] = f"unchecked-{index}"
            return [(*where, "id")]
        return []
    # the scene as a whole: its prompt and template (neither given, or both)
    scene.pop("template", None)
    scene["prompt"] = STAND_IN_PROMPT
    return [(*where, "prompt"), (*where, "template")]


def is_unchecked(problem: Problem, unchecked: list[str]) -> bool:
    """True when ``problem`` is at or under a field the schema refused."""
    w = problem.where
    return any(w == u or w.startswith((u + ".", u + "[")) for u in unchecked)


def without_unchecked(problems: list[Problem], unchecked: list[Path_]) -> list[Problem]:
    """``problems`` less the follow-ons of fields the schema refused."""
    shown = [format_path(u) for u in unchecked]
    return [_named(p) for p in problems if not is_unchecked(p, shown)]


def _named(problem: Problem) -> Problem:
    """A scene whose id was missing or refused is named by its place (``scenes[2] (no usable
    id)``), not its stand-in (hostile helper-53: a refused id read "(no id)")."""
    message = STAND_IN_ID.sub(r"scenes[\1] (no usable id)", problem.message)
    return dataclasses.replace(problem, message=message) if message != problem.message else problem
