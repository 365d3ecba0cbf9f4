"""Issue 16's per-scene request fields: ``seed``, ``negative_prompt``, ``settings``, ``references``.

Each goes where the scene's model takes it, as the catalogue says: ``seed`` and
``negativePrompt`` only for models whose SDK fields list them; ``settings`` keys must each be a
field the SDK types for the model (and not one the storyboard fills itself); ``references`` go in
the model's own ``inputs`` field (``referenceImages``, ``referenceVideos``, ``audio`` ...) within
the limit its page gives. Local files become ``${file:PATH}`` placeholders, uploaded at render.

Also where a scene continues from (``source_of``) and the warning when it extends a source
trimmed at its end (``trim_warnings``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from storyboard.board.models import MANAGED, ModelProfile
from storyboard.board.schema import Scene
from storyboard.board.spec import Project

Bad = Callable[[str, str], None]
LOCAL_FILE = "${file:%s}"

# request path -> the scene field a problem with it is reported on
FIELD_OF = {
    "seed": "seed",
    "negativePrompt": "negative_prompt",
    "width": "size",
    "height": "size",
    "resolution": "size",
    "duration": "duration",
    "positivePrompt": "prompt",
    "numberResults": "number_results",
    "inputs": "first_frame",
    "inputs.frameImages": "first_frame",
    "inputs.referenceImages": "references",
    "inputs.referenceVideos": "references",
    "inputs.referenceAudios": "references",
    "inputs.audio": "references",
    "inputs.elements": "references",
    "inputs.video": "continuity",
    "inputs.videoId": "continuity",
}
KINDS = ("images", "videos", "audio")
STORYBOARD_FIELD = {
    "positivePrompt": "prompt/template",
    "negativePrompt": "negative_prompt",
    "seed": "seed",
    "width": "size",
    "height": "size",
    "resolution": "size",
    "duration": "duration",
    "inputs": "first_frame/end_frame/references/continuity",
    "numberResults": "number_results",
    "outputFormat": "output.format",
    "outputQuality": "output.quality",
    "model": "model",
}


def media_ref(value: str) -> str:
    """An https URL as is; a project file as a placeholder the executor uploads."""
    return value if value.startswith("https://") else LOCAL_FILE % value


def add_scene_fields(
    profile: ModelProfile,
    scene: Scene,
    request: dict[str, Any],
    inputs: dict[str, Any],
    fail: Bad,
) -> None:
    """Add the scene's seed, negative prompt, settings and references to the request."""
    if scene.seed is not None:
        if "seed" in profile.params:
            request["seed"] = scene.seed
        else:
            fail("seed", f"{profile.name} ({profile.air}) takes no seed (runware-sdk registry)")
    if scene.negative_prompt is not None:
        if "negativePrompt" in profile.params:
            request["negativePrompt"] = scene.negative_prompt
        else:
            fail(
                "negative_prompt",
                f"{profile.name} ({profile.air}) takes no negativePrompt (runware-sdk registry)",
            )
    for key, value in scene.settings.items():
        if key in MANAGED:
            field = STORYBOARD_FIELD.get(key)
            fail(
                "settings",
                f"settings.{key}: the storyboard sets {key} itself; "
                + (f"use the scene field {field!r}" if field else "it cannot be set"),
            )
        elif key not in profile.params:
            fields = sorted(profile.params - MANAGED)
            fail(
                "settings",
                f"settings.{key}: {profile.name} ({profile.air}) has no field {key!r}; the "
                f"SDK types these for it: {', '.join(fields) or 'none'}",
            )
        elif key in ("settings", "providerSettings") and not isinstance(value, dict):
            fail("settings", f"settings.{key} must be a mapping")
        else:
            request[key] = value
    if scene.references is not None:
        _references(profile, scene, inputs, fail)


def _references(profile: ModelProfile, scene: Scene, inputs: dict[str, Any], fail: Bad) -> None:
    refs = scene.references
    assert refs is not None
    for kind in KINDS:
        items: list[str] = getattr(refs, kind)
        if not items:
            continue
        spec = profile.references.get(kind)
        if spec is None:
            able = [p.air for p in takers(kind)]
            fail(
                "references",
                f"references.{kind}: no source says which input of {profile.name} "
                f"({profile.air}) takes reference {kind}; models whose pages do: "
                f"{', '.join(able) or 'none'}",
            )
            continue
        limit = 1 if spec.single else spec.max
        if limit is not None and len(items) > limit:
            fail(
                "references",
                f"references.{kind}: {profile.name} takes at most {limit} in "
                f"inputs.{spec.field}, got {len(items)}",
            )
            continue
        values = [media_ref(v) for v in items]
        inputs[spec.field] = values[0] if spec.single else values


def takers(kind: str) -> list[ModelProfile]:
    """Live models whose overlay names a field for reference ``kind``."""
    from storyboard.board.models import PROFILES

    return [p for p in PROFILES.values() if p.live and kind in p.references]


def source_of(project: Project, index: int) -> str | None:
    """The scene a scene continues from (explicit ``from`` or the previous scene)."""
    scene = project.board.scenes[index]
    cont = scene.continuity
    if cont is None or cont.mode == "cut":
        return None
    if cont.from_ is not None:
        return cont.from_
    return project.board.scenes[index - 1].id if index > 0 else None


def trim_warnings(project: Project) -> list[str]:
    """Scenes that extend a source trimmed at its end: the extension continues the source's
    whole clip, so the cut would jump over what ``trim.out`` leaves out."""
    scenes = project.board.scenes
    by_id = {s.id: s for s in scenes}
    out = []
    for i, scene in enumerate(scenes):
        if scene.continuity is None or scene.continuity.mode != "extend":
            continue
        src = by_id.get(source_of(project, i) or "")
        if src is None or src.trim is None or src.trim.out is None:
            continue
        out.append(
            f"{project.display()}:{project.scene_line(i, 'continuity')}: warning: scene "
            f"{scene.id!r} extends {src.id!r}, whose trim.out ({src.trim.out:g} s) drops the end "
            f"that the extension continues from: the cut jumps there; trim {src.id!r} at its "
            "start only, or use `continuity: last_frame` (it starts from the last frame the cut "
            "shows)"
        )
    return out


def price_warnings(project: Project, profiles: dict[str, ModelProfile]) -> list[str]:
    """Scenes that set ``price:`` on a model whose price a source gives: the catalogue's is
    used, and the storyboard's was ignored without a word (hostile helper-47; the voices,
    music and effects already said so). A size the model's price tiers lack is an error of its
    own (``request.build_request``), so a priced model is priced at every size it compiles at."""
    out = []
    for i, scene in enumerate(project.board.scenes):
        p = profiles.get(scene.id)
        if scene.price is None or p is None or not p.price_known:
            continue
        out.append(
            f"{project.display()}:{project.scene_line(i, 'price')}: warning: scene "
            f"{scene.id!r}: {p.name} ({p.air}) has a published price; this `price:` is not used"
        )
    return out
