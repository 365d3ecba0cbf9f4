"""Check a task against the SDK's typed parameters of its model (``catalogue/registry.json``).

The SDK's ``<Model>Params`` TypedDicts say which fields exist, which are required and what each
holds (``Literal[...]`` enums, ``int``, ``str``, ``dict[...]``, ``A | B``). The real service
answers a field outside them with ``unknownParameter``; the emulator does the same, and accepts
everything they allow (``routing``, ``duration`` as a string where typed ``int | str`` ...).
"""

from __future__ import annotations

import ast
import re
from typing import Any

from storyboard.board.models import ModelProfile

LITERAL = re.compile(r"\ALiteral\[(.*)\]\Z")
SENT_BY_PLATFORM = {"taskType", "taskUUID", "model"}
CODES = {  # the error code a wrong value of these fields answers with
    "duration": "invalidDuration",
    "resolution": "invalidResolution",
    "width": "invalidDimensions",
    "height": "invalidDimensions",
    "numberResults": "invalidNumberResults",
    "outputFormat": "invalidOutputFormat",
    "outputType": "invalidOutputType",
    "outputQuality": "invalidOutputQuality",
}


def _split(annotation: str) -> list[str]:
    """``int | str`` -> [int, str], not splitting inside brackets."""
    parts, depth, cur = [], 0, ""
    for ch in annotation:
        depth += ch == "["
        depth -= ch == "]"
        if ch == "|" and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    parts.append(cur.strip())
    return parts


def matches(value: Any, annotation: str) -> bool:
    """Whether ``value`` (decoded JSON) is of the SDK's annotation ``annotation``."""
    options = _split(annotation)
    if len(options) > 1:
        return any(matches(value, o) for o in options)
    a = options[0]
    lit = LITERAL.match(a)
    if lit:
        values = ast.literal_eval(f"[{lit.group(1)}]")
        return any(value == v and type(value) is type(v) for v in values)
    if a == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if a == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if a == "str":
        return isinstance(value, str)
    if a == "bool":
        return isinstance(value, bool)
    if a.startswith("dict"):
        return isinstance(value, dict)
    if a.startswith("list"):
        return isinstance(value, list)
    return True  # object, Any, or a shape the SDK leaves open


def type_problem(t: dict[str, Any], profile: ModelProfile) -> tuple[str, str, str] | None:
    """(code, message, field) for a field the model's typed params lack, a missing required
    one or a value of the wrong type; None when the task fits the SDK's types."""
    for k in t:
        if k not in profile.params:
            return "unknownParameter", f"unknown parameter {k!r} for {profile.air}", k
    for k in sorted(profile.required):
        if k not in t:
            return "missingParameter", f"{k} is required for {profile.air}", k
    for k, v in t.items():
        ann = profile.types.get(k)
        if ann is not None and k not in SENT_BY_PLATFORM and not matches(v, ann):
            return CODES.get(k, "invalidParameterType"), f"{k} must be {ann} for {profile.air}", k
    return None
