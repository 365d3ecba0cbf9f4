"""The public API. ``storyboard`` re-exports the names most scripts need; the CLI uses this."""

from __future__ import annotations

from .events import Event, Log, Note, ProgressCallback, SceneUpdate, Spent
from .project import Project, load
from .results import (
    ComposeResult,
    FilmState,
    ModelInfo,
    PickResult,
    PlannedScene,
    PlanResult,
    RenderResult,
    SceneResult,
    SceneStatus,
    Status,
    TakeInfo,
    Validation,
)
from .tools import init, models, schema, start_emulator

__all__ = [
    "ComposeResult",
    "FilmState",
    "Event",
    "Log",
    "ModelInfo",
    "Note",
    "PickResult",
    "PlanResult",
    "PlannedScene",
    "ProgressCallback",
    "Project",
    "RenderResult",
    "SceneResult",
    "SceneStatus",
    "SceneUpdate",
    "Spent",
    "Status",
    "TakeInfo",
    "Validation",
    "init",
    "load",
    "models",
    "schema",
    "start_emulator",
]
