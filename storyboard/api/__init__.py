"""The public API. ``storyboard`` re-exports the names most scripts need; the CLI uses this."""

from __future__ import annotations

from .events import Event, Frames, Log, Note, ProgressCallback, SceneUpdate, Spent
from .project import Project, load
from .results import (
    ComposeResult,
    FilmStatus,
    ModelInfo,
    PickResult,
    PlannedImage,
    PlannedScene,
    PlanResult,
    RenderResult,
    SceneResult,
    SceneStatus,
    Status,
    TakeInfo,
    Uncollected,
    Validation,
)
from .tools import WriterBusy, init, models, schema, start_emulator

__all__ = [
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
    "models",
    "schema",
    "start_emulator",
]
