"""storyboard: a declarative storyboard file in, a finished film out (Runware / Sora 2).

>>> import storyboard
>>> project = storyboard.load("projects/lighthouse")      # doctest: +SKIP
>>> project.plan().cost                                    # doctest: +SKIP

Everything public is listed in ``__all__``; errors derive from :class:`StoryboardError`.
The API's names are imported on first use, so ``import storyboard`` alone stays cheap.
"""

from __future__ import annotations

__version__ = "0.1.0"

import typing as _typing

from storyboard.errors import (
    BudgetError,
    ComposeError,
    GenerationError,
    PlanError,
    SpecError,
    StoryboardError,
    TemplateError,
)

if _typing.TYPE_CHECKING:
    from storyboard.api import (
        ComposeResult,
        Event,
        FilmStatus,
        Frames,
        Log,
        ModelInfo,
        Note,
        PickResult,
        PlannedImage,
        PlannedScene,
        PlannedSound,
        PlanResult,
        ProgressCallback,
        Project,
        RenderResult,
        SceneResult,
        SceneStatus,
        SceneUpdate,
        Spent,
        Status,
        TakeInfo,
        Uncollected,
        Validation,
        WriterBusy,
        init,
        load,
        models,
        schema,
    )

__all__ = [
    "BudgetError",
    "ComposeError",
    "ComposeResult",
    "Event",
    "FilmStatus",
    "Frames",
    "GenerationError",
    "Log",
    "ModelInfo",
    "Note",
    "PickResult",
    "PlanError",
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
    "SpecError",
    "Spent",
    "Status",
    "StoryboardError",
    "TakeInfo",
    "TemplateError",
    "Uncollected",
    "Validation",
    "WriterBusy",
    "__version__",
    "init",
    "load",
    "models",
    "schema",
]


def __getattr__(name: str) -> _typing.Any:
    if name in __all__:
        from storyboard import api

        value = getattr(api, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'storyboard' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
