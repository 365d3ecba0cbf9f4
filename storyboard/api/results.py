"""What the API returns: plain, typed, immutable records (never printed text).

Every result can be turned into JSON-ready data with :func:`dataclasses.asdict`; paths are
absolute :class:`~pathlib.Path` objects, money is in US dollars, durations in seconds. The
records of a check and a plan (before anything is spent) are in ``plan_results``, imported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from storyboard.errors import GenerationError
from storyboard.money import usd

# re-exported: the plan's records are imported from here too
from .plan_results import FilmPlan as FilmPlan
from .plan_results import PlannedImage as PlannedImage
from .plan_results import PlannedScene as PlannedScene
from .plan_results import PlannedSound as PlannedSound
from .plan_results import PlanResult as PlanResult
from .plan_results import Validation as Validation
from .plan_results import VariantsPlan as VariantsPlan

if TYPE_CHECKING:
    from storyboard.cut.compose import ComposeResult as CutResult

SceneOutcomeStatus = Literal["cached", "generated", "re-downloaded", "failed", "skipped"]


def money_words(spent: float, would_cost: float = 0.0) -> str:
    """How money reads everywhere (``render``, ``status``, ``takes``, the review page, the
    API): dollars paid as ``$X.XX``; placeholder (emulator) takes, which cost nothing, as
    ``$0 (would cost $X.XX)``; both, when a project has both."""
    if would_cost <= 0:
        return usd(spent)
    if spent <= 0:
        return placeholder_words(would_cost)
    return f"{usd(spent)} (and placeholders that would cost {usd(would_cost)})"


def placeholder_words(would_cost: float) -> str:
    """What placeholder (emulator) work cost: ``$0 (would cost $X.XX)``."""
    return f"$0 (would cost {usd(would_cost)})"


@dataclass(frozen=True)
class TakeInfo:
    """One generated clip of a scene (every take is kept)."""

    scene: str
    n: int
    """Take number, from 1."""
    file: str
    """The clip, relative to the project folder."""
    path: Path
    """The clip's absolute path."""
    duration: float | None
    cost: float | None
    created: datetime
    """When it was downloaded (UTC)."""
    chosen: bool
    """True when this take makes the cut (``storyboard.lock``)."""
    missing: bool
    """True when its file is gone or incomplete (``render`` fetches it again)."""
    nsfw: bool
    """True when the provider flagged it."""
    video_uuid: str
    video_id: str | None
    url: str | None
    sha256: str
    model: str = "-"
    """The model that made it (AIR id)."""
    size: str = "-"
    """The size it was asked for (``-`` for an extension, which has the source's size)."""
    prompt: str = ""
    """A short digest of the prompt it was made from, and the prompt's start."""
    current: bool = True
    """True when it was made from the scene as the storyboard has it now (else: stale)."""
    film: str | None = None
    """Not current here but current in another film of the storyboard (a variant that
    rewrites the scene): that film's name (``main`` for the storyboard's own)."""
    placeholder: bool = False
    """True for an emulator (or ``--draft``) take: it cost nothing; ``cost`` is what the real
    service would have charged."""

    @property
    def money(self) -> str:
        """Its cost in words: ``$0.40``, or ``$0 (would cost $0.40)`` for a placeholder; a
        take that cost nothing anywhere (a line's copy under its new number) ``$0.00``, not
        ``$0 (would cost $0.00)`` (hostile helper-58)."""
        cost = self.cost or 0.0
        return placeholder_words(cost) if self.placeholder and cost > 0 else money_words(cost)


@dataclass(frozen=True)
class SceneResult:
    """What a render did with one scene."""

    scene: str
    status: SceneOutcomeStatus
    takes: list[TakeInfo]
    """The takes it produced or reused (first: the one in the cut)."""
    cost: float
    """US dollars spent on it in this render."""
    seconds: float
    """Wall time spent generating it."""
    error: str | None
    """Why it failed or was skipped."""

    @property
    def take(self) -> int | None:
        """The number of the take in the cut after this render, if any."""
        return self.takes[0].n if self.takes else None


@dataclass(frozen=True)
class RenderResult:
    """The outcome of a render: per scene, money spent, where the lock is."""

    scenes: list[SceneResult]
    """Every scene the render considered, in film order."""
    spent: float
    """US dollars spent by this render (for placeholders: what it would have cost)."""
    seconds: float
    """Wall time of the render."""
    lock: Path
    """``storyboard.lock``: which take of each scene makes the cut."""
    maker: str
    """What made the takes: ``runware`` (the real, paid service), ``emulator`` or ``draft``
    (placeholders; ``spent`` is then what the real service would have charged)."""

    @property
    def money(self) -> str:
        """What this render spent, in words (``$0 (would cost $X)`` for placeholders)."""
        if self.maker == "runware":
            return money_words(self.spent)
        return placeholder_words(self.spent)

    @property
    def failed(self) -> list[SceneResult]:
        """Scenes that failed, or were skipped because their source failed."""
        return [s for s in self.scenes if s.status in ("failed", "skipped")]

    @property
    def ok(self) -> bool:
        """True when every scene has a take in the cut."""
        return not self.failed

    def raise_for_failures(self) -> None:
        """Raise :class:`GenerationError` naming every failed scene (like httpx's
        ``raise_for_status``); return quietly when all scenes rendered."""
        if self.failed:
            lines = "; ".join(f"{s.scene}: {s.error}" for s in self.failed)
            raise GenerationError(f"{len(self.failed)} scene(s) did not render: {lines}")


@dataclass(frozen=True)
class SceneStatus:
    """Whether a scene is up to date, and why not."""

    scene: str
    mode: str
    source: str | None
    stale: bool
    """True when the next render generates it."""
    action: str
    """``generate``, ``up to date``, ``re-download`` or ``reuse take N``."""
    reasons: list[str]
    """Why it is stale, e.g. ``prompt changed``, ``source 'a' will be re-generated``."""
    take: int | None
    """The take in the cut now (``storyboard.lock``), if any."""
    next_cost: float
    """US dollars the next render spends on it: 0 when not stale, except for a task of it
    whose sending was never confirmed (a ``--retake`` cut off), which the next render sends
    again: its price, as an upper bound."""
    price_known: bool = True
    """False when no source gives its model's price and the storyboard sets no ``price:``
    (``next_cost`` then leaves it out)."""


@dataclass(frozen=True)
class Uncollected:
    """A task sent in an earlier render whose clips are not downloaded yet: paid, not lost."""

    scene: str
    task_uuid: str
    state: str
    """``submitted`` (accepted by the service) or ``done`` (finished, not downloaded). A task
    whose sending was never confirmed (``pending``) is not here: nothing says it was paid; its
    scene's status says the next render sends it again (same taskUUID: paid at most once)."""
    cost: float
    """US dollars: the service's figure once known, else the planned cost."""


@dataclass(frozen=True)
class FilmStatus:
    """Whether the film on disk is the one the storyboard and the takes make now."""

    path: Path
    up_to_date: bool
    reasons: list[str]
    """Why not, e.g. ``take of 'deck' changed``, ``music changed``, ``film missing``."""


@dataclass(frozen=True)
class Status:
    """Every scene's state, and the money: what the next render costs, what was spent."""

    scenes: list[SceneStatus]
    spent: float
    """US dollars spent on this project so far (every task in the journal made by the real
    service; placeholders are in ``would_cost``)."""
    uncollected: list[Uncollected] = field(default_factory=list)
    """Paid tasks the next render collects (never submitted again)."""
    film: FilmStatus | None = None
    """The film: up to date or stale, and why."""
    would_cost: float = 0.0
    """What the placeholder (emulator) tasks would have cost on the real service: not spent."""

    @property
    def money(self) -> str:
        """What this project has spent, in words (``$0 (would cost $X)`` for placeholders)."""
        return money_words(self.spent, self.would_cost)

    @property
    def stale(self) -> list[SceneStatus]:
        """The scenes the next render generates."""
        return [s for s in self.scenes if s.stale]

    @property
    def next_cost(self) -> float:
        """US dollars the next render spends."""
        return sum(s.next_cost for s in self.scenes)


@dataclass(frozen=True)
class PickResult:
    """A take put in the cut."""

    scene: str
    take: int
    downstream: list[str]
    """Scenes continuing from it: the next render re-generates them (or reuses their takes
    made from this one)."""
    stale: list[str] = field(default_factory=list)
    """Of those, the ones the next render generates (what ``status`` says)."""
    warnings: list[str] = field(default_factory=list)
    """E.g. the take was made from another version of the scene."""
    kept: list[str] = field(default_factory=list)
    """Of those, the ones whose takes made from this one are in the cut with it (the pick put
    them in ``storyboard.lock``). The rest keep the takes they had."""


@dataclass(frozen=True)
class ComposeResult:
    """The film and what was written beside it."""

    film: Path
    captions: Path | None
    """The ``.srt`` sidecar, when the film has dialogue captions."""
    contact_sheet: Path | None
    """A PNG of every scene's first and last frame."""
    up_to_date: bool = False
    """True when the film was already the one the lock makes: nothing was encoded."""
    route: str = ""
    """``copy``, ``audio-only`` or ``full`` (see README: The final cut), or ``up to date``."""
    why: str = ""
    """Why that route was taken."""
    encoded: int = 0
    """Chunks of picture and sound encoded (the rest came from the chunk cache)."""
    reused: int = 0
    """Chunks found in the chunk cache."""
    seconds: float = 0.0
    """Wall time of the compose."""
    frames: int = 0
    """Frames in the film."""
    frames_encoded: int = 0
    """Frames of picture this compose encoded; the rest were copied from the takes as whole
    GOPs or came from the chunk cache."""
    warnings: list[str] = field(default_factory=list)
    """What the compose warned about, as the command line prints it: e.g. a line that runs
    past the end of its scene (``storyboard.yaml:LINE: warning: ...``), music that is not
    generated yet."""

    @classmethod
    def of(cls, done: CutResult) -> ComposeResult:
        """The public result of a compose from the cut's own (film, animatic or remote)."""
        return cls(
            done.path,
            done.captions,
            done.contact_sheet,
            up_to_date=done.up_to_date,
            route=done.route,
            why=done.why,
            encoded=done.encoded,
            reused=done.reused,
            seconds=done.seconds,
            frames=done.frames,
            frames_encoded=done.frames_encoded,
            warnings=list(getattr(done, "warnings", [])),
        )


@dataclass(frozen=True)
class ModelInfo:
    """A generation model the compiler knows, with its rules."""

    air: str
    name: str
    sizes: list[str]
    durations: list[float]
    price_per_second: dict[str, float]
    """US dollars per second of video, by size (an estimate unless ``exact_price``)."""
    continuity: list[str]
    """``cut`` plus what the model supports: ``extend``, ``last_frame``, ``end_frame``."""
    note: str
    """Its status note (e.g. a deactivation date)."""
    status: str = "live"
    """``live`` or ``deprecated``."""
    deactivated: str | None = None
    """The deactivation date (ISO), when one was announced."""
    exact_price: bool = True
    price_text: str = ""
    durations_text: str = ""
    catalogue: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """The model's catalogue entry: every fact with its source (``models --json``)."""
