"""What the emulator's HTTP side accepts: a body read only up to its cap, parsed defensively,
and fault specs checked field by field. Every refusal is a :class:`BodyError` carrying the
HTTP status (400, or 413: too large) and the reason, answered in Runware's error shape."""

from __future__ import annotations

import dataclasses
import io
import math
from typing import Any

from storyboard.errors import StoryboardError
from storyboard.files import parse_json

from .faults import Fault

MAX_TASKS_BODY = 96 * 1024 * 1024  # an imageUpload of a 50 MiB picture, base64 encoded
MAX_FAULTS_BODY = 64 * 1024
MAX_DELAY = 3600.0  # seconds: a longer injected wait is a typo


class BodyError(Exception):
    """A request the emulator refuses without reading further."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def read_body(length_header: str | None, stream: io.BufferedIOBase, limit: int) -> bytes:
    """The body, by its Content-Length (none: empty); never reads past ``limit`` bytes."""
    if length_header is None:
        return b""
    text = length_header.strip()
    if not text.isdigit():
        raise BodyError(f"Content-Length {length_header[:40]!r} is not a byte count")
    length = int(text)
    if length > limit:
        raise BodyError(f"the request body may be at most {limit} bytes", 413)
    return stream.read(length)


def parse(raw: bytes, what: str) -> Any:
    try:
        return parse_json(raw, what)
    except StoryboardError as e:
        raise BodyError(str(e)) from None


def faults_from(raw: bytes) -> list[Fault]:
    """``POST /_emulator/faults``: one fault object or a list of them."""
    spec = parse(raw or b"[]", "the faults body")
    items = spec if isinstance(spec, list) else [spec]
    return [fault_from(f) for f in items]


def fault_from(obj: Any) -> Fault:
    """A :class:`Fault` from JSON: known fields only, each of its default's type, finite."""
    if not isinstance(obj, dict):
        raise BodyError('a fault is a JSON object such as {"kind": "drop"}')
    fields = {f.name: f for f in dataclasses.fields(Fault) if f.name != "fired"}
    if obj.get("times") == "always":  # as `--fault ...:times=always` writes it (helper-37)
        obj = {**obj, "times": None}  # every time, as null is
    for name, value in obj.items():
        f = fields.get(name)
        if f is None:
            raise BodyError(f"unknown field {name!r} in a fault (one of {', '.join(fields)})")
        if name != "kind":
            _check(name, value, f.default)
    if not isinstance(obj.get("kind"), str):
        raise BodyError("a fault needs 'kind' (text, e.g. \"drop\")")
    try:
        return Fault(**obj)
    except (TypeError, ValueError) as e:
        raise BodyError(str(e)) from None


RANGES = {"delay": (0.0, MAX_DELAY), "status": (100, 599), "rate": (1, 10**12)}


def _check(name: str, value: Any, default: Any) -> None:
    """``value`` is of ``default``'s kind: bool, text, a finite number of 0 or more (whole
    when the default is), or, where the default is None, text, a number or null."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            _fail(name, value, "true or false")
    elif isinstance(default, str):
        if not isinstance(value, str):
            _fail(name, value, "text")
    elif default is None or isinstance(default, int | float):
        if value is None and (default is None or name == "times"):  # times null: always
            return
        if default is None and isinstance(value, str):
            return
        if not number or not math.isfinite(value) or value < 0:
            _fail(name, value, "a number of 0 or more")
        if isinstance(default, int) and not isinstance(value, int):
            _fail(name, value, "a whole number")
        lo, hi = RANGES.get(name, (0, math.inf))
        if not lo <= value <= hi:
            _fail(name, value, f"between {lo:g} and {hi:g}")


def _fail(name: str, value: Any, want: str) -> None:
    raise BodyError(f"'{name}' must be {want}, got {str(value)[:40]!r}")
