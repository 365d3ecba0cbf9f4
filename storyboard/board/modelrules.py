"""The overlay's "must not" rules, applied to a request body by the compiler and the emulator.

Each rule is data in ``catalogue/models.json`` (``rules`` of a model), with its source. Kinds:

* ``{"not_together": [A, B]}``            A and B are never sent together ("exactly one of")
* ``{"if": A, "forbid": [B, ...]}``       with A, none of B
* ``{"if": A, "require": [B, ...]}``      A needs every B
* ``{"if": A, "duration_in": [5, 10]}``   with A, the duration is one of these

A path is a top-level field (``seed``, ``width``) or ``inputs.NAME``; it is "sent" when the key
is present. Nothing here is a model fact: the facts are the rules' data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .models import ModelProfile


@dataclass(frozen=True)
class Violation:
    rule: str  # the rule's id
    path: str  # the field to blame
    message: str


def sent(request: dict[str, Any], path: str) -> bool:
    if path.startswith("inputs."):
        inputs = request.get("inputs")
        return isinstance(inputs, dict) and path[len("inputs.") :] in inputs
    return path in request


def violations(request: dict[str, Any], profile: ModelProfile) -> list[Violation]:
    """Every rule of ``profile`` that ``request`` breaks."""
    out: list[Violation] = []
    for rule in profile.rules:
        rid = str(rule.get("id", "?"))
        pair = rule.get("not_together")
        if pair and all(sent(request, p) for p in pair):
            out.append(
                Violation(
                    rid, pair[1], f"{profile.name}: {pair[0]} and {pair[1]} cannot be sent together"
                )
            )
            continue
        cond = rule.get("if")
        if cond is None or not sent(request, cond):
            continue
        for p in rule.get("forbid", ()):
            if sent(request, p):
                out.append(Violation(rid, p, f"{profile.name}: with {cond}, {p} cannot be sent"))
        for p in rule.get("require", ()):
            if not sent(request, p):
                out.append(Violation(rid, cond, f"{profile.name}: {cond} requires {p}"))
        allowed = rule.get("duration_in")
        if allowed is not None and request.get("duration") not in allowed:
            listed = ", ".join(str(a) for a in allowed)
            out.append(
                Violation(
                    rid,
                    "duration",
                    f"{profile.name}: with {cond}, duration must be one of {listed}",
                )
            )
    return out
