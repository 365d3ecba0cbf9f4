"""Undefined template values explained from the storyboard's side.

jinja2 says ``'dict object' has no attribute 'dek'`` at ``templates/shot.j2:13``. The author
wrote ``place: dek`` in the storyboard: that line is the one to point at, with the nearest
known name, and the template line kept as secondary information.
"""

from __future__ import annotations

import difflib
from functools import partial
from typing import Any

import jinja2
from jinja2.runtime import missing

from .yamlsrc import Path_


class UndefinedValue(jinja2.UndefinedError):
    """An :class:`~jinja2.UndefinedError` that knows which undefined value raised it."""

    def __init__(self, undefined: jinja2.StrictUndefined, message: str | None = None):
        super().__init__(message)
        self.undefined = undefined


class TracedUndefined(jinja2.StrictUndefined):
    """``StrictUndefined`` whose error carries the object and the name that were looked up."""

    __slots__ = ()

    def __init__(
        self,
        hint: str | None = None,
        obj: Any = missing,
        name: str | None = None,
        exc: type[jinja2.exceptions.TemplateRuntimeError] = jinja2.UndefinedError,
    ) -> None:
        super().__init__(hint, obj, name, exc)
        if exc is jinja2.UndefinedError:
            # jinja2 raises ``self._undefined_exception(message)``: a factory that keeps `self`
            self._undefined_exception = partial(UndefinedValue, self)  # type: ignore[assignment]


def nearest(name: object, choices: list[str]) -> str | None:
    """The closest of ``choices`` to ``name``, if any is close."""
    if not isinstance(name, str):
        return None
    guess = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    return guess[0] if guess else None


def name_of(obj: object, ctx: dict[str, Any]) -> str | None:
    """The template name under which ``obj`` was given (``places``, ``vars.places``...)."""
    for key, value in ctx.items():
        if value is obj:
            return key
    for key, value in ctx.items():
        if isinstance(value, dict):
            for sub, inner in value.items():
                if inner is obj:
                    return f"{key}.{sub}"
    return None


def find_value(data: Any, value: str, path: Path_ = ()) -> Path_ | None:
    """The first path in ``data`` whose scalar (or list item) equals ``value``."""
    if isinstance(data, str):
        return path if data == value else None
    if isinstance(data, dict):
        items: Any = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        return None
    for key, inner in items:
        found = find_value(inner, value, (*path, key))
        if found is not None:
            return found
    return None


def passed_from(raw: dict[str, Any], index: int, value: str) -> Path_ | None:
    """Where in the storyboard ``value`` was written for scene ``index``: the scene, its
    defaults, or the top-level ``vars``."""
    scenes = raw.get("scenes")
    scene = scenes[index] if isinstance(scenes, list) and index < len(scenes) else None
    for base, data in (
        (("scenes", index), scene),
        (("defaults",), raw.get("defaults")),
        (("vars",), raw.get("vars")),
    ):
        found = find_value(data, value)
        if found is not None:
            return (*base, *found)
    return None


def explain(undefined: jinja2.StrictUndefined, ctx: dict[str, Any]) -> tuple[str, str, str | None]:
    """``(what is missing, how to fix it, the name looked up when it was a missing key)``."""
    obj = undefined._undefined_obj
    name = undefined._undefined_name
    if undefined._undefined_hint:
        return undefined._undefined_hint, "", None
    if obj is missing:
        known = sorted(k for k in ctx if not k.startswith("_"))
        guess = nearest(name, known)
        hint = f"; did you mean '{guess}'?" if guess else "; set it in vars: or on the scene"
        if guess == name:  # helper-53: "undefined variable 'subject'; did you mean 'subject'?"
            hint = (
                f"; the scene has '{name}', but the template that uses it does not see the "
                "scene's variables: import it with context ({% import 'x.j2' as x with "
                "context %}, {% from 'x.j2' import m with context %}), or include it without "
                "'without context'"
            )
        return f"undefined variable '{name}'", hint, None
    label = name_of(obj, ctx) or type(obj).__name__
    if isinstance(obj, dict):
        keys = [str(k) for k in obj]
        guess = nearest(name, keys)
        if guess:
            hint = f"; did you mean '{guess}'?"
        elif keys:
            hint = f"; known: {', '.join(keys[:12])}" + (", ..." if len(keys) > 12 else "")
        else:
            hint = f"; {label} is empty"
        return f"{name!r} is not in {label}", hint, name if isinstance(name, str) else None
    if isinstance(obj, list | tuple):
        return f"{label} has no item {name!r}", f"; it has {len(obj)}", None
    return f"{label} has no attribute {name!r}", "", None
