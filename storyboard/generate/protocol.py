"""Runware's wire format: envelopes, result items, and errors mapped onto our exception tree.

Pure functions over plain JSON, so every message the client sends or parses can be tested alone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from storyboard.errors import (
    AuthError,
    CreditsError,
    GenerationError,
    InvalidRequest,
    ProviderError,
    SafetyError,
    TaskNotFound,
    TransientError,
)

DEFAULT_BASE_URL = "https://api.runware.ai/v1"
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
CONFLICT = "conflictTaskUUID"


def new_uuid() -> str:
    return str(uuid.uuid4())


def get_response_task(task_uuid: str) -> dict[str, str]:
    """The poll task: exactly these two fields."""
    return {"taskType": "getResponse", "taskUUID": task_uuid}


def media_storage_task(media: str, task_uuid: str | None = None) -> dict[str, str]:
    """Store any media (a data URI, URL or base64) in the account; the result carries
    ``mediaUUID`` and ``mediaURL`` (reference/runware-beyond-video.md 4.3; the SDK's
    ``MediaStorageParams``: taskType, taskUUID, operation, media)."""
    return {
        "taskType": "mediaStorage",
        "taskUUID": task_uuid or new_uuid(),
        "operation": "upload",
        "media": media,
    }


def image_upload_task(image: str, task_uuid: str | None = None) -> dict[str, str]:
    """Upload an image given as a data URI, URL or base64; the result carries ``imageUUID``."""
    return {"taskType": "imageUpload", "taskUUID": task_uuid or new_uuid(), "image": image}


@dataclass
class Envelope:
    """One HTTP response: its ``data`` items and ``errors`` (a body may hold both)."""

    status: int
    data: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def items_for(self, task_uuid: str) -> list[dict[str, Any]]:
        return [d for d in self.data if d.get("taskUUID") == task_uuid]

    def errors_for(self, task_uuid: str) -> list[dict[str, Any]]:
        """Errors naming this task, plus errors naming no task at all (they apply to every task)."""
        return [e for e in self.errors if e.get("taskUUID") in (task_uuid, None)]


def parse_envelope(status: int, body: Any) -> Envelope:
    """Accept ``{"data": [...]}``, ``{"errors": [...]}``, both, a singular ``error``, or a list."""
    env = Envelope(status)
    if isinstance(body, list):
        env.data = [x for x in body if isinstance(x, dict)]
        return env
    if not isinstance(body, dict):
        return env
    data = body.get("data")
    if isinstance(data, dict):  # seen in docs for imageUpload
        data = [data]
    if isinstance(data, list):
        env.data = [x for x in data if isinstance(x, dict)]
    errs = body.get("errors")
    if isinstance(errs, dict):
        errs = [errs]
    if isinstance(errs, list):
        env.errors = [x for x in errs if isinstance(x, dict)]
    single = body.get("error")
    if isinstance(single, dict):
        env.errors.append(single)
    elif isinstance(single, str):
        env.errors.append({"code": "error", "message": single})
    # per-item failures reported inside `data`
    for item in env.data:
        if item.get("status") == "error":
            raw_error = item.get("error")
            nested: dict[str, Any] = raw_error if isinstance(raw_error, dict) else {}
            env.errors.append(
                {
                    "code": nested.get("code") or item.get("code") or "taskFailed",
                    "message": nested.get("message") or item.get("message") or "the task failed",
                    "taskUUID": item.get("taskUUID"),
                    "taskType": item.get("taskType"),
                }
            )
    return env


# what a finished result names its output by: ``videoUUID``/``videoURL``, ``imageUUID``/...
MEDIA = ("video", "image", "audio")


def media_of(item: dict[str, Any]) -> str:
    """Which kind of output a result item carries (``video`` when it names none)."""
    return next((m for m in MEDIA if item.get(f"{m}UUID") or item.get(f"{m}URL")), "video")


@dataclass(frozen=True)
class VideoResult:
    """One finished generation of an inference task (video, image or audio: ``media``).

    ``video_uuid``/``video_url`` hold the output's UUID and URL whatever its kind (the names
    predate image and audio tasks); ``media`` says which fields they came from.
    """

    task_uuid: str
    video_uuid: str
    video_url: str
    video_id: str | None
    cost: float | None
    seed: int | None
    nsfw: bool
    media: str = "video"

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> VideoResult:
        outputs = item.get("outputs") if isinstance(item.get("outputs"), dict) else {}
        cost = item.get("cost")
        m = media_of(item)
        return cls(
            task_uuid=str(item.get("taskUUID")),
            video_uuid=str(item.get(f"{m}UUID") or item.get(f"{m}URL")),
            video_url=str(item.get(f"{m}URL") or ""),
            video_id=outputs.get("videoId") if outputs else None,
            cost=float(cost) if isinstance(cost, int | float) else None,
            seed=item.get("seed") if isinstance(item.get("seed"), int) else None,
            nsfw=bool(item.get("NSFWContent")),
            media=m,
        )

    def to_json(self) -> dict[str, Any]:
        m = self.media
        return {
            "taskUUID": self.task_uuid,
            f"{m}UUID": self.video_uuid,
            f"{m}URL": self.video_url,
            "videoId": self.video_id,
            "cost": self.cost,
            "seed": self.seed,
            "NSFWContent": self.nsfw,
        }


Result = VideoResult  # the kind-neutral name


def is_finished(item: dict[str, Any]) -> bool:
    return item.get("status") in ("success", "completed") or any(item.get(f"{m}URL") for m in MEDIA)


_SAFETY = ("contentpolicy", "nsfw", "promptblocked", "safety", "moderation", "blocked")
_CREDITS = ("credit", "balance", "quota", "paymentrequired", "insufficientfunds")
_AUTH = ("apikey", "unauthorized", "forbidden", "permission")
_NOT_FOUND = ("notfound", "expired", "taskcancelled", "unknowntask")
_PROVIDER = (
    "timeoutprovider",
    "inferenceerror",
    "taskfailed",
    "modelunavailable",
    "noavailableserver",
    "provider",
    "timeout",
)
_RATE = ("ratelimit", "toomanyrequests", "serverbusy", "capacity")


def error_from(
    err: dict[str, Any], status: int | None, *, scene: str | None = None, secret: str | None = None
) -> GenerationError:
    """Map one server error object (and the HTTP status) onto our exception tree."""
    code = str(err.get("code") or "")
    message = redact(str(err.get("message") or code or "the server refused the request"), secret)
    kw: dict[str, Any] = dict(
        code=code or None,
        parameter=err.get("parameter"),
        status=status,
        task_uuid=err.get("taskUUID"),
        scene=scene,
    )
    low = code.lower()
    cls: type[GenerationError]
    if status in (401, 403) or any(k in low for k in _AUTH):
        cls = AuthError
        message = message if "key" in message.lower() else message + " (check RUNWARE_API_KEY)"
    elif status == 402 or any(k in low for k in _CREDITS):
        cls = CreditsError
    elif any(k in low for k in _SAFETY):
        cls = SafetyError
    elif any(k in low for k in _RATE) or (status is not None and status in TRANSIENT_STATUSES):
        cls = TransientError
    elif status == 404 or any(k in low for k in _NOT_FOUND):
        cls = TaskNotFound
    elif any(k in low for k in _PROVIDER):
        cls = ProviderError
    elif status == 400 or low.startswith(
        ("invalid", "missing", "unsupported", "unknown", "incompatible")
    ):
        cls = InvalidRequest
    else:
        cls = ProviderError
    return cls(message, **kw)


def redact(text: str, secret: str | None) -> str:
    """Remove the API key from anything we might show."""
    if secret and len(secret) >= 4:
        text = text.replace(secret, "***")
    return text
