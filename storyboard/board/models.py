"""The model catalogue: one profile per Runware ``videoInference`` model, loaded from data.

Two files make it (``board/catalogue/``):

* ``registry.json``, GENERATED from the installed ``runware-sdk``'s registry by
  ``python -m storyboard.board.sdkregistry``: every video model, its typed fields, which are
  required, the ``duration`` and ``resolution`` values the SDK lists;
* ``models.json``, the hand-kept overlay: what only Runware's model pages say (status, sizes,
  prices, frame images, how a model extends, reference inputs, "must not" rules), each fact with
  its source.

A model with no overlay entry still works: what the registry says is enforced, nothing else,
and its price is unknown. Loading happens on first use (``PROFILES`` is lazy), never at import.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

DEFAULT_MODEL = "openai:3@1"  # the project's original model (Sora 2); `init` starts elsewhere
# fields an overlay entry must source (`sources` in the data file)
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
# fields the storyboard itself fills from scene fields: `settings` may not set them
MANAGED = frozenset(
    {
        "taskType",
        "taskUUID",
        "model",
        "positivePrompt",
        "negativePrompt",
        "seed",
        "width",
        "height",
        "resolution",
        "duration",
        "inputs",
        "numberResults",
        "outputType",
        "outputFormat",
        "outputQuality",
        "includeCost",
        "deliveryMethod",
        "webhookURL",
        "uploadEndpoint",
    }
)


@dataclass(frozen=True)
class Frames:
    """How a model takes frame images (``inputs.frameImages``)."""

    first: bool
    last: bool
    max: int
    required: bool  # image-to-video only: every request carries a frame image
    size: str  # what goes with frame images: "width_height", "resolution" or "none"
    known: bool = True  # False: no source says; the registry's `inputs` is all there is


@dataclass(frozen=True)
class Extend:
    """How a model continues a prior clip."""

    input: str  # "videoId" (outputs.videoId of the source) or "video" (the source's videoUUID)
    settings: dict[str, Any] = field(default_factory=dict)  # e.g. {"operation": "extend"}
    duration: int | None = None  # the only duration an extension accepts, when fixed


@dataclass(frozen=True)
class Reference:
    """Where a model takes one kind of reference input (``images``, ``videos``, ``audio``)."""

    field: str  # the key under ``inputs`` (referenceImages, referenceVideos, audio ...)
    max: int | None  # None: no source gives a limit
    single: bool = False  # the field takes one string, not a list (``inputs.audio``)
    source: str = ""


@dataclass(frozen=True)
class ModelProfile:
    """What one model accepts and what it costs, as the catalogue gives it."""

    air: str
    name: str
    status: str  # live | deprecated
    deactivated: str | None  # ISO date, when announced
    status_note: str
    tiers: dict[str, tuple[tuple[int, int], ...]]  # resolution -> sizes; {}: not stated
    duration_set: tuple[float, ...] | None
    duration_range: tuple[int, int] | None
    price_rule: dict[str, Any] | None  # None: no source gives a price
    prompt_chars: tuple[int, int] | None
    number_results: tuple[int, int] | None  # None: no source gives a limit
    params: frozenset[str]  # every top-level field the model accepts
    inputs: frozenset[str] | None  # known `inputs.*` fields; None: not stated
    frames: Frames
    extend: Extend | None
    audio: str
    sources: dict[str, str]
    formats: tuple[str, ...] = ("MP4", "WEBM", "MOV")
    quality: tuple[int, int] = (20, 99)
    ttl_min: int = 60
    required: frozenset[str] = frozenset()  # fields the SDK's typed params require
    types: dict[str, str] = field(default_factory=dict, compare=False)  # SDK annotations
    resolutions: tuple[str, ...] = ()  # the SDK's `resolution` values
    duration_kind: str = "set"  # set | range | whole | any | none (the model takes none)
    duration_str: bool = False  # the SDK types duration `int | str`
    references: dict[str, Reference] = field(default_factory=dict)
    rules: tuple[dict[str, Any], ...] = ()
    in_registry: bool = True
    overlay: bool = True
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

    @property
    def settings_field(self) -> str | None:
        """The model's free-form settings object (``settings`` or ``providerSettings``)."""
        return next((f for f in ("settings", "providerSettings") if f in self.params), None)

    def tier(self, width: int, height: int) -> str:
        """The resolution class of a size (``720p``, ``1080p`` ...)."""
        return next(t for t, sizes in self.tiers.items() if (width, height) in sizes)

    def accepts_duration(self, d: float) -> bool:
        if self.duration_set is not None:
            return d in self.duration_set
        if self.duration_kind == "any":
            return d > 0
        if not float(d).is_integer() or d <= 0:
            return False
        if self.duration_range is not None:
            return self.duration_range[0] <= d <= self.duration_range[1]
        return True

    @property
    def price_known(self) -> bool:
        return self.price_rule is not None

    def rate(self, tier: str, extend: bool = False) -> float:
        """USD per second planned for one clip at this resolution (or for an extension)."""
        assert self.price_rule is not None, self.air
        if extend and "extend_per_second" in self.price_rule:
            return float(self.price_rule["extend_per_second"][tier])
        return float(self.price_rule["per_second"][tier])

    def price(self, width: int, height: int, extend: bool = False) -> float:
        """USD per second of generated video at this size."""
        return self.rate(self.tier(width, height), extend)

    def min_price(self) -> float | None:
        if self.price_rule is None:
            return None
        return min(float(v) for v in self.price_rule["per_second"].values())

    @property
    def exact_price(self) -> bool:
        return bool(self.price_rule and self.price_rule.get("exact"))

    def sizes_text(self) -> str:
        if not self.tiers:
            return "any (no source lists its sizes)"
        return ", ".join(f"{w}x{h}" for w, h in self.sizes)

    def durations_text(self) -> str:
        if self.duration_set is not None:
            return ", ".join(f"{d:g}" for d in self.duration_set)
        if self.duration_range is not None:
            return f"{self.duration_range[0]} to {self.duration_range[1]} (whole seconds)"
        if self.duration_kind == "none":
            return "none (the model takes no duration)"
        if self.duration_kind == "any":
            return "any (range not stated)"
        return "whole seconds (range not stated)"

    def durations_words(self) -> str:
        """:meth:`durations_text` in a sentence: ``4, 8 or 12 seconds``, ``4 to 30 whole
        seconds`` (it said "4 to 30 (whole seconds) seconds": hostile helper-30)."""
        if self.duration_set is not None:
            *rest, last = [f"{d:g}" for d in self.duration_set] or ["?"]
            return f"{', '.join(rest)} or {last} seconds" if rest else f"{last} seconds"
        if self.duration_range is not None:
            return f"{self.duration_range[0]} to {self.duration_range[1]} whole seconds"
        return self.durations_text()

    def price_text(self) -> str:
        if self.price_rule is None:
            return "unknown"
        per = self.price_rule["per_second"]
        text = ", ".join(f"${_money(v)}/s {t}" for t, v in per.items())
        return text if self.exact_price else f"~{text} (estimate)"

    def to_json(self) -> dict[str, Any]:
        """The catalogue entry (overlay facts with sources, registry facts) plus derived views."""
        out: dict[str, Any] = {"id": self.air, "name": self.name, "status": self.status}
        out.update({k: v for k, v in self.raw.items() if k not in ("id", "name", "status")})
        out["continuity"] = sorted(self.continuity)
        out["sizes"] = [f"{w}x{h}" for w, h in self.sizes]
        out["size_tiers"] = {t: [f"{w}x{h}" for w, h in s] for t, s in self.tiers.items()}
        out["durations"] = self.raw.get("durations") or {"sdk": self.types.get("duration")}
        out["price"] = self.price_rule
        out["price_text"] = self.price_text()
        out["params"] = sorted(self.params)
        out["required"] = sorted(self.required)
        out["references"] = {
            k: {"field": r.field, "max": r.max, "source": r.source}
            for k, r in self.references.items()
        }
        out["rules"] = list(self.rules)
        out["in_registry"] = self.in_registry
        out["overlay"] = self.overlay
        sources = dict(self.raw.get("sources") or {})
        if self.in_registry:
            sources.setdefault("params", "runware-sdk registry (catalogue/registry.json)")
            sources["registry"] = "runware-sdk registry, runware/types/task_map.py"
        out["sources"] = sources
        return out


def _money(v: float) -> str:
    return f"{v:.2f}" if round(v, 2) == v else f"{v:g}"


@cache
def catalogue() -> dict[str, ModelProfile]:
    """Every profile by AIR id, live models first (overlay order, then the registry's)."""
    from .modeldata import load_profiles

    return load_profiles()


class _Lazy(Mapping[str, ModelProfile]):
    """``PROFILES``: the catalogue, read on first use (start-up stays cheap)."""

    def __getitem__(self, air: str) -> ModelProfile:
        return catalogue()[air]

    def __iter__(self) -> Iterator[str]:
        return iter(catalogue())

    def __len__(self) -> int:
        return len(catalogue())


PROFILES: Mapping[str, ModelProfile] = _Lazy()


def __getattr__(name: str) -> Any:
    if name == "SORA_2":
        return PROFILES["openai:3@1"]
    raise AttributeError(name)


def get_profile(air: str) -> ModelProfile | None:
    """The profile of a model, or None when the catalogue does not know it."""
    return PROFILES.get(air)


def alternatives(profile: ModelProfile, modes: set[str]) -> list[ModelProfile]:
    """Live models with an overlay that support every mode in ``modes``, cheapest first."""
    found = [p for p in PROFILES.values() if p.live and p.overlay and modes <= p.continuity]
    known = sorted((p for p in found if p.price_known), key=lambda p: p.min_price() or 0)
    return known + [p for p in found if not p.price_known]


# top-level fields every videoInference model takes (reference/runware-video-models.md, "common
# to every model", and the Sora 2 page's schema); for models outside the SDK's registry only
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
    return profile.params
