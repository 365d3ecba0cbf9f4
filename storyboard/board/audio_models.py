"""The audio catalogue: speech, music, sound-effect and lip-sync models, loaded from data.

The facts live in ``catalogue/audio_models.json`` (shipped with the package), each with its
source; a fact no source gives is ``null`` there and named in the entry's ``unverified`` list.
This module only types them and prices a request; nothing here is a model fact of its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

CATALOGUE = "catalogue/audio_models.json"
KINDS = ("speech", "music", "effect", "lipsync")


@dataclass(frozen=True)
class AudioProfile:
    """One audio model (or lip-sync video model) as the catalogue gives it."""

    air: str
    name: str
    kind: str  # speech | music | effect | lipsync
    status: str
    task_type: str  # audioInference, or videoInference for lip sync
    params: frozenset[str]
    price_rule: dict[str, Any]
    sources: dict[str, str]
    unverified: frozenset[str]
    voices: dict[str, tuple[str, ...]] = field(default_factory=dict)  # language or "*" -> names
    voices_complete: bool = False
    languages: tuple[str, ...] | None = None
    language_field: bool = False
    prompt_chars: tuple[int, int | None] | None = None
    duration_range: tuple[float, float] | None = None
    inputs: frozenset[str] = frozenset()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def live(self) -> bool:
        return self.status == "live"

    @property
    def priced(self) -> bool:
        """Whether a source states a price (otherwise plans show it as not published)."""
        return self.price_rule.get("usd") is not None

    def cost(self, *, chars: int = 0, seconds: float = 0.0) -> float:
        """USD for one request: speech by characters, music per track, lip sync per second of
        audio. 0.0 when no source gives a price (``priced`` says which)."""
        usd = self.price_rule.get("usd")
        if usd is None:
            return 0.0
        billing = self.price_rule["billing"]
        if billing == "per_1000_chars":
            return round(float(usd) * chars / 1000, 8)
        if billing == "per_audio_second":
            return round(float(usd) * seconds, 8)
        if billing == "per_track":
            return float(usd)
        raise ValueError(f"{self.air}: unknown billing {billing!r}")

    def price_text(self) -> str:
        if not self.priced:
            return "price not published"
        basis = str(self.price_rule.get("basis", ""))
        return basis if self.price_rule.get("exact") else f"~{basis} (estimate)"

    def known_voices(self, language: str | None = None) -> tuple[str, ...]:
        """The voice names the catalogue lists for ``language`` (all of them without one)."""
        if language is not None and language in self.voices:
            return self.voices[language]
        if "*" in self.voices:
            return self.voices["*"]
        if language is None:
            return tuple(v for names in self.voices.values() for v in names)
        return ()

    def voice_listed(self, voice: str, language: str | None = None) -> bool:
        return voice.casefold() in {v.casefold() for v in self.known_voices(language)}

    def canonical_voice(self, voice: str, language: str | None = None) -> str:
        """The catalogue's spelling of a listed voice (``eve`` -> ``Eve``); others as given."""
        for v in self.known_voices(language):
            if v.casefold() == voice.casefold():
                return v
        return voice

    def to_json(self) -> dict[str, Any]:
        return dict(self.raw)


def _pair(v: Any) -> Any:
    return tuple(v) if isinstance(v, list) else None


def _profile(d: dict[str, Any]) -> AudioProfile:
    if d["kind"] not in KINDS:
        raise ValueError(f"{d['id']}: kind must be one of {KINDS}")
    return AudioProfile(
        air=d["id"],
        name=d["name"],
        kind=d["kind"],
        status=d["status"],
        task_type=d.get("task_type", "audioInference"),
        params=frozenset(d["params"]),
        price_rule=d["price"],
        sources=d["sources"],
        unverified=frozenset(d.get("unverified", ())),
        voices={k: tuple(v) for k, v in (d.get("voices") or {}).items()},
        voices_complete=bool(d.get("voices_complete")),
        languages=_pair(d.get("languages")),
        language_field=bool(d.get("language_field")),
        prompt_chars=_pair(d.get("prompt")),
        duration_range=_pair(d.get("duration")),
        inputs=frozenset(d.get("inputs", ())),
        raw=d,
    )


@cache
def audio_catalogue() -> dict[str, AudioProfile]:
    """Every audio profile by AIR id, in the data file's order."""
    text = resources.files("storyboard.board").joinpath(CATALOGUE).read_text(encoding="utf-8")
    return {p.air: p for p in (_profile(d) for d in json.loads(text)["models"])}


@cache
def audio_common() -> dict[str, Any]:
    text = resources.files("storyboard.board").joinpath(CATALOGUE).read_text(encoding="utf-8")
    return dict(json.loads(text)["common"])


def audio_profile(air: str) -> AudioProfile | None:
    return audio_catalogue().get(air)


def of_kind(kind: str) -> list[AudioProfile]:
    """The models of one kind, live first, in the data file's order."""
    found = [p for p in audio_catalogue().values() if p.kind == kind]
    return sorted(found, key=lambda p: not p.live)


def default_model(kind: str) -> AudioProfile | None:
    """The first live model of a kind with a stated price (else the first live one), or None."""
    live = [p for p in of_kind(kind) if p.live]
    priced = [p for p in live if p.priced]
    pool = priced or live
    return pool[0] if pool else None


# --- placeholder lengths (the emulator's and the plan's estimate of a spoken take) ----------
# Not a model fact: the real take's length is measured from its file once it exists.
CHARS_PER_SECOND = 15.0
SPEECH_LEAD = 0.3


def estimated_speech_seconds(text: str) -> float:
    """About how long ``text`` takes to say (for plans and placeholders; never for the cut)."""
    return round(SPEECH_LEAD + len(text) / CHARS_PER_SECOND, 3)
