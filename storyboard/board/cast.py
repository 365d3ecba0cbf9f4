"""The cast (issue 17): checks of the top-level ``cast:`` and of the scenes naming its members.

A member is a recurring person, place or prop: a ``description`` (prompts read it as
``{{ cast.NAME }}``) and optional ``images`` of your own. A member without images gets a
reference sheet generated from its description (the node ``cast:NAME``).
"""

from __future__ import annotations

from storyboard.errors import Problem
from storyboard.files import https_url_problem, resolve_inside
from storyboard.media.frames import ImageRefused, image_decodes, image_size

from .assets import IMAGE_SUFFIXES, MAX_IMAGE_BYTES
from .messages import did_you_mean
from .schema import TEMPLATE_MARKS
from .spec import IMAGE_KINDS, Project, display_path, not_a_file, special

BOARD = "board"  # first_frame: board -> the scene's own board


def scene_cast(project: Project, index: int) -> list[str]:
    """The cast members of one scene (known ones only; the checks report the others)."""
    scene = project.board.scenes[index]
    return [n for n in scene.cast or [] if n in project.board.cast]


def check_cast(project: Project) -> list[Problem]:
    """Every problem of the cast: unknown members in scenes, missing or non-image pictures."""
    board = project.board
    problems: list[Problem] = []
    names = list(board.cast)
    for i, scene in enumerate(board.scenes):
        seen: set[str] = set()
        for k, name in enumerate(scene.cast or []):
            path = ("scenes", i, "cast", k)
            line = project.scene_line(i, "cast")
            if name in seen:
                problems.append(
                    project.problem(path, f"scene {scene.id!r}: {name!r} is listed twice", line)
                )
            seen.add(name)
            if name in board.cast:
                continue
            guess = did_you_mean(name, names)
            hint = (
                f"; did you mean '{guess}'?"
                if guess
                else f" (cast: {', '.join(names)})"
                if names
                else " (add it to the top-level cast: with a description)"
            )
            problems.append(
                project.problem(
                    path, f"scene {scene.id!r}: unknown cast member {name!r}{hint}", line
                )
            )
    for name, member in board.cast.items():
        text = member.description or ""
        if any(mark in text for mark in TEMPLATE_MARKS):  # hostile H11: sent as written
            problems.append(
                project.problem(
                    ("cast", name, "description"),
                    "a description is plain text, not a template: its `{{`, `{%` or `{#` would "
                    "reach the model as written; describe the member in words",
                )
            )
        for k, value in enumerate(member.images):
            problems.extend(_check_picture(project, ("cast", name, "images", k), value))
    return problems


def _check_picture(project: Project, path: tuple[str | int, ...], value: str) -> list[Problem]:
    if value.startswith(("http://", "https://")):
        if value.startswith("http://"):
            return [project.problem(path, "image URLs must use https")]
        why = https_url_problem(value)
        return [project.problem(path, f"{value!r} is not a usable https URL ({why})")] * bool(why)
    p = resolve_inside(project.root, value)
    if p is None:
        return [project.problem(path, f"{value!r} is outside the project folder")]
    if special(p):
        return [project.problem(path, not_a_file(p, value, f"an image file {IMAGE_KINDS}"))]
    if not p.is_file():
        return [
            project.problem(
                path,
                f"image not found: {value} (paths are relative to {display_path(project.root)}/)",
            )
        ]
    if p.suffix.lower() not in IMAGE_SUFFIXES:
        return [project.problem(path, f"{value!r} is not an image (png, jpg, webp, bmp, gif)")]
    if p.stat().st_size > MAX_IMAGE_BYTES:
        return [project.problem(path, f"{value!r} is over {MAX_IMAGE_BYTES // 2**20} MiB")]
    try:
        image_size(p)
    except ImageRefused as e:
        return [project.problem(path, f"{value!r} {e}")]
    if not image_decodes(p):  # the header is not enough: a truncated file reads as an image
        return [
            project.problem(path, f"{value!r} cannot be decoded (a damaged or truncated image)")
        ]
    return []
