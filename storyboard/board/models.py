"""Model profiles: every rule the compiler enforces, as data (one profile per Runware model)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ModelProfile:
    """What one Runware ``videoInference`` model accepts, and what it costs."""

    air: str
    name: str
    sizes: tuple[tuple[int, int], ...]
    durations: tuple[float, ...]
    price_per_second: dict[tuple[int, int], float]
    continuity: frozenset[str] = frozenset({"cut", "extend", "last_frame"})
    first_frame: bool = True  # accepts inputs.frameImages (first frame only)
    prompt_chars: tuple[int, int] = (2, 6000)
    number_results: tuple[int, int] = (1, 4)
    quality: tuple[int, int] = (20, 99)
    formats: tuple[str, ...] = ("MP4", "WEBM", "MOV")
    ttl_min: int = 60
    fps: int = 30
    # documented defaults (fields we may send without changing the request's meaning)
    defaults: dict[str, object] = field(default_factory=dict)
    notes: str = ""
    source: str = ""

    def price(self, width: int, height: int) -> float:
        """USD per second of generated video at this size."""
        return self.price_per_second[(width, height)]

    def sizes_text(self) -> str:
        return ", ".join(f"{w}x{h}" for w, h in self.sizes)

    def durations_text(self) -> str:
        return ", ".join(f"{d:g}" for d in self.durations)


_VIDEO_DEFAULTS: dict[str, object] = {
    "outputFormat": "MP4",
    "outputQuality": 95,
    "numberResults": 1,
    "deliveryMethod": "async",
}
_SORA_DEFAULTS: dict[str, object] = {**_VIDEO_DEFAULTS, "outputType": "URL"}

SORA_2 = ModelProfile(
    air="openai:3@1",
    name="OpenAI Sora 2",
    sizes=((1280, 720), (720, 1280)),
    durations=(4, 8, 12, 16, 20),
    price_per_second={(1280, 720): 0.10, (720, 1280): 0.10},
    defaults=_SORA_DEFAULTS,
    notes="OpenAI retired Sora 2's own API in September 2026 and Runware's examples page "
    "gives 24 Sept 2026 for its deactivation: if the service refuses the model, set "
    "`model:` to another one (`storyboard models`).",
    source="runware.ai/docs/models/openai-sora-2 (shared/reference/runware-sora-2-model-page.md)",
)

SORA_2_PRO = ModelProfile(
    air="openai:3@2",
    name="OpenAI Sora 2 Pro",
    sizes=((1280, 720), (720, 1280), (1792, 1024), (1024, 1792)),
    durations=(4, 8, 12, 16, 20),
    price_per_second={(1280, 720): 0.30, (720, 1280): 0.30, (1792, 1024): 0.50, (1024, 1792): 0.50},
    defaults=_SORA_DEFAULTS,
    notes="Same request schema as Sora 2, larger sizes; deprecated with Sora 2.",
    source="runware.ai/docs/models/openai-sora-2-pro (not in the stored reference: re-check)",
)

VEO_3 = ModelProfile(
    air="google:3@0",
    name="Google Veo 3",
    sizes=((1280, 720), (720, 1280), (1920, 1080), (1080, 1920)),
    durations=(4, 6, 8),
    price_per_second={(1280, 720): 0.40, (720, 1280): 0.40, (1920, 1080): 0.40, (1080, 1920): 0.40},
    continuity=frozenset({"cut", "last_frame"}),
    number_results=(1, 4),
    formats=("MP4", "WEBM", "MOV"),
    fps=24,
    defaults=_VIDEO_DEFAULTS,
    notes="No videoId extension through videoInference; native audio.",
    source="runware.ai/docs/models/google-veo-3 (not in the stored reference: re-check)",
)

_SEEDANCE_SIZES = (
    (1920, 1088),
    (1088, 1920),
    (1440, 1440),
    (1248, 704),
    (704, 1248),
    (864, 480),
    (480, 864),
)

SEEDANCE_1_PRO = ModelProfile(
    air="bytedance:2@1",
    name="ByteDance Seedance 1.0 Pro",
    sizes=_SEEDANCE_SIZES,
    durations=(3, 4, 5, 6, 7, 8, 9, 10, 11, 12),
    price_per_second=dict.fromkeys(_SEEDANCE_SIZES, 0.05),
    continuity=frozenset({"cut", "last_frame"}),
    prompt_chars=(2, 2000),
    fps=24,
    defaults=_VIDEO_DEFAULTS,
    notes="Silent video (no native audio); first and last frame images.",
    source="runware.ai/docs/models/bytedance-seedance-1-0-pro "
    "(not in the stored reference: re-check)",
)

PROFILES: dict[str, ModelProfile] = {p.air: p for p in (SORA_2, SORA_2_PRO, VEO_3, SEEDANCE_1_PRO)}


def get_profile(air: str) -> ModelProfile | None:
    return PROFILES.get(air)
