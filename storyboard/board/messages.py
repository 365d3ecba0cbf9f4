"""Schema problems in our words: what was expected, what was given, how to fix it.

pydantic reports ``Input should be greater than or equal to 0``; a storyboard author should read
``expected a number from 0 to 5, got -1``. Every error type the storyboard schema can raise is
translated here; anything else still gets the given value and a plain-words fallback.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from storyboard.errors import Problem

from .schema import Storyboard
from .yamlsrc import Located, Path_, format_path

# fields that also take a short form: what to write instead of a bare mapping
SHAPES = {
    "continuity": "cut, extend, last_frame or {mode: MODE, from: SCENE}",
    "transition": "cut, crossfade, fade or {type: TYPE, duration: SECONDS}",
    "trim": "[IN, OUT] or {in: SECONDS, out: SECONDS}",
}
YAML_BOOLS = "YAML reads yes, no, on, off, true and false as true/false: put the value in quotes"


def model_at(loc: Path_) -> type[BaseModel] | None:
    """The pydantic model whose fields live at ``loc`` (for did-you-mean and ranges)."""
    model: type[BaseModel] | None = Storyboard
    for part in loc:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        f = field_info(model, part)
        if f is None:
            return None
        model = _inner_model(f.annotation)
    return model


def field_info(model: type[BaseModel], name: str | int) -> FieldInfo | None:
    """A field of ``model`` by name or alias."""
    if not isinstance(name, str):
        return None
    f = model.model_fields.get(name)
    if f is None:
        f = next((x for x in model.model_fields.values() if x.alias == name), None)
    return f


def _inner_model(ann: Any) -> type[BaseModel] | None:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in getattr(ann, "__args__", ()) or ():
        m = _inner_model(arg)
        if m is not None:
            return m
    return None


def field_names(model: type[BaseModel]) -> list[str]:
    """The keys a mapping of ``model`` accepts, as written in YAML."""
    return [f.alias or name for name, f in model.model_fields.items()]


def did_you_mean(given: object, choices: list[str]) -> str | None:
    """The nearest of ``choices`` to ``given`` (case, ``-`` and ``_`` are forgiven)."""
    if not isinstance(given, str) or not choices:
        return None
    norm = {c.lower().replace("-", "_"): c for c in choices}
    key = given.lower().replace("-", "_").strip()
    if key in norm:
        return norm[key]
    guess = difflib.get_close_matches(key, list(norm), n=1, cutoff=0.6)
    return norm[guess[0]] if guess else None


def describe(value: object) -> str:
    """A given value as a reader would name it."""
    if value is None:
        return "nothing (the value is empty)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def clean_loc(loc: tuple[Any, ...]) -> Path_:
    """pydantic's location without its union and validator markers."""
    out: list[str | int] = []
    for p in loc:
        if isinstance(p, str) and (
            p.startswith("function-") or "[" in p or p in ("float", "int", "str", "bool")
        ):
            continue
        out.append(p)
    return tuple(out)


def translate(
    errors: list[dict[str, Any]], relocate: Callable[[Path_], Path_] = lambda p: p
) -> list[tuple[Path_, str]]:
    """pydantic errors -> ``(path, message)``; the branches of one union become one message.

    ``relocate`` maps a path to where the value was really written (a scene's value that came
    from ``defaults``); messages are phrased for that place.
    """
    by_path: dict[Path_, list[dict[str, Any]]] = {}
    for err in errors:
        by_path.setdefault(relocate(clean_loc(tuple(err["loc"]))), []).append(err)
    out: list[tuple[Path_, str]] = []
    for path, errs in by_path.items():
        if len(errs) > 1 and all(_is_union_branch(e) for e in errs):
            out.append((path, _union_message(path, errs)))
        else:
            out.extend((path, message(path, e)) for e in errs)
    return out


def _is_union_branch(err: dict[str, Any]) -> bool:
    return any(isinstance(p, str) and ("[" in p or p == "float") for p in err["loc"])


def _union_message(path: Path_, errs: list[dict[str, Any]]) -> str:
    given = errs[0].get("input")
    options: list[str] = []
    choices: list[str] = []
    for e in errs:
        if e["type"] == "literal_error":
            opts = e.get("ctx", {}).get("expected", "")
            options.append(opts)
            choices += [o.strip(" '") for o in opts.replace(" or ", ",").split(",")]
        else:
            options.append(_expected_kind(path, e))
    msg = f"expected {' or '.join(options)}, got {describe(given)}"
    guess = did_you_mean(given, [c for c in choices if c])
    if guess:
        msg += f"; did you mean '{guess}'?"
    elif isinstance(given, bool):
        msg += f" ({YAML_BOOLS})"
    return msg


def _expected_kind(path: Path_, err: dict[str, Any]) -> str:
    kind = err["type"]
    if kind.startswith(("float", "greater", "less", "finite")):
        return _range_text(path, "a number")
    if kind.startswith("int"):
        return _range_text(path, "a whole number")
    return "a valid value"


def _is_int(path: Path_) -> bool:
    model = model_at(path[:-1]) if path else None
    f = field_info(model, path[-1]) if model else None
    if f is None:
        return False
    ann = f.annotation
    args = set(getattr(ann, "__args__", ()) or ()) or {ann}
    return int in args and float not in args


def _constraints(path: Path_) -> dict[str, float]:
    """The numeric bounds of the field at ``path`` (ge/gt/le/lt)."""
    if not path:
        return {}
    model = model_at(path[:-1])
    f = field_info(model, path[-1]) if model else None
    out: dict[str, float] = {}
    for m in f.metadata if f else []:
        for cls, key in ((Ge, "ge"), (Gt, "gt"), (Le, "le"), (Lt, "lt")):
            if isinstance(m, cls):
                out[key] = float(getattr(m, key))
    return out


def _range_text(path: Path_, kind: str) -> str:
    if kind == "a number" and _is_int(path):
        kind = "a whole number"
    c = _constraints(path)
    lo = c.get("ge", c.get("gt"))
    hi = c.get("le", c.get("lt"))
    if lo is not None and hi is not None:
        lo_word = "from" if "ge" in c else "above"
        hi_word = "to" if "le" in c else "below"
        return f"{kind} {lo_word} {lo:g} {hi_word} {hi:g}"
    if lo is not None:
        return f"{kind} of at least {lo:g}" if "ge" in c else f"{kind} above {lo:g}"
    if hi is not None:
        return f"{kind} of at most {hi:g}" if "le" in c else f"{kind} below {hi:g}"
    return kind


def message(path: Path_, err: dict[str, Any]) -> str:
    """One pydantic error in our words."""
    kind: str = err["type"]
    given = err.get("input")
    ctx = err.get("ctx") or {}
    name = path[-1] if path else ""
    got = describe(given)
    if kind == "extra_forbidden":
        model = model_at(path[:-1])
        names = field_names(model) if model else []
        guess = did_you_mean(str(name), names)
        if guess:
            return f"unknown key '{name}'; did you mean '{guess}'?"
        return f"unknown key '{name}'" + (f"; expected one of: {', '.join(names)}" if names else "")
    if kind == "missing":
        return f"required key '{name}' is missing"
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        msg = f"expected {expected}, got {describe(given)}"
        choices = [o.strip(" '") for o in expected.replace(" or ", ",").split(",")]
        guess = did_you_mean(given, choices)
        if guess:
            return f"{msg}; did you mean '{guess}'?"
        return f"{msg} ({YAML_BOOLS})" if isinstance(given, bool) else msg
    if kind in ("value_error", "assertion_error"):
        return str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "string_type":
        if isinstance(name, str) and name.startswith("[key"):
            return f"keys must be text, got {got}"
        hint = f" ({YAML_BOOLS})" if isinstance(given, bool) else ""
        if isinstance(given, dict | list):
            hint = " (text that starts with {, [ or {{ must be put in quotes)"
        return f"expected text, got {got}{hint}"
    if kind in ("string_too_short", "too_short") and not ctx.get("min_length", 1) > 1:
        if path == ("scenes",):
            return "a storyboard needs at least one scene"
        return "must not be empty"
    if kind in ("string_too_short", "too_short"):
        return f"needs at least {ctx['min_length']} items, got {len(given or [])}"
    if kind in ("string_too_long", "too_long"):
        return f"may have at most {ctx.get('max_length')} items or characters"
    if kind in ("float_type", "float_parsing", "finite_number") or kind.startswith(
        ("greater_than", "less_than")
    ):
        expected = _range_text(path, "a number")
        key = next((k for k in ("ge", "gt", "le", "lt") if k in ctx), None)
        if expected in ("a number", "a whole number") and key is not None:
            # a field the schema walk does not reach (in a mapping of names): pydantic's bound
            # (hostile helper-56: `price: -1` read "expected a number, got -1")
            word = {"ge": "of at least", "gt": "above", "le": "of at most", "lt": "below"}
            expected = f"{expected} {word[key]} {float(ctx[key]):g}"
        if kind == "finite_number":
            expected = "a finite number"
        return f"expected {expected}, got {got}"
    if kind in ("int_type", "int_parsing", "int_from_float", "int_parsing_size"):
        return f"expected {_range_text(path, 'a whole number')}, got {got}"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {got}"
    if kind in ("dict_type", "model_type", "model_attributes_type", "mapping_type"):
        if name in SHAPES:
            return f"expected {SHAPES[str(name)]}, got {got}"
        model = model_at(path)
        if model is not None:
            keys = ", ".join(field_names(model))
            return f"expected a mapping with keys such as {keys}; got {got}"
        return f"expected a mapping (key: value lines), got {got}"
    if kind in ("list_type", "tuple_type", "iterable_type"):
        if path == ("scenes",):
            return f"expected a list of scenes (each one starting with '- id: ...'), got {got}"
        return f"expected a list (lines starting with '- ', or [a, b]), got {got}"
    # not raised by today's schema; still in plain words, never pydantic's sentence
    return f"{got} is not accepted here ({kind.replace('_', ' ')})"


def schema_problems(
    shown: str, src: Located, errors: list[dict[str, Any]], relocate: Callable[[Path_], Path_]
) -> list[Problem]:
    """One problem per pydantic error (union branches merged), placed by ``relocate``."""
    out = []
    for path, msg in translate(errors, relocate):
        out.append(Problem(shown, src.line_of(path), format_path(path), msg))
    return out
