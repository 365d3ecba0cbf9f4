"""One scene -> one ``videoInference`` request body, shaped by the chosen model's profile.

Every rule comes from the catalogue (``board/catalogue/models.json``): sizes, durations, prompt
length, ``numberResults``, which fields go with frame images (``width``/``height``,
``resolution`` or nothing), how a prior clip is extended, and the price of the result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from storyboard.board.modelrules import violations
from storyboard.board.models import ModelProfile, accepted_params
from storyboard.board.schema import Scene, parse_size
from storyboard.board.spec import Project

from .scenefields import FIELD_OF, add_scene_fields

VIDEO_ID = "${videoId:%s}"
VIDEO = "${video:%s}"
LAST_FRAME = "${lastFrame:%s}"
LOCAL_FILE = "${file:%s}"
TAKE = "${take:%s}"  # the chosen take of another node (a board, a cast sheet): issue 17

Bad = Callable[[str, str], None]


def image_ref(value: str, scene_id: str | None = None) -> str:
    """An https URL as is; a project file as a placeholder the executor uploads;
    ``board`` (a first frame) as the scene's own board."""
    if value == "board" and scene_id is not None:
        return TAKE % f"board:{scene_id}"
    return value if value.startswith("https://") else LOCAL_FILE % value


def effective_size(project: Project, i: int) -> str:
    """The size a scene's clip has: its own, or for an extension its source's (recursively)."""
    scenes = project.board.scenes
    seen: set[int] = set()
    while i not in seen:
        seen.add(i)
        scene = scenes[i]
        cont = scene.continuity
        if cont is None or cont.mode != "extend":
            return scene.size or project.board.size
        src = cont.from_ if cont.from_ is not None else (scenes[i - 1].id if i > 0 else None)
        j = next((k for k, s in enumerate(scenes) if s.id == src), None)
        if j is None:
            break
        i = j
    return project.board.size


def build_request(
    project: Project,
    profile: ModelProfile,
    i: int,
    scene: Scene,
    prompt: str,
    task_uuid: str,
    mode: str,
    source: str | None,
    bad: Bad,
) -> tuple[dict[str, Any], float | None] | None:
    """The request and its planned cost (None: no price known); None when a rule was broken."""
    board = project.board
    ok = True
    reported: set[str] = set()

    def fail(field: str, message: str) -> None:
        nonlocal ok
        ok = False
        reported.add(field)
        bad(field, message)

    def fail_new(field: str, message: str) -> None:
        """The wire rules again: a field already reported is not reported twice (hostile
        helper-53: an end_frame refused by the model was refused again as a first_frame)."""
        if field not in reported:
            fail(field, message)

    extending = mode == "extend" and source is not None and profile.extend is not None
    size = effective_size(project, i) if extending else (scene.size or board.size)
    width, height = parse_size(size)
    if profile.tiers and (width, height) not in profile.sizes:
        ok = False
        if not extending:
            field = "size" if scene.size is not None else ""
            fail(field, f"{profile.name} accepts sizes {profile.sizes_text()}, got {size}")
    duration = _duration(profile, scene, extending, fail)
    if profile.prompt_chars is not None:
        lo, hi = profile.prompt_chars
        if not lo <= len(prompt) <= hi:
            fail(
                "template" if scene.template is not None else "prompt",
                f"the rendered prompt has {len(prompt)} character"
                f"{'' if len(prompt) == 1 else 's'}; {profile.name} needs {lo} to {hi}",
            )
    n = scene.number_results if scene.number_results is not None else 1
    rlo, rhi = profile.number_results or (1, n if n >= 1 else 1)
    if not rlo <= n <= rhi:
        fail("number_results", f"number_results must be {rlo} to {rhi}, got {n}")
    _check_frames(profile, scene, mode, extending, fail)

    request: dict[str, Any] = {
        "taskType": "videoInference",
        "taskUUID": task_uuid,
        "model": profile.air,
    }
    if "positivePrompt" in profile.params:
        request["positivePrompt"] = prompt
    inputs: dict[str, Any] = {}
    frames: list[dict[str, Any]] = []
    if extending and profile.extend is not None and source is not None:
        key = profile.extend.input
        inputs[key] = (VIDEO_ID if key == "videoId" else VIDEO) % source
    else:
        if mode == "last_frame" and source is not None:
            frames.append({"image": LAST_FRAME % source, "frame": "first"})
        elif scene.first_frame is not None:
            frames.append({"image": image_ref(scene.first_frame, scene.id), "frame": "first"})
        if scene.end_frame is not None:
            frames.append({"image": image_ref(scene.end_frame), "frame": "last"})
        request.update(size_fields(profile, width, height, bool(frames)))
    if duration is not None and profile.duration_kind != "none":
        request["duration"] = int(duration) if float(duration).is_integer() else duration
    if frames:
        inputs["frameImages"] = frames
    add_scene_fields(profile, scene, request, inputs, fail)
    if inputs:
        request["inputs"] = inputs
    if extending and profile.extend is not None and profile.extend.settings:
        merged = dict(profile.extend.settings)
        merged.update(request.get("settings") or {})
        request["settings"] = merged
    request.update(
        {
            "outputType": "URL",
            "outputFormat": "MP4",
            "outputQuality": board.output.quality,
            "numberResults": n,
            "includeCost": True,
            "deliveryMethod": "async",
        }
    )
    check_request(request, profile, fail_new)
    for r in sorted(profile.required - set(request)) if ok else ():
        what = "inputs: give the scene a first_frame, continuity: last_frame or references"
        fail(
            FIELD_OF.get(r, "settings"),
            f"{profile.name} ({profile.air}) requires "
            f"{what if r == 'inputs' else r} (runware-sdk registry)",
        )
    if not ok or duration is None:
        return None
    if not profile.price_known or (profile.tiers and (width, height) not in profile.sizes):
        return request, (round(float(duration) * scene.price * n, 4) if scene.price else None)
    if not profile.tiers:  # a price but no sizes: its dearest rate, never less
        rate = max(
            profile.rate(t, extend=extending) for t in (profile.price_rule or {})["per_second"]
        )
    else:
        rate = profile.price(width, height, extend=extending)
    return request, round(float(duration) * rate * n, 4)


def size_fields(profile: ModelProfile, width: int, height: int, framed: bool) -> dict[str, Any]:
    """``width``/``height`` or ``resolution`` for a clip of this size, as the model takes it."""
    how = profile.frames.size if framed else "width_height"
    if "width" in profile.required or (how == "width_height" and "width" in profile.params):
        return {"width": width, "height": height}
    if how == "resolution" or "width" not in profile.params:
        if profile.tiers and (width, height) in profile.sizes:
            return {"resolution": profile.tier(width, height)}
        named = f"{min(width, height)}p"
        if not framed and "resolution" in profile.params and named in profile.resolutions:
            return {"resolution": named}
    return {}


def _duration(profile: ModelProfile, scene: Scene, extending: bool, fail: Bad) -> float | None:
    duration = scene.duration
    if profile.duration_kind == "none":
        if duration is None:
            fail(
                "duration",
                f"{profile.name} takes no duration, but the plan needs the clip's "
                "length: set duration to the seconds you expect",
            )
        return duration
    fixed = profile.extend.duration if extending and profile.extend else None
    if duration is None:
        fail(
            "duration",
            f"no duration: set one of {profile.durations_words()} (on the scene or in defaults)",
        )
    elif fixed is not None and duration != fixed:
        fail(
            "duration",
            f"{profile.name} extends a clip by exactly {fixed} seconds: set duration: {fixed} "
            f"(got {duration:g})",
        )
    elif fixed is None and not profile.accepts_duration(duration):
        fail(
            "duration",
            f"{profile.name} accepts durations of {profile.durations_words()}, got {duration:g}",
        )
    return duration


def _check_frames(
    profile: ModelProfile, scene: Scene, mode: str, extending: bool, fail: Bad
) -> None:
    from .compile import unsupported

    if mode == "extend":
        if scene.first_frame is not None:
            fail(
                "first_frame",
                "an 'extend' scene continues the source's video: it cannot "
                "also have a first_frame (remove first_frame or use continuity: last_frame)",
            )
        if scene.size is not None:
            fail("size", "an 'extend' scene keeps its source's size: remove size")
        if scene.end_frame is not None and extending:
            fail(
                "end_frame",
                "an 'extend' scene continues a video; frame images cannot be sent with it "
                "(remove end_frame or use continuity: last_frame)",
            )
    if mode == "last_frame" and scene.first_frame is not None:
        fail(
            "first_frame",
            "a 'last_frame' scene already starts from its source's last frame: "
            "remove first_frame or use continuity: cut",
        )
    if scene.first_frame is not None and not profile.frames.first:
        fail("first_frame", f"{profile.name} does not accept first-frame images")
    if scene.end_frame is not None:
        if not profile.frames.last:
            fail("end_frame", unsupported(profile, "end_frame"))
        elif scene.first_frame is None and mode not in ("last_frame", "extend"):
            fail(
                "end_frame",
                "an end_frame needs a first frame too: add first_frame, or use "
                "continuity: last_frame",
            )
    has_first = scene.first_frame is not None or mode == "last_frame"
    if profile.frames.required and not has_first and not extending:
        fail(
            "first_frame",
            f"{profile.name} makes video from an image only: give the scene a first_frame "
            "or continuity: last_frame",
        )


def check_request(request: dict[str, Any], profile: ModelProfile, bad: Bad) -> None:
    """Last line of defence: the exact wire rules, whatever produced the request."""
    inputs = request.get("inputs", {})
    has_w, has_h = "width" in request, "height" in request
    if has_w != has_h:
        bad("size", "width and height must be sent together")
    if "resolution" in request and has_w:
        bad("size", "resolution and width/height cannot be sent together")
    video = "videoId" in inputs or "video" in inputs
    if video and (has_w or "frameImages" in inputs):
        bad("continuity", "with a video to extend neither width/height nor frameImages may be sent")
    for k in sorted(set(request) - accepted_params(profile)):
        bad(FIELD_OF.get(k, "settings"), f"{profile.name} does not accept the field {k}")
    for k in sorted(set(inputs) - (profile.inputs if profile.inputs is not None else set(inputs))):
        bad(FIELD_OF.get(f"inputs.{k}", "continuity"), f"{profile.name} does not accept inputs.{k}")
    for v in violations(request, profile):
        bad(FIELD_OF.get(v.path, "settings"), f"{v.message} [{v.rule}]")
    frames = inputs.get("frameImages", [])
    if len(frames) > profile.frames.max:
        last = any(isinstance(f, dict) and f.get("frame") in ("last", -1) for f in frames)
        field = "end_frame" if last else "first_frame"  # the frame one too many (helper-54)
        bad(field, f"{profile.name} takes at most {profile.frames.max} frame image(s)")
    for f in frames:
        where = f.get("frame") if isinstance(f, dict) else None
        if where not in ("first", 0, None) and not (profile.frames.last and where in ("last", -1)):
            field = "end_frame" if where in ("last", -1) else "first_frame"
            bad(field, f"{profile.name} supports only the first frame")
    if request.get("outputFormat") not in profile.formats:
        bad("output", f"outputFormat must be one of {', '.join(profile.formats)}")
    ttl = request.get("ttl")
    if ttl is not None and ttl < profile.ttl_min:
        bad("ttl", f"ttl must be at least {profile.ttl_min}")
