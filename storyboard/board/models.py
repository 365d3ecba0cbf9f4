"""The model catalogue: one profile per Runware ``videoInference`` model, loaded from data.

The facts live in ``catalogue/models.json`` (shipped with the package), each with its source;
this module only types them. Nothing here is a model fact of its own.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

CATALOGUE = "catalogue/models.json"
DEFAULT_MODEL = "openai:3@1"  # the project's original model (Sora 2); `init` starts elsewhere
# fields a profile must source (`sources` in the data file)
SOURCED = (
    "status",
    "sizes",
    "durations",
    "price",
    "prompt",
    "number_results",
    "params",
    "inputs",
    "frames",
    "extend",
    "audio",
)


@dataclass(frozen=True)
class Frames:
    """How a model takes frame images (``inputs.frameImages``)."""

    first: bool
    last: bool
    max: int
    required: bool  # image-to-video only: every request carries a frame image
    size: str  # what goes with frame images: "width_height", "resolution" or "none"


@dataclass(frozen=True)
class Extend:
    """How a model continues a prior clip."""

    input: str  # "videoId" (outputs.videoId of the source) or "video" (the source's videoUUID)
    settings: dict[str, Any] = field(default_factory=dict)  # e.g. {"operation": "extend"}
    duration: int | None = None  # the only duration an extension accepts, when fixed


@dataclass(frozen=True)
class ModelProfile:
    """What one model accepts and what it costs, as the catalogue gives it."""

    air: str
    name: str
    status: str  # live | deprecated
    deactivated: str | None  # ISO date, when announced
    status_note: str
    tiers: dict[str, tuple[tuple[int, int], ...]]  # resolution -> sizes
    duration_set: tuple[float, ...] | None
    duration_range: tuple[int, int] | None
    price_rule: dict[str, Any]
    prompt_chars: tuple[int, int] | None
    number_results: tuple[int, int]
    params: frozenset[str]
    inputs: frozenset[str]
    frames: Frames
    extend: Extend | None
    audio: str
    sources: dict[str, str]
    formats: tuple[str, ...] = ("MP4", "WEBM", "MOV")
    quality: tuple[int, int] = (20, 99)
    ttl_min: int = 60
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def live(self) -> bool:
        return self.status == "live"

    def deactivated_by(self, today: dt.date | None = None) -> bool:
        """Whether the service no longer runs this model (no date: withdrawn already)."""
        if self.live:
            return False
        if self.deactivated is None:
            return True
        return dt.date.fromisoformat(self.deactivated) <= (today or dt.date.today())

    @property
    def sizes(self) -> tuple[tuple[int, int], ...]:
        return tuple(s for sizes in self.tiers.values() for s in sizes)

    @property
    def continuity(self) -> frozenset[str]:
        """The continuity modes a scene may use on this model (and ``end_frame``)."""
        modes = {"cut"}
        if self.extend is not None:
            modes.add("extend")
        if self.frames.first:
            modes.add("last_frame")
        if self.frames.last:
            modes.add("end_frame")
        return frozenset(modes)

    def tier(self, width: int, height: int) -> str:
        """The resolution class of a size (``720p``, ``1080p`` ...)."""
        return next(t for t, sizes in self.tiers.items() if (width, height) in sizes)

    def accepts_duration(self, d: float) -> bool:
        if self.duration_set is not None:
            return d in self.duration_set
        if not float(d).is_integer() or d <= 0:
            return False
        if self.duration_range is not None:
            return self.duration_range[0] <= d <= self.duration_range[1]
        return True

    def rate(self, tier: str, extend: bool = False) -> float:
        """USD per second planned for one clip at this resolution (or for an extension)."""
        if extend and "extend_per_second" in self.price_rule:
            return float(self.price_rule["extend_per_second"][tier])
        return float(self.price_rule["per_second"][tier])

    def price(self, width: int, height: int, extend: bool = False) -> float:
        """USD per second of generated video at this size."""
        return self.rate(self.tier(width, height), extend)

    @property
    def exact_price(self) -> bool:
        return bool(self.price_rule.get("exact"))

    def sizes_text(self) -> str:
        return ", ".join(f"{w}x{h}" for w, h in self.sizes)

    def durations_text(self) -> str:
        if self.duration_set is not None:
            return ", ".join(f"{d:g}" for d in self.duration_set)
        if self.duration_range is not None:
            return f"{self.duration_range[0]} to {self.duration_range[1]} (whole seconds)"
        return "whole seconds (range not stated)"

    def price_text(self) -> str:
        per = self.price_rule["per_second"]
        text = ", ".join(f"${_money(v)}/s {t}" for t, v in per.items())
        return text if self.exact_price else f"~{text} (estimate)"

    def to_json(self) -> dict[str, Any]:
        """The catalogue entry, plus the derived ``continuity`` and flat ``durations``/``sizes``."""
        out = dict(self.raw)
        out["continuity"] = sorted(self.continuity)
        out["sizes"] = [f"{w}x{h}" for w, h in self.sizes]
        out["size_tiers"] = self.raw["sizes"]
        out["durations"] = self.raw["durations"]
        return out


def _money(v: float) -> str:
    return f"{v:.2f}" if round(v, 2) == v else f"{v:g}"


def _size(s: str) -> tuple[int, int]:
    w, h = s.split("x")
    return int(w), int(h)


def _profile(d: dict[str, Any], common: dict[str, Any]) -> ModelProfile:
    dur = d["durations"]
    ext = d.get("extend")
    return ModelProfile(
        air=d["id"],
        name=d["name"],
        status=d["status"],
        deactivated=d.get("deactivated"),
        status_note=d.get("status_note", ""),
        tiers={t: tuple(_size(s) for s in sizes) for t, sizes in d["sizes"].items()},
        duration_set=tuple(dur["set"]) if "set" in dur else None,
        duration_range=tuple(dur["range"]) if "range" in dur else None,  # type: ignore[arg-type]
        price_rule=d["price"],
        prompt_chars=tuple(d["prompt"]) if d.get("prompt") else None,  # type: ignore[arg-type]
        number_results=tuple(d["number_results"] or (1, 1)),  # type: ignore[arg-type]
        params=frozenset(d["params"]),
        inputs=frozenset(d["inputs"]),
        frames=Frames(**d["frames"]),
        extend=Extend(**ext) if ext else None,
        audio=d.get("audio", ""),
        sources=d["sources"],
        formats=tuple(common["formats"]),
        quality=tuple(common["quality"]),  # type: ignore[arg-type]
        ttl_min=int(common["ttl_min"]),
        raw=d,
    )


@cache
def catalogue() -> dict[str, ModelProfile]:
    """Every profile by AIR id, live models first (in the data file's order)."""
    text = resources.files("storyboard.board").joinpath(CATALOGUE).read_text(encoding="utf-8")
    data = json.loads(text)
    profiles = [_profile(d, data["common"]) for d in data["models"]]
    profiles.sort(key=lambda p: not p.live)
    return {p.air: p for p in profiles}


PROFILES: dict[str, ModelProfile] = catalogue()
SORA_2 = PROFILES["openai:3@1"]


def get_profile(air: str) -> ModelProfile | None:
    """The profile of a model, or None when the catalogue does not know it."""
    return PROFILES.get(air)


def alternatives(profile: ModelProfile, modes: set[str]) -> list[ModelProfile]:
    """Live models that support every continuity mode in ``modes``, cheapest first."""
    found = [p for p in PROFILES.values() if p.live and modes <= p.continuity]
    return sorted(found, key=lambda p: min(p.price_rule["per_second"].values()))


# top-level fields every videoInference model takes (reference/runware-video-models.md, "common
# to every model", and the Sora 2 page's schema); a profile's ``params`` come on top of these
COMMON_PARAMS = frozenset(
    {
        "taskType",
        "taskUUID",
        "model",
        "positivePrompt",
        "width",
        "height",
        "duration",
        "inputs",
        "webhookURL",
        "includeCost",
        "numberResults",
        "uploadEndpoint",
        "ttl",
        "outputType",
        "outputFormat",
        "outputQuality",
        "deliveryMethod",
        "safety",
    }
)


def accepted_params(profile: ModelProfile) -> frozenset[str]:
    """Every top-level request field this model accepts."""
    return COMMON_PARAMS | profile.params


def readme_table() -> str:
    """The README's models table (Markdown), generated from the catalogue; a test keeps it so."""
    lines = [
        "| model | name | status | price (USD) | durations (s) | extend | first frame | "
        "last frame |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in PROFILES.values():
        status = "live" if p.live else f"deprecated ({p.deactivated or 'withdrawn'})"
        ext = "-"
        if p.extend is not None:
            ext = "`inputs.videoId`" if p.extend.input == "videoId" else "`inputs.video`"
            if p.extend.settings:
                ext += " + " + ", ".join(f"`{k}: {v}`" for k, v in p.extend.settings.items())
            if p.extend.duration:
                ext += f" ({p.extend.duration} s)"
        first = "required" if p.frames.required else "yes" if p.frames.first else "-"
        lines.append(
            f"| `{p.air}` | {p.name} | {status} | {p.price_text()} | {p.durations_text()} | "
            f"{ext} | {first} | {'yes' if p.frames.last else '-'} |"
        )
    return "\n".join(lines)
