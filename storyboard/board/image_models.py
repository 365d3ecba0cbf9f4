"""The image-model catalogue: Runware ``imageInference`` models for cast sheets and boards.

The facts live in ``catalogue/image_models.json`` (shipped with the package), each with its
source; a fact the reference could not find is one entry there marked ``"verified": false``.
This module only types them and derives sizes and prices; nothing here is a model fact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

CATALOGUE = "catalogue/image_models.json"
DEFAULT_IMAGE_MODEL = "bfl:6@1"  # FLUX.2 [flex]: the most reference images a stated limit allows


@dataclass(frozen=True)
class References:
    """Where a model takes reference images (``inputs.<field>``) and how many."""

    field: str
    max: int | None  # None: the limit is not known (n/f)
    verified: bool


@dataclass(frozen=True)
class ImageProfile:
    """What one image model accepts and what it costs, as the catalogue gives it."""

    air: str
    name: str
    status: str
    any_size: bool
    listed: tuple[tuple[int, int], ...]
    price_rule: dict[str, Any]
    references: References
    params: frozenset[str]
    sources: dict[str, str]
    formats: tuple[str, ...] = ("JPG", "PNG", "WEBP")
    quality: tuple[int, int] = (20, 99)
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def live(self) -> bool:
        return self.status == "live"

    def accepts_size(self, width: int, height: int) -> bool:
        return self.any_size or (width, height) in self.listed

    def sizes_text(self) -> str:
        listed = ", ".join(f"{w}x{h}" for w, h in self.listed)
        return "any size" if self.any_size else listed

    def price(self, width: int, height: int, references: int = 0) -> float:
        """USD for one image of this size (an estimate unless the size is listed exactly)."""
        rule = self.price_rule
        sizes = {_size(k): float(v) for k, v in rule["sizes"].items()}
        area = width * height
        if (width, height) in sizes:
            base = sizes[(width, height)]
        else:
            bigger = sorted((w * h, p) for (w, h), p in sizes.items() if w * h >= area)
            if bigger:
                base = bigger[0][1]
            elif "per_megapixel" in rule:
                base = area / 1e6 * float(rule["per_megapixel"])
            else:  # n/f: the largest listed size's price as an estimate
                base = max(sizes.values())
        return round(base + references * float(rule.get("per_reference", 0.0)), 5)

    def exact_price(self, width: int, height: int) -> bool:
        return (
            bool(self.price_rule.get("exact")) and f"{width}x{height}" in self.price_rule["sizes"]
        )

    def to_json(self) -> dict[str, Any]:
        return dict(self.raw)


def _size(s: str) -> tuple[int, int]:
    w, h = s.split("x")
    return int(w), int(h)


def _profile(d: dict[str, Any], common: dict[str, Any]) -> ImageProfile:
    return ImageProfile(
        air=d["id"],
        name=d["name"],
        status=d["status"],
        any_size=bool(d["sizes"]["any"]),
        listed=tuple(_size(s) for s in d["sizes"]["listed"]),
        price_rule=d["price"],
        references=References(**d["references"]),
        params=frozenset(common["params"]) | frozenset(d["params"]),
        sources=d["sources"],
        formats=tuple(common["formats"]),
        quality=tuple(common["quality"]),  # type: ignore[arg-type]
        raw=d,
    )


@cache
def image_catalogue() -> dict[str, ImageProfile]:
    """Every image profile by AIR id, in the data file's order."""
    text = resources.files("storyboard.board").joinpath(CATALOGUE).read_text(encoding="utf-8")
    data = json.loads(text)
    return {p.air: p for p in (_profile(d, data["common"]) for d in data["models"])}


def get_image_profile(air: str) -> ImageProfile | None:
    return image_catalogue().get(air)


def image_models_for(width: int, height: int, references: int) -> list[ImageProfile]:
    """Live image models that take this size and this many reference images."""
    return [
        p
        for p in image_catalogue().values()
        if p.live
        and p.accepts_size(width, height)
        and (p.references.max is None or references <= p.references.max)
    ]
