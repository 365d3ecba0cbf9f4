"""The image nodes of the plan (issue 17): cast reference sheets and boards (keyframes).

* ``cast:NAME``   a member without ``images`` of its own: an ``imageInference`` task drawing a
                  reference sheet from its description.
* ``board:SCENE`` the scene's keyframe: an ``imageInference`` task at the scene's size, from the
                  scene's prompt, with its cast's pictures (given, or their sheets) as references.

A clip uses its board as its first frame with ``first_frame: board``, and when its scene has a
cast on a video model that takes no reference images (unless the scene already starts from a
frame or continues a clip: then :func:`cast_warnings` says the cast cannot be held there). On a
model that takes reference images the cast's pictures go in the clip's reference field.

Values the executor fills in at render time:

* ``${take:NODE}``  the file of NODE's chosen take (uploaded; a sheet or a board)
* ``${image:PATH}`` a project picture, uploaded as it is (a reference, not cropped to a size)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from storyboard.board.image_models import (
    ImageProfile,
    get_image_profile,
    image_catalogue,
    image_models_for,
)
from storyboard.board.models import PROFILES, ModelProfile
from storyboard.board.schema import CastMember, Scene, parse_size
from storyboard.board.spec import Project
from storyboard.errors import Problem

from .request import TAKE, effective_size

if TYPE_CHECKING:
    from .compile import Task

REF_FILE = "${image:%s}"
SHEET_SIZE = (1024, 1024)  # a square sheet where the model takes it (else its first listed size)
IMAGE_FORMAT = "PNG"


def sheet_prompt(member: CastMember) -> str:
    """What a reference sheet asks for: the member on its own, plainly lit, nothing else."""
    desc = (member.description or "").strip().rstrip(".")
    return (
        f"Reference sheet: {desc}. Shown alone, whole and clearly, front and three-quarter "
        "views side by side, plain light grey background, soft even light, no text."
    )


def takes_references(profile: ModelProfile) -> bool:
    """Whether a video model takes reference images: the catalogue names its field (issue 16's
    ``references`` overlay, the same data per-scene ``references`` use)."""
    return "images" in profile.references


def reference_models() -> list[ModelProfile]:
    """Live video models that take reference images."""
    return [p for p in PROFILES.values() if p.live and takes_references(p)]


def member_refs(project: Project, name: str) -> tuple[list[str], list[str], list[str]]:
    """(references as sent, nodes waited for, project files sent) of one cast member."""
    member = project.board.cast[name]
    if not member.images:
        return [TAKE % f"cast:{name}"], [f"cast:{name}"], []
    refs, files = [], []
    for image in member.images:
        if image.startswith("https://"):
            refs.append(image)
        else:
            refs.append(REF_FILE % image)
            files.append(image)
    return refs, [], files


def scene_refs(project: Project, scene: Scene) -> tuple[list[str], list[str], list[str]]:
    refs: list[str] = []
    waits: list[str] = []
    files: list[str] = []
    for name in scene.cast or []:
        if name not in project.board.cast:
            continue  # reported by the spec's checks
        r, w, f = member_refs(project, name)
        refs += r
        waits += w
        files += f
    return refs, waits, files


def _request(
    profile: ImageProfile, uid: str, prompt: str, size: tuple[int, int], refs: list[str], q: int
) -> dict[str, Any]:
    req: dict[str, Any] = {
        "taskType": "imageInference",
        "taskUUID": uid,
        "model": profile.air,
        "positivePrompt": prompt,
        "width": size[0],
        "height": size[1],
    }
    if refs:
        req["inputs"] = {profile.references.field: refs}
    req.update(
        {
            "outputType": "URL",
            "outputFormat": IMAGE_FORMAT,
            "outputQuality": q,
            "numberResults": 1,
            "includeCost": True,
            # async: the task is journaled and collected by getResponse like a clip; a service
            # answering in the acknowledgment (sync delivery) is handled the same way
            "deliveryMethod": "async",
        }
    )
    return req


def compile_images(
    project: Project, prompts: dict[int, str], new_uuid: Callable[[], str]
) -> tuple[list[Task], list[Problem]]:
    """Sheets for the cast members without pictures, then a board for every scene."""
    from .compile import Task

    board = project.board
    profile = get_image_profile(board.image_model)
    if profile is None:
        known = ", ".join(image_catalogue())
        return [], [
            project.problem(
                ("image_model",), f"unknown image model {board.image_model!r} (known: {known})"
            )
        ]
    problems: list[Problem] = []
    nodes: list[Task] = []
    quality = max(profile.quality[0], min(profile.quality[1], board.output.quality))
    sheet = SHEET_SIZE if profile.accepts_size(*SHEET_SIZE) else profile.listed[0]
    for name, member in board.cast.items():
        if member.images or member.description is None:  # a voice only: no picture to make
            continue
        prompt = sheet_prompt(member)
        req = _request(profile, new_uuid(), prompt, sheet, [], quality)
        cost = profile.price(*sheet)
        nodes.append(Task(f"cast:{name}", -1, "cut", None, req, cost, prompt, kind="image"))
    for i, scene in enumerate(board.scenes):
        if i not in prompts:
            continue  # its template failed: reported already
        size = parse_size(effective_size(project, i))
        refs, waits, files = scene_refs(project, scene)
        line = project.scene_line(i, "cast")
        if not profile.accepts_size(*size):
            can = ", ".join(f"{p.air} ({p.name})" for p in image_models_for(*size, len(refs)))
            problems.append(
                project.problem(
                    ("image_model",),
                    f"{profile.name} ({profile.air}) cannot draw the board of scene "
                    f"{scene.id!r} at {size[0]}x{size[1]} (it takes {profile.sizes_text()}); "
                    f"image models that can: {can or 'none'}",
                )
            )
            continue
        cap = profile.references.max
        if cap is not None and len(refs) > cap:
            can = ", ".join(f"{p.air} ({p.name})" for p in image_models_for(*size, len(refs)))
            problems.append(
                project.problem(
                    ("scenes", i, "cast"),
                    f"scene {scene.id!r}: its cast has {len(refs)} pictures; {profile.name} "
                    f"takes at most {cap} reference images (image models that take "
                    f"{len(refs)}: {can or 'none'})",
                    line,
                )
            )
            continue
        req = _request(profile, new_uuid(), prompts[i], size, refs, quality)
        cost = profile.price(*size, references=len(refs))
        nodes.append(
            Task(
                f"board:{scene.id}",
                i,
                "cut",
                None,
                req,
                cost,
                prompts[i],
                kind="image",
                waits=list(dict.fromkeys(waits)),
                files=files,
            )
        )
    return nodes, problems


def _holds_cast(profile: ModelProfile, scene: Scene) -> str | None:
    """Why the board cannot be this scene's first frame on a model without references."""
    cont = scene.continuity.mode if scene.continuity is not None else "cut"
    if scene.first_frame is not None:
        return "it has a first_frame"
    if cont in ("last_frame", "extend"):
        return f"it continues by {cont}"
    return None


def with_board_frame(project: Project, profile: ModelProfile, i: int, scene: Scene) -> Scene:
    """The scene as compiled: with a cast on a model without references, its board is its
    first frame (unless it already starts from a frame or continues a clip)."""
    if not scene.cast or takes_references(profile) or _holds_cast(profile, scene) is not None:
        return scene
    if not profile.frames.first:
        return scene
    return scene.model_copy(update={"first_frame": "board"})


def add_cast_inputs(project: Project, profile: ModelProfile, task: Task) -> list[Problem]:
    """On a model that takes reference images, the scene's cast pictures go in its field
    (after the scene's own ``references``), within the model's limit."""
    if task.index < 0 or not takes_references(profile):
        return []
    scene = project.board.scenes[task.index]
    refs, waits, files = scene_refs(project, scene)
    if not refs:
        return []
    spec = profile.references["images"]
    inputs = task.request.setdefault("inputs", {})
    have = inputs.get(spec.field) or []
    have = [have] if isinstance(have, str) else list(have)
    cap = 1 if spec.single else spec.max
    if cap is not None and len(have) + len(refs) > cap:
        return [
            project.problem(
                ("scenes", task.index, "cast"),
                f"scene {scene.id!r}: its cast and references make {len(have) + len(refs)} "
                f"reference images; {profile.name} takes at most {cap} in inputs.{spec.field}",
                project.scene_line(task.index, "cast"),
            )
        ]
    inputs[spec.field] = have + refs
    task.waits.extend(w for w in waits if w not in task.waits)
    task.files.extend(files)
    return []


def cast_warnings(project: Project, profiles: dict[str, ModelProfile]) -> list[str]:
    """Scenes whose cast cannot be held on their model: it takes no reference images and the
    scene already starts from a frame or continues a clip (``profiles``: scene id -> model)."""
    out = []
    can = ", ".join(f"{p.air} ({p.name})" for p in reference_models()) or "none"
    for scene in project.board.scenes:
        profile = profiles.get(scene.id)
        if profile is None or takes_references(profile) or not scene.cast:
            continue
        why = _holds_cast(profile, scene)
        if why is None or scene.first_frame == "board":
            continue
        out.append(
            f"{project.display()}: warning: scene {scene.id!r}: the cast cannot be held on "
            f"{profile.name} ({profile.air}): it takes no reference images and {why}, so the "
            f"board cannot be its first frame; video models that take the cast as reference "
            f"images: {can}"
        )
    return out
