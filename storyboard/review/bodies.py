"""What the review API accepts: request bodies read with a size cap and checked field by field.

Every bad body is one HTTP 400 (413 when too large) with the reason; nothing is started. A
body is read in pieces and the read stops at :data:`MAX_BODY` bytes, so a huge POST never sits
in memory whole.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from storyboard.errors import StoryboardError
from storyboard.files import parse_json

MAX_BODY = 64 * 1024  # the page's largest body is a few hundred bytes
MAX_RETAKES = 1000


class BadRequest(StoryboardError):
    """A request the API refuses; ``status`` is the HTTP answer (400, or 413: too large)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


async def read_json(request: Request, limit: int = MAX_BODY) -> dict[str, Any]:
    """The body as a JSON object, read at most ``limit`` bytes far."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise BadRequest(f"Content-Length {declared[:40]!r} is not a byte count")
        if int(declared) > limit:
            raise BadRequest(f"the request body may be at most {limit} bytes", 413)
    raw = bytearray()
    async for piece in request.stream():
        raw += piece
        if len(raw) > limit:
            raise BadRequest(f"the request body may be at most {limit} bytes", 413)
    try:
        data = parse_json(bytes(raw) or b"{}", "the request body")
    except StoryboardError as e:
        raise BadRequest(str(e)) from None
    if not isinstance(data, dict):
        raise BadRequest("the request body must be a JSON object")
    return data


@dataclass(frozen=True)
class RenderRequest:
    """``POST /api/render``: the scenes to take again and the spending cap."""

    retake: list[str]
    budget: float


def render_request(data: dict[str, Any], scenes: Collection[str]) -> RenderRequest:
    """``retake``: a list of known scene ids (or absent); ``budget``: a finite number of US
    dollars above 0 (required: a render from the page is always capped)."""
    unknown_keys = sorted(set(data) - {"retake", "budget"})
    if unknown_keys:
        raise BadRequest(f"render: unknown field {unknown_keys[0]!r} (retake, budget)")
    retake = retake_list(data.get("retake"), scenes)
    budget = data.get("budget")
    if budget is None:
        raise BadRequest(
            "render: 'budget' (US dollars, the most this render may spend) is required"
        )
    if isinstance(budget, bool) or not isinstance(budget, int | float):
        raise BadRequest("render: 'budget' must be a number of US dollars")
    if not math.isfinite(budget) or budget <= 0:
        raise BadRequest(f"render: 'budget' must be above $0 and finite, got {budget!r}")
    return RenderRequest(retake, float(budget))


def retake_list(value: Any, scenes: Collection[str]) -> list[str]:
    """``retake``: absent, or a list of the storyboard's scene ids (duplicates dropped)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise BadRequest("render: 'retake' must be a list of scene ids")
    if len(value) > MAX_RETAKES:
        raise BadRequest(f"render: at most {MAX_RETAKES} scenes in 'retake'")
    for s in value:
        known(s, scenes, "render")
    return list(dict.fromkeys(value))


TASK_NAMES = "a scene id, cast:NAME, board:SCENE, line:SCENE/N, sfx:SCENE/N, music or lipsync:SCENE"


def known(name: str, scenes: Collection[str], what: str) -> None:
    """Refuse a name that is not a scene id (``clip:ID`` is one too) or another task's name
    (``cast:NAME``, ``board:SCENE``, issue 17; the sounds, issue 18)."""
    if name in scenes and not name.startswith("clip:"):
        return
    clip = name[5:] if name.startswith("clip:") else None
    if clip is not None and ":" not in clip and clip in scenes:  # not clip:line:a/1 (hostile M2)
        return
    if name == "music":
        raise BadRequest(f"{what}: the storyboard generates no music (none, or edit.music.file)")
    if ":" in name:
        raise BadRequest(f"{what}: no task {name[:64]!r} in the storyboard ({TASK_NAMES})")
    raise BadRequest(f"{what}: no scene {name[:64]!r} in the storyboard")


def pick_request(data: dict[str, Any], scenes: Collection[str]) -> tuple[str, int]:
    """``POST /api/pick``: a scene id or another task's name (``cast:NAME``, ``board:SCENE``)
    and a take number (an integer, not a boolean)."""
    scene, take = data.get("scene"), data.get("take")
    if not isinstance(scene, str) or not scene:
        raise BadRequest(f"pick: 'scene' must be a scene id or a task name ({TASK_NAMES})")
    if isinstance(take, bool) or not isinstance(take, int) or not 1 <= take <= 10**9:
        raise BadRequest("pick: 'take' must be a take number (1, 2, ...)")
    known(scene, scenes, "pick")
    return scene, take
