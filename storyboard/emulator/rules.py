"""The emulator's request rules: each model's validation, from the same catalogue the compiler uses.

The fields a model accepts, its sizes and resolutions, durations, prompt length, frame images
and how it extends a clip all come from ``storyboard/board/catalogue/models.json``; the prices
it charges are the catalogue's, so the emulator's "would cost" equals the plan.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from storyboard.board.modelrules import violations
from storyboard.board.models import PROFILES, ModelProfile

from .sdktypes import type_problem

# a video the emulator made: videoUUID or outputs.videoId -> the size it was asked for
VideoSize = Callable[[str], "tuple[int, int] | None"]


class ApiError(Exception):
    """An error the emulated API answers with (``errors[0]`` of the body)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        parameter: str | None = None,
        task_type: str | None = None,
    ):
        super().__init__(message)
        self.status, self.code, self.message, self.parameter = status, code, message, parameter
        self.task_type = task_type


def _bad(code: str, message: str, parameter: str) -> ApiError:
    return ApiError(400, code, message, parameter)


def validate_video(t: dict[str, Any], video_size: VideoSize) -> float | None:
    """Apply the model's rules to a ``videoInference`` task; returns its cost in USD.

    What the SDK's registry types is checked for every model (fields, required fields, their
    types and enums); the overlay's facts (sizes, frames, extension, limits, "must not" rules)
    only where a source gives them. An unknown price is None (``plan`` says "unknown"): the
    results carry no cost.
    """
    model = t.get("model")
    profile = PROFILES.get(str(model))
    if profile is None:
        raise _bad("invalidModel", f"unknown model {model!r}", "model")
    typed = type_problem(t, profile)
    if typed is not None:
        raise _bad(*typed)
    _check_prompt(t, profile)
    inputs = t.get("inputs") or {}
    if not isinstance(inputs, dict):
        raise _bad("invalidInputs", "inputs must be an object", "inputs")
    for v in violations(t, profile):  # the overlay's "must not" rules, with their ids
        raise _bad("incompatibleParameters", f"{v.message} [{v.rule}]", v.path)
    for k in inputs:
        if profile.inputs is not None and k not in profile.inputs:
            raise _bad("unknownParameter", f"unknown parameter inputs.{k}", f"inputs.{k}")
    has_w, has_h = "width" in t, "height" in t
    if profile.overlay and has_w != has_h:
        raise _bad(
            "invalidDimensions",
            "width and height must be used together",
            "width" if has_w else "height",
        )
    if profile.overlay and "resolution" in t and has_w:
        raise _bad(
            "incompatibleParameters",
            "resolution and width/height cannot be used together",
            "resolution",
        )
    frames = inputs.get("frameImages")
    source = _check_video(t, inputs, profile, video_size, has_w or bool(frames))
    known = profile.frames.known
    referenced = any(k.startswith("reference") for k in inputs)
    if known and source is None and not (has_w or frames or referenced or "resolution" in t):
        raise _bad(
            "missingDimensions",
            "either provide inputs.frameImages, or specify width/height",
            "width",
        )
    if known and source is None and profile.frames.required and not frames:
        raise _bad(
            "missingFrameImages",
            f"{profile.name} generates from an image: inputs.frameImages is required",
            "inputs.frameImages",
        )
    if has_w and profile.tiers and (t["width"], t["height"]) not in profile.sizes:
        raise _bad(
            "invalidDimensions",
            f"unsupported dimensions {t['width']}x{t['height']}; supported: {profile.sizes_text()}",
            "width",
        )
    allowed = profile.resolutions or tuple(profile.tiers)
    if "resolution" in t and allowed and t["resolution"] not in allowed:
        raise _bad(
            "invalidResolution", f"resolution must be one of {', '.join(allowed)}", "resolution"
        )
    if frames is not None and known:
        _check_frames(frames, profile)
    duration = _check_duration(t, profile, source)
    n = _check_common(t, profile)
    if not profile.price_known:
        return None
    if duration is None or isinstance(duration, str):
        return 0.0
    dearest = max(profile.price_rule["per_second"], key=lambda x: profile.rate(x))  # type: ignore[index]
    if source is not None:
        tier = profile.tier(*source) if source in profile.sizes else dearest
    elif has_w and (t["width"], t["height"]) in profile.sizes:
        tier = profile.tier(t["width"], t["height"])
    elif "resolution" in t and t["resolution"] in profile.tiers:
        tier = str(t["resolution"])
    else:  # frame images alone: the one resolution the model has, else its dearest
        tier = dearest
    price = profile.rate(tier, extend=source is not None)
    return round(float(duration) * price * n, 6)


def _check_duration(
    t: dict[str, Any], profile: ModelProfile, source: tuple[int, int] | None
) -> float | str | None:
    duration = t.get("duration")
    if duration is None:
        return None  # required ones were checked with the SDK's types
    if isinstance(duration, str):
        if not profile.duration_str:  # the SDK types this model's duration int: no string
            raise _bad("invalidDuration", "duration must be a number of seconds", "duration")
        try:  # typed `int | str` by the SDK: a number as text is that number, checked and priced
            duration = float(duration)
        except ValueError:
            return t["duration"]  # e.g. "auto": as sent
    if isinstance(duration, bool) or not isinstance(duration, int | float):
        raise _bad("invalidDuration", "duration must be a number of seconds", "duration")
    fixed = profile.extend.duration if source is not None and profile.extend else None
    if fixed is not None and duration != fixed:
        raise _bad("invalidDuration", f"with inputs.video, duration must be {fixed}", "duration")
    if fixed is None and not profile.accepts_duration(duration):
        raise _bad(
            "invalidDuration", f"duration must be {profile.durations_text()} seconds", "duration"
        )
    return float(duration)


def _check_prompt(t: dict[str, Any], profile: ModelProfile) -> None:
    if "positivePrompt" not in t:
        return  # required ones were checked with the SDK's types
    prompt = t.get("positivePrompt")
    lo, hi = profile.prompt_chars or (1, 10**6)
    if not isinstance(prompt, str) or not lo <= len(prompt) <= hi:
        raise _bad(
            "invalidPositivePrompt",
            f"positivePrompt must be a string of {lo} to {hi} characters",
            "positivePrompt",
        )


def _check_video(
    t: dict[str, Any],
    inputs: dict[str, Any],
    profile: ModelProfile,
    video_size: VideoSize,
    sized: bool,
) -> tuple[int, int] | None:
    """The size of the clip being extended (``inputs.videoId`` / ``inputs.video``), if any."""
    key = "videoId" if "videoId" in inputs else "video" if "video" in inputs else None
    if "settings" in t and not isinstance(t["settings"], dict):
        raise _bad("invalidSettings", "settings must be an object", "settings")
    operation = (t.get("settings") or {}).get("operation")
    if profile.overlay and operation is not None and "video" not in inputs:
        raise _bad("missingVideo", "settings.operation requires inputs.video", "settings.operation")
    if key is None:
        return None
    if profile.extend is None and profile.inputs is None:
        return None  # an input no source describes (an edit, a reference): taken as is
    if sized:
        raise _bad(
            "incompatibleParameters",
            f"when inputs.{key} is provided, width/height and inputs.frameImages cannot be used",
            f"inputs.{key}",
        )
    if profile.extend is None or profile.extend.input != key:
        raise _bad(
            "unsupportedParameter", f"{profile.name} does not accept inputs.{key}", f"inputs.{key}"
        )
    for k, v in profile.extend.settings.items():
        if (t.get("settings") or {}).get(k) != v:
            raise _bad("invalidSettings", f"settings.{k} must be {v!r}", f"settings.{k}")
    size = video_size(str(inputs[key]))
    if size is None:
        code = "invalidVideoId" if key == "videoId" else "invalidVideo"
        raise _bad(code, f"unknown {key} {inputs[key]!r}", f"inputs.{key}")
    return size


def _check_frames(frames: Any, profile: ModelProfile) -> None:
    if not isinstance(frames, list) or not 1 <= len(frames) <= profile.frames.max:
        raise _bad(
            "invalidFrameImages",
            f"give 1 to {profile.frames.max} frame image(s)"
            + ("; this model only supports the first frame" if not profile.frames.last else ""),
            "inputs.frameImages",
        )
    where = [f.get("frame", "first") if isinstance(f, dict) else "first" for f in frames]
    allowed = ("first", 0, "last", -1) if profile.frames.last else ("first", 0)
    if any(w not in allowed for w in where):
        raise _bad(
            "invalidFrameImages",
            "this model only supports the first frame"
            if not profile.frames.last
            else "frame must be first, last, 0 or -1",
            "inputs.frameImages.frame",
        )
    if all(w in ("last", -1) for w in where):
        raise _bad(
            "invalidFrameImages",
            "at least one frame image must not be the last frame",
            "inputs.frameImages.frame",
        )


def _check_common(t: dict[str, Any], profile: ModelProfile) -> int:
    n = t.get("numberResults", 1)
    lo, hi = profile.number_results or (1, n if isinstance(n, int) and n >= 1 else 1)
    if isinstance(n, bool) or not isinstance(n, int) or not lo <= n <= hi:
        raise _bad("invalidNumberResults", f"numberResults must be {lo} to {hi}", "numberResults")
    q = t.get("outputQuality", 95)
    if not isinstance(q, int) or not profile.quality[0] <= q <= profile.quality[1]:
        raise _bad("invalidOutputQuality", "outputQuality must be 20 to 99", "outputQuality")
    if t.get("outputFormat", "MP4") not in profile.formats:
        raise _bad("invalidOutputFormat", "outputFormat must be MP4, WEBM or MOV", "outputFormat")
    if t.get("outputType", "URL") != "URL":
        raise _bad("invalidOutputType", "outputType must be URL", "outputType")
    if "ttl" in t and (not isinstance(t["ttl"], int) or t["ttl"] < profile.ttl_min):
        raise _bad("invalidTtl", f"ttl must be at least {profile.ttl_min}", "ttl")
    if t.get("deliveryMethod", "async") != "async":
        raise _bad(
            "invalidDeliveryMethod", "video tasks need deliveryMethod async", "deliveryMethod"
        )
    return n


def require_uuid(uid: str) -> None:
    try:
        uuid.UUID(uid)
    except ValueError:
        raise ApiError(400, "invalidTaskUUID", "taskUUID must be a UUID v4", "taskUUID") from None
