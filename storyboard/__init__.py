"""storyboard: a declarative storyboard file in, a finished film out (Runware / Sora 2).

>>> import storyboard
>>> project = storyboard.load("projects/lighthouse")      # doctest: +SKIP
>>> project.plan().cost                                    # doctest: +SKIP

Everything public is listed in ``__all__``; errors derive from :class:`StoryboardError`.
"""

from __future__ import annotations

__version__ = "0.1.0"

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
from storyboard.errors import (
    BudgetError,
    ComposeError,
    GenerationError,
    PlanError,
    SpecError,
    StoryboardError,
    TemplateError,
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
