"""The public API. ``storyboard`` re-exports the names most scripts need; the CLI uses this.

Names are imported when first used (PEP 562), so a command that needs none of them (``--version``,
``--help``) does not pay for pydantic models, jinja2, httpx, moviepy or numpy.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from .events import Event, Frames, Log, Note, ProgressCallback, SceneUpdate, Spent
    from .project import Project, load
    from .results import (
        ComposeResult,
        FilmStatus,
        ModelInfo,
        PickResult,
        PlannedImage,
        PlannedScene,
        PlannedSound,
        PlanResult,
        RenderResult,
        SceneResult,
        SceneStatus,
        Status,
        TakeInfo,
        Uncollected,
        Validation,
    )
    from .tools import (
        CatalogueModel,
        WriterBusy,
        init,
        model_catalogue,
        models,
        schema,
        start_emulator,
    )

__all__ = [
    "CatalogueModel",
    "ComposeResult",
    "Event",
    "FilmStatus",
    "Frames",
    "Log",
    "ModelInfo",
    "Note",
    "PickResult",
    "PlanResult",
    "PlannedImage",
    "PlannedSound",
    "PlannedScene",
    "ProgressCallback",
    "Project",
    "RenderResult",
    "SceneResult",
    "SceneStatus",
    "SceneUpdate",
    "Spent",
    "Status",
    "Uncollected",
    "TakeInfo",
    "Validation",
    "WriterBusy",
    "init",
    "load",
    "model_catalogue",
    "models",
    "schema",
    "start_emulator",
]

# where each public name lives (imported on first use)
_HOME = {
    **dict.fromkeys(
        ["Event", "Frames", "Log", "Note", "ProgressCallback", "SceneUpdate"], ".events"
    ),
    "Spent": ".events",
    "Project": ".project",
    "load": ".project",
    **dict.fromkeys(
        [
            "ComposeResult",
            "FilmStatus",
            "ModelInfo",
            "PickResult",
            "PlannedImage",
            "PlannedSound",
            "PlannedScene",
            "PlanResult",
            "RenderResult",
            "SceneResult",
            "SceneStatus",
            "Status",
            "TakeInfo",
            "Uncollected",
            "Validation",
        ],
        ".results",
    ),
    **dict.fromkeys(
        [
            "CatalogueModel",
            "WriterBusy",
            "init",
            "model_catalogue",
            "models",
            "schema",
            "start_emulator",
        ],
        ".tools",
    ),
}


def __getattr__(name: str) -> _typing.Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
