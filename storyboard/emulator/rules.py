"""The emulator's request rules: the model page's validation, as the real service applies it."""

from __future__ import annotations

import uuid
from collections.abc import Container
from typing import Any

from storyboard.board.models import PROFILES

SORA_PARAMS = frozenset(
    {
        "taskType",
        "taskUUID",
        "model",
        "positivePrompt",
        "width",
        "height",
        "duration",
        "inputs",
        "webhookURL",
        "includeCost",
        "numberResults",
        "uploadEndpoint",
        "ttl",
        "outputType",
        "outputFormat",
        "outputQuality",
        "deliveryMethod",
        "safety",
    }
)
INPUT_PARAMS = frozenset({"frameImages", "videoId"})


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, parameter: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.parameter = status, code, message, parameter


def validate_video(t: dict[str, Any], video_ids: Container[str]) -> float:
    """Apply the model page's rules to a ``videoInference`` task; returns its cost."""
    model = t.get("model")
    profile = PROFILES.get(str(model))
    if profile is None:
        raise ApiError(400, "invalidModel", f"unknown model {model!r}", "model")
    for k in t:
        if k not in SORA_PARAMS:
            raise ApiError(400, "unknownParameter", f"unknown parameter {k!r}", k)
    prompt = t.get("positivePrompt")
    lo, hi = profile.prompt_chars
    if not isinstance(prompt, str) or not lo <= len(prompt) <= hi:
        raise ApiError(
            400,
            "invalidPositivePrompt",
            f"positivePrompt must be a string of {lo} to {hi} characters",
            "positivePrompt",
        )
    inputs = t.get("inputs") or {}
    if not isinstance(inputs, dict):
        raise ApiError(400, "invalidInputs", "inputs must be an object", "inputs")
    for k in inputs:
        if k not in INPUT_PARAMS:
            raise ApiError(400, "unknownParameter", f"unknown parameter inputs.{k}", f"inputs.{k}")
    has_w, has_h = "width" in t, "height" in t
    frames = inputs.get("frameImages")
    video_id = inputs.get("videoId")
    if has_w != has_h:
        raise ApiError(
            400,
            "invalidDimensions",
            "width and height must be used together",
            "width" if has_w else "height",
        )
    if video_id is not None:
        if has_w or frames:
            raise ApiError(
                400,
                "incompatibleParameters",
                "when inputs.videoId is provided, "
                "width/height and inputs.frameImages cannot be used",
                "inputs.videoId",
            )
        if "extend" not in profile.continuity:
            raise ApiError(
                400,
                "unsupportedParameter",
                f"{profile.name} does not accept inputs.videoId",
                "inputs.videoId",
            )
        if video_id not in video_ids:
            raise ApiError(400, "invalidVideoId", f"unknown videoId {video_id!r}", "inputs.videoId")
    elif not has_w and not frames:
        raise ApiError(
            400,
            "missingDimensions",
            "either provide inputs.frameImages, or specify width/height",
            "width",
        )
    if has_w and (t["width"], t["height"]) not in profile.sizes:
        raise ApiError(
            400,
            "invalidDimensions",
            f"unsupported dimensions {t['width']}x{t['height']}; supported: {profile.sizes_text()}",
            "width",
        )
    if frames is not None:
        if not isinstance(frames, list) or len(frames) != 1:
            raise ApiError(
                400,
                "invalidFrameImages",
                "this model only supports the first frame: give exactly one frame image",
                "inputs.frameImages",
            )
        f = frames[0]
        if isinstance(f, dict) and f.get("frame", "first") not in ("first", 0):
            raise ApiError(
                400,
                "invalidFrameImages",
                "this model only supports the first frame",
                "inputs.frameImages.frame",
            )
    duration = t.get("duration", profile.durations[0])
    if duration not in profile.durations:
        raise ApiError(
            400,
            "invalidDuration",
            f"duration must be one of {profile.durations_text()}",
            "duration",
        )
    n = t.get("numberResults", 1)
    if not isinstance(n, int) or not profile.number_results[0] <= n <= profile.number_results[1]:
        raise ApiError(400, "invalidNumberResults", "numberResults must be 1 to 4", "numberResults")
    q = t.get("outputQuality", 95)
    if not isinstance(q, int) or not profile.quality[0] <= q <= profile.quality[1]:
        raise ApiError(
            400, "invalidOutputQuality", "outputQuality must be 20 to 99", "outputQuality"
        )
    if t.get("outputFormat", "MP4") not in profile.formats:
        raise ApiError(
            400, "invalidOutputFormat", "outputFormat must be MP4, WEBM or MOV", "outputFormat"
        )
    if t.get("outputType", "URL") != "URL":
        raise ApiError(400, "invalidOutputType", "outputType must be URL", "outputType")
    if "ttl" in t and (not isinstance(t["ttl"], int) or t["ttl"] < profile.ttl_min):
        raise ApiError(400, "invalidTtl", f"ttl must be at least {profile.ttl_min}", "ttl")
    if t.get("deliveryMethod", "async") != "async":
        raise ApiError(
            400,
            "invalidDeliveryMethod",
            "video tasks need deliveryMethod async",
            "deliveryMethod",
        )
    if has_w:
        price = profile.price(t["width"], t["height"])
    else:
        price = max(profile.price_per_second.values())
    return round(float(duration) * price * n, 6)


def require_uuid(uid: str) -> None:
    try:
        uuid.UUID(uid)
    except ValueError:
        raise ApiError(400, "invalidTaskUUID", "taskUUID must be a UUID v4", "taskUUID") from None
