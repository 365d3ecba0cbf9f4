"""Build the profiles: the generated registry (SDK facts) merged with the overlay (page facts).

Facts the overlay gives win where both speak (a model page is more precise than ``int``); the
fields a model accepts and requires are always the registry's when the model is in it. A model
with no overlay entry gets only what the registry says: its sizes, price, prompt length,
``numberResults`` limit and reference fields stay unknown (and unenforced).
"""

from __future__ import annotations

import ast
import json
import re
from importlib import resources
from typing import Any

from .models import COMMON_PARAMS, Extend, Frames, ModelProfile, Reference

REGISTRY = "catalogue/registry.json"
OVERLAY = "catalogue/models.json"
NOT_SENT = frozenset({"taskType", "taskUUID", "model"})
LITERAL = re.compile(r"\ALiteral\[(.*)\]\Z")


def read(name: str) -> dict[str, Any]:
    text = resources.files("storyboard.board").joinpath(name).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def literal(annotation: str | None) -> list[Any] | None:
    """``Literal[4, 6, 8]`` -> ``[4, 6, 8]``; anything else -> None."""
    m = LITERAL.match(annotation or "")
    return list(ast.literal_eval(f"[{m.group(1)}]")) if m else None


def platform_fields(models: dict[str, Any]) -> frozenset[str]:
    """The fields every (non-union) video Params class of the registry carries."""
    sets = [set(m["fields"]) for m in models.values() if "union" not in m and m["fields"]]
    common = set.intersection(*sets) if sets else set()
    return frozenset(common)


def _size(s: str) -> tuple[int, int]:
    w, h = s.split("x")
    return int(w), int(h)


def _durations(entry: dict[str, Any] | None, sdk: str | None) -> dict[str, Any]:
    """duration_set / duration_range / duration_kind / duration_str from overlay, else SDK."""
    out: dict[str, Any] = {"duration_set": None, "duration_range": None}
    out["duration_str"] = bool(sdk and "str" in sdk.split(" | "))
    dur = (entry or {}).get("durations")
    if dur:
        if "set" in dur:
            out.update(duration_set=tuple(dur["set"]), duration_kind="set")
        elif "range" in dur:
            out.update(duration_range=tuple(dur["range"]), duration_kind="range")
        else:
            out["duration_kind"] = "whole" if dur.get("integer") else "any"
        return out
    values = literal(sdk)
    if sdk is None:
        out["duration_kind"] = "none"
    elif values is not None:
        out.update(duration_set=tuple(values), duration_kind="set")
    elif "float" in sdk:
        out["duration_kind"] = "any"
    else:
        out["duration_kind"] = "whole"
    return out


def _frames(entry: dict[str, Any] | None, params: frozenset[str]) -> Frames:
    if entry and entry.get("frames"):
        return Frames(**entry["frames"])
    takes = "inputs" in params
    size = (
        "width_height" if "width" in params else "resolution" if "resolution" in params else "none"
    )
    return Frames(first=takes, last=takes, max=99, required=False, size=size, known=False)


def _references(entry: dict[str, Any] | None) -> dict[str, Reference]:
    refs = (entry or {}).get("references") or {}
    return {
        kind: Reference(r["field"], r.get("max"), bool(r.get("single")), r.get("source", ""))
        for kind, r in refs.items()
    }


def profile(
    air: str,
    reg: dict[str, Any] | None,
    entry: dict[str, Any] | None,
    common: dict[str, Any],
    platform: frozenset[str],
) -> ModelProfile:
    """One model's profile from its registry entry and/or its overlay entry."""
    note = (entry or {}).get("status_note", "")
    if reg is not None:
        types = {k: v["type"] for k, v in reg["fields"].items()}
        required = frozenset(k for k, v in reg["fields"].items() if v["required"]) - NOT_SENT
        params = frozenset(types) | NOT_SENT
        if "union" in reg:
            params |= platform
            required = frozenset()
            note = note or (
                "the SDK's Params for this model is a union of near-empty variant classes: "
                "the fields every other video model takes are assumed (unverified)"
            )
    else:
        assert entry is not None, air
        types = {}
        required = frozenset(entry.get("required", ()))
        params = COMMON_PARAMS | frozenset(entry.get("params", ()))
    e = entry or {}
    ext = e.get("extend")
    tiers = {t: tuple(_size(s) for s in sizes) for t, sizes in (e.get("sizes") or {}).items()}
    resolutions = tuple(literal(types.get("resolution")) or tiers)
    number = e.get("number_results")
    return ModelProfile(
        air=air,
        name=e.get("name") or (reg or {}).get("slug", air),
        status=e.get("status", "live"),
        deactivated=e.get("deactivated"),
        status_note=note,
        tiers=tiers,
        price_rule=e.get("price"),
        prompt_chars=tuple(e["prompt"]) if e.get("prompt") else None,  # type: ignore[arg-type]
        number_results=tuple(number) if number else None,  # type: ignore[arg-type]
        params=params,
        inputs=frozenset(e["inputs"]) if e.get("inputs") else None,
        frames=_frames(entry, params),
        extend=Extend(**ext) if ext else None,
        audio=e.get("audio", ""),
        sources=e.get("sources", {}),
        formats=tuple(common["formats"]),
        quality=tuple(common["quality"]),  # type: ignore[arg-type]
        ttl_min=int(common["ttl_min"]),
        required=required,
        types=types,
        resolutions=resolutions,
        references=_references(entry),
        rules=tuple(e.get("rules", ())),
        in_registry=reg is not None,
        overlay=entry is not None,
        raw=e if entry is not None else {"slug": (reg or {}).get("slug")},
        **_durations(entry, types.get("duration") if reg is not None else "int"),
    )


def load_profiles() -> dict[str, ModelProfile]:
    """Every profile by AIR id: live first; overlay entries in file order, then the registry's."""
    registry = read(REGISTRY)["models"]
    overlay = read(OVERLAY)
    entries = {e["id"]: e for e in overlay["models"]}
    platform = platform_fields(registry)
    order = list(entries) + [air for air in registry if air not in entries]
    profiles = [
        profile(air, registry.get(air), entries.get(air), overlay["common"], platform)
        for air in order
    ]
    profiles.sort(key=lambda p: not p.live)
    return {p.air: p for p in profiles}
