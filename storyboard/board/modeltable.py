"""Views of the catalogue: ``storyboard models`` filters and sorts, and README's Models table."""

from __future__ import annotations

from collections.abc import Iterable

from .models import PROFILES, ModelProfile

# `--can WHAT`: what a model must be able to do
CAN = ("extend", "first-frame", "last-frame", "references", "audio")


def can(p: ModelProfile, what: str) -> bool:
    """Whether a source says the model can do ``what`` (one of :data:`CAN`)."""
    if what == "extend":
        return p.extend is not None
    if what == "first-frame":
        return p.frames.known and p.frames.first
    if what == "last-frame":
        return p.frames.known and p.frames.last
    if what == "references":
        return bool(p.references)
    if what == "audio":
        return "audio" in p.references or bool(p.audio and not p.audio.startswith("none"))
    raise ValueError(f"--can: expected one of {', '.join(CAN)}, got {what!r}")


def select(
    abilities: Iterable[str] = (),
    max_price: float | None = None,
    sort: str | None = None,
    live_only: bool = False,
) -> list[ModelProfile]:
    """The profiles that can do every one of ``abilities`` and cost at most ``max_price``/s.

    A model whose price no source gives is left out by ``max_price`` (it may cost anything);
    ``sort="price"`` puts the cheapest first and the unknown prices last.
    """
    wanted = list(abilities)
    for w in wanted:
        if w not in CAN:
            raise ValueError(f"--can: expected one of {', '.join(CAN)}, got {w!r}")
    found = [
        p
        for p in PROFILES.values()
        if all(can(p, w) for w in wanted)
        and (not live_only or p.live)
        and (max_price is None or (p.min_price() is not None and p.min_price() <= max_price))  # type: ignore[operator]
    ]
    if sort == "price":
        found.sort(key=lambda p: (p.min_price() is None, p.min_price() or 0.0, not p.live))
    elif sort not in (None, "", "status"):
        raise ValueError(f"--sort: expected price or status, got {sort!r}")
    return found


def fact_source(p: ModelProfile, fact: str) -> str:
    """Where one fact of a model comes from: the overlay's source, the registry, or nobody."""
    if p.sources.get(fact):
        return p.sources[fact]
    if p.in_registry and fact in ("params", "durations"):
        return "runware-sdk registry"
    return "not stated"


def readme_table() -> str:
    """The README's models table (Markdown), generated from the catalogue; a test keeps it so."""
    lines = [
        "| model | name | status | price (USD) | durations (s) | extend | first frame | "
        "last frame | references | facts |",
        "|---|---|---|---|---|---|---|---|---|---|",
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
        if not p.frames.known:
            first = last = "n/s"
        else:
            first = "required" if p.frames.required else "yes" if p.frames.first else "-"
            last = "yes" if p.frames.last else "-"
        refs = ", ".join(f"{k} (`{r.field}`)" for k, r in p.references.items()) or "-"
        facts = "SDK + pages" if p.overlay and p.in_registry else "pages" if p.overlay else "SDK"
        lines.append(
            f"| `{p.air}` | {p.name} | {status} | {p.price_text()} | {p.durations_text()} | "
            f"{ext} | {first} | {last} | {refs} | {facts} |"
        )
    return "\n".join(lines)
