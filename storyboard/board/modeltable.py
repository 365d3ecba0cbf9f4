"""Views of the catalogue: ``storyboard models`` filters and sorts, and README's Models table."""

from __future__ import annotations

from collections.abc import Iterable

from .models import PROFILES, ModelProfile

# `--can WHAT`: what a scene may use on the model: the continuity modes `extend` and `last_frame`
# (a first-frame image; also `first_frame:`), `end_frame`, `references`, `audio` (hostile F12:
# `--can last-frame` meant an end frame, while `continuity: last_frame` needs a first frame)
CAN = ("extend", "last_frame", "end_frame", "references", "audio")
RENAMED = {"first-frame": "last_frame", "last-frame": "end_frame"}  # the names before, still taken


def renamed_notes(wanted: Iterable[str]) -> list[str]:
    """One note per old filter name in ``wanted``, naming the new one."""
    return [
        f"note: --can {w} is now --can {RENAMED[w]} ("
        + ("continuity: last_frame, first_frame" if RENAMED[w] == "last_frame" else "end_frame")
        + " on a scene)"
        for w in dict.fromkeys(wanted)
        if w in RENAMED
    ]


def can(p: ModelProfile, what: str) -> bool:
    """Whether the model takes what ``what`` (one of :data:`CAN`) asks for."""
    what = RENAMED.get(what, what)
    if what in ("extend", "last_frame", "end_frame"):
        return what in p.continuity  # exactly what the continuity column lists
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
        if w not in CAN and w not in RENAMED:
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
