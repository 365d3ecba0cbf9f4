"""What works without a project: a new project, the file's JSON Schema, the models, the emulator."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from storyboard.errors import StoryboardError
from storyboard.generate.writer import WriterBusy as WriterBusy  # raised with wait=False

from .results import ModelInfo

if TYPE_CHECKING:
    from storyboard.emulator import Emulator


def init(folder: str | Path, title: str | None = None) -> Path:
    """Create a project folder with a commented starter storyboard; returns the file.

    Refuses (:class:`~storyboard.SpecError`) to overwrite an existing storyboard.
    """
    from storyboard.board.scaffold import init_project

    from .arguments import path_arg

    return init_project(Path(path_arg(folder)), title=title)


def schema() -> dict[str, Any]:
    """The JSON Schema of ``storyboard.yaml`` (for editors and validators)."""
    from storyboard.board.schema import json_schema

    return json_schema()


def models(
    can: Sequence[str] = (),
    max_price: float | None = None,
    sort: str | None = None,
) -> list[ModelInfo]:
    """The models the compiler knows (every ``videoInference`` model of the SDK's registry plus
    the withdrawn ones the overlay keeps), live first, with sizes, durations, prices, continuity.

    ``can``: only models that take each of ``extend``, ``last_frame`` (continuity modes),
    ``end_frame``, ``references``, ``audio`` (``first-frame`` and ``last-frame``, the names
    before, are ``last_frame`` and ``end_frame``: see :func:`filter_notes`); ``max_price``:
    only models whose cheapest known rate is at most this many USD per second (unknown prices
    are left out); ``sort="price"``: cheapest first, unknown prices last. Raises
    :class:`~storyboard.StoryboardError` for a bad filter.
    """
    from storyboard.board.modeltable import select

    if max_price is not None and not (max_price >= 0 and max_price < float("inf")):
        raise StoryboardError(f"--max-price: expected USD per second, 0 or more, got {max_price:g}")
    try:
        found = select(can, max_price, sort)
    except ValueError as e:
        raise StoryboardError(str(e)) from None
    return [
        ModelInfo(
            air=p.air,
            name=p.name,
            sizes=[f"{w}x{h}" for w, h in p.sizes],
            durations=[float(d) for d in p.duration_set or ()],
            price_per_second=(
                {f"{w}x{h}": p.price(w, h) for w, h in p.sizes} if p.price_known else {}
            ),
            continuity=sorted(p.continuity),
            note=p.status_note,
            status=p.status,
            deactivated=p.deactivated,
            exact_price=p.exact_price,
            price_text=p.price_text(),
            durations_text=p.durations_text(),
            catalogue=p.to_json(),
        )
        for p in found
    ]


@dataclass(frozen=True)
class CatalogueModel:
    """One image or audio model as its catalogue gives it (``storyboard models --kind``)."""

    air: str
    name: str
    kind: str
    """``image``, or the audio model's kind: ``speech``, ``music``, ``effect``, ``lipsync``."""
    status: str
    price_text: str
    detail: dict[str, str]
    """An image model's ``sizes`` and ``reference images``; an audio model's ``voices``."""
    catalogue: dict[str, Any]
    """The catalogue entry, every fact with its source."""


def model_catalogue(kind: str) -> list[CatalogueModel]:
    """The image models (``kind="image"``: cast sheets and boards) or the audio models
    (``"audio"``: voices, music, sound effects, lip sync), in their catalogue's order."""
    if kind == "image":
        from storyboard.board.image_models import image_catalogue

        out = []
        for p in image_catalogue().values():
            ref = p.references
            limit = ("limit not stated" if ref.max is None else str(ref.max)) + (
                "" if ref.verified else " (unverified)"
            )
            sizes = "any size" if p.any_size else _few([f"{w}x{h}" for w, h in p.listed])
            detail = {"sizes": sizes, "reference images": f"{ref.field}: {limit}"}
            exact = "" if p.exact_price(1024, 1024) else " (estimate)"
            price = f"${p.price(1024, 1024):.4g} an image at 1024x1024{exact}"
            out.append(CatalogueModel(p.air, p.name, "image", p.status, price, detail, p.to_json()))
        return out
    if kind == "audio":
        from storyboard.board.audio_models import audio_catalogue

        return [
            CatalogueModel(
                p.air,
                p.name,
                p.kind,
                p.status,
                p.price_text(),
                {"voices": _few(p.known_voices())},
                p.to_json(),
            )
            for p in audio_catalogue().values()
        ]
    raise StoryboardError(f"--kind: expected video, image or audio, got {kind!r}")


def _few(names: Sequence[str]) -> str:
    shown = ", ".join(names[:4]) or "-"
    return shown + (f" (+{len(names) - 4})" if len(names) > 4 else "")


def check_port(port: int) -> None:
    """Refuse (:class:`~storyboard.StoryboardError`) a port number no socket can bind."""
    if not 0 <= port <= 65535:
        raise StoryboardError(f"--port: a port is 0 to 65535, got {port}")


def start_emulator(
    *,
    port: int = 0,
    latency: float = 2.0,
    api_key: str | None = None,
    draft: bool = False,
    extend_returns: Literal["new", "whole"] = "new",
    credits: float | None = None,
    faults: Sequence[str] = (),
) -> Emulator:
    """Start the local Runware API emulator on 127.0.0.1 (``port`` 0: any free port).

    ``faults`` are specs such as ``429:times=3,retry_after=1`` or ``truncate``. Returns the
    running emulator (``.base_url``; ``.stop()`` when done). Raises
    :class:`~storyboard.StoryboardError` for a bad fault spec or a port already in use.
    """
    from storyboard.emulator import Emulator, EmulatorConfig, Fault

    check_port(port)
    if not (latency >= 0 and latency < float("inf")):
        raise StoryboardError(f"--latency: expected seconds of 0 or more, got {latency:g}")
    try:
        parsed = [Fault.parse(f) for f in faults]
    except (ValueError, TypeError) as e:
        raise StoryboardError(f"--fault: {e}") from None
    config = EmulatorConfig(
        latency=latency,
        api_key=api_key,
        draft=draft,
        extend_returns=extend_returns,
        credits=credits,
        faults=parsed,
    )
    emu = Emulator(config, port=port)
    try:
        emu.start()
    except OSError as e:
        raise StoryboardError(f"cannot listen on 127.0.0.1:{port}: {e.strerror}") from None
    return emu


def filter_notes(can: Sequence[str]) -> list[str]:
    """A note for each old ``can`` name (``first-frame``, ``last-frame``) naming the new one."""
    from storyboard.board.modeltable import renamed_notes

    return renamed_notes(can)
