"""What the API returns before anything is spent: the check, the plan, and a batch's plans.

Plain, typed, immutable records like the rest of ``results`` (which re-exports them): JSON-ready
with :func:`dataclasses.asdict`, money in US dollars, durations in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Validation:
    """A storyboard that loads and compiles: its size and what generating all of it costs."""

    file: Path
    """The storyboard file."""
    scenes: int
    """Number of scenes."""
    seconds: float
    """Seconds of video a full render generates (every take of every scene)."""
    cost: float
    """US dollars a full render would cost."""
    warning: str | None = None
    """Set when the model is deprecated: what to switch to."""
    tasks: dict[str, int] = field(default_factory=dict)
    """How many tasks of each kind (``video``, ``image``, ``audio``) a full render sends."""


@dataclass(frozen=True)
class PlannedScene:
    """One scene of a plan: its task, and whether a render would generate it."""

    scene: str
    mode: str
    """Continuity: ``cut``, ``extend`` or ``last_frame``."""
    source: str | None
    """The scene it continues from (None for a cut)."""
    duration: float
    """Seconds per take."""
    takes: int
    """Takes asked for (``numberResults``)."""
    cost: float
    """US dollars to generate it."""
    generate: bool
    """True when a render would generate it; False when its take is up to date."""
    prompt: str = field(repr=False)
    """The prompt after template rendering."""
    request: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)
    """The exact ``videoInference`` task (placeholders for what is known only at render time)."""
    model: str = ""
    """The scene's model (AIR id): the storyboard's, or the scene's own ``model``."""
    price_known: bool = True
    """False when no source gives the model's price and the scene sets no ``price``."""
    later: bool = False
    """True when its take is not up to date but this render does not make it (a plan of
    ``render --boards``, which makes no clip); ``generate`` is then False."""
    fetch: bool = False
    """True when its take's file is missing or damaged and the render fetches it again from
    the service (paid once, never again); ``generate`` is then False."""


@dataclass(frozen=True)
class PlannedImage:
    """One image task of a plan (a cast sheet ``cast:NAME`` or a board ``board:SCENE``)."""

    node: str
    size: str
    cost: float
    """US dollars to generate it (an estimate unless the catalogue lists the size)."""
    generate: bool
    """True when this render would generate it."""
    waits_for: list[str]
    """The nodes whose takes it sends as references."""
    boards_only: bool = False
    """Not made yet and used by no clip: ``render --boards`` makes it, this render does not."""
    files: list[str] = field(default_factory=list)
    """The project pictures it sends as references (a cast member's own ``images``)."""
    prompt: str = field(repr=False, default="")
    request: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)


@dataclass(frozen=True)
class PlannedSound:
    """One sound task of a plan (issue 18): a spoken line ``line:SCENE/N``, the ``music``, an
    effect ``sfx:SCENE/N`` or a lip sync ``lipsync:SCENE``."""

    node: str
    what: str
    """voice, music, effect or lipsync."""
    model: str
    voice: str | None
    """The voice speaking a line (None for the others)."""
    text: str
    """What is said, or the prompt."""
    seconds: float
    """Planned length (a line's is estimated from its text; the take's real length is used)."""
    cost: float
    """US dollars to generate it; 0 when no source gives the model's price (``priced``)."""
    priced: bool
    generate: bool
    """True when this render would generate it."""
    waits_for: list[str] = field(default_factory=list)
    request: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)
    later: bool = False
    """A plan of ``render --boards``: made by a later plain render (it buys images only)."""


@dataclass(frozen=True)
class PlanResult:
    """What a render would generate, and what it would cost, before anything is spent."""

    model: str
    """The model's AIR id, e.g. ``openai:3@1``."""
    model_name: str
    size: str
    """Frame size the clips are generated at, e.g. ``1280x720``."""
    scenes: list[PlannedScene]
    note: str
    """How the model's price is estimated, when it is not exact; empty otherwise."""
    tasks_json: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)
    """The tasks a render would send, as JSON-ready data (what ``plan --json`` prints)."""
    warning: str | None = None
    """Set when the model is deprecated: what to switch to."""
    images: list[PlannedImage] = field(default_factory=list)
    """Cast sheets and boards (issue 17); ``generate`` marks those this render makes."""
    image_model: str = ""
    boards_price: float = 0.0
    """What every sheet and board costs (``render --boards``, the animatic), cached or not."""
    clips_price: float = 0.0
    """What every clip costs, cached or not."""
    sounds: list[PlannedSound] = field(default_factory=list)
    """Spoken lines, music, effects and lip sync (issue 18); ``generate`` as for images."""
    film_size: str = ""
    """The film's frame size (``output.size``, else ``size``): a variant's own, reframed."""

    @property
    def to_generate(self) -> list[PlannedScene]:
        """The scenes a render would generate."""
        return [s for s in self.scenes if s.generate]

    @property
    def task_names(self) -> list[str]:
        """Every task a render would send, by name: cast sheets and boards, then the clips and
        the sounds (``cast:wren``, ``board:a``, ``a``, ``line:a/1``)."""
        return [
            *(i.node for i in self.images if i.generate),
            *(s.scene for s in self.to_generate),
            *(s.node for s in self.sounds if s.generate),
        ]

    @property
    def seconds(self) -> float:
        """Seconds of video a render would generate."""
        return sum(s.duration * s.takes for s in self.to_generate)

    @property
    def cost(self) -> float:
        """US dollars a render would spend."""
        return (
            sum(s.cost for s in self.to_generate)
            + sum(i.cost for i in self.images if i.generate)
            + sum(s.cost for s in self.sounds if s.generate)
        )


# -- variants (issue 20) -----------------------------------------------------------------------


@dataclass(frozen=True)
class FilmPlan:
    """One film of a batch plan: its own plan, and the scenes it shares with earlier films."""

    variant: str
    """``main`` or the variant's name."""
    plan: PlanResult
    shared: dict[str, str] = field(default_factory=dict)
    """Scene -> the earlier film with the same task: generated once, for both films."""

    @property
    def cost(self) -> float:
        """US dollars this film adds: what it generates (clips, sheets, boards, sounds) that no
        earlier film does."""
        plan = self.plan
        costs = {s.scene: s.cost for s in plan.to_generate}
        costs |= {i.node: i.cost for i in plan.images if i.generate}
        costs |= {s.node: s.cost for s in plan.sounds if s.generate}
        return sum(c for name, c in costs.items() if name not in self.shared)


@dataclass(frozen=True)
class VariantsPlan:
    """What rendering several films of one storyboard would generate and cost."""

    films: list[FilmPlan]

    @property
    def cost(self) -> float:
        """US dollars for the whole batch (each shared scene counted once)."""
        return sum(f.cost for f in self.films)
