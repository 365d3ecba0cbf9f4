"""Issue 16: the files a scene's ``references`` name exist, stay in the project, are https URLs
otherwise, and reference images are readable images (checked like first frames)."""

from __future__ import annotations

from pathlib import Path

from storyboard.errors import Problem
from storyboard.files import https_url_problem, resolve_inside

from .spec import Project, not_a_file, special

KINDS = ("images", "videos", "audio")


def reference_files(project: Project) -> dict[Path, str]:
    """Every local reference file (resolved) -> the field that names it."""
    out: dict[Path, str] = {}
    for i, scene in enumerate(project.board.scenes):
        refs = scene.references
        for kind in KINDS if refs is not None else ():
            for k, value in enumerate(getattr(refs, kind)):
                if not value.startswith(("http://", "https://")):
                    p = resolve_inside(project.root, value)
                    if p is not None:
                        out.setdefault(p, f"scenes[{i}].references.{kind}[{k}]")
    return out


def reference_problems(project: Project) -> list[Problem]:
    """One problem per reference that is not an https URL or a file inside the project."""
    from .assets import check_image

    problems: list[Problem] = []
    for i, scene in enumerate(project.board.scenes):
        refs = scene.references
        if refs is None:
            continue
        line = project.scene_line(i, "references")
        path = ("scenes", i, "references")
        for kind in KINDS:
            for value in getattr(refs, kind):
                if value.startswith("http://"):
                    problems.append(
                        project.problem(
                            path, f"references.{kind}: URLs must use https, got {value!r}", line
                        )
                    )
                    continue
                if value.startswith("https://"):
                    why = https_url_problem(value)
                    if why:
                        msg = f"references.{kind}: {value!r} is not a usable https URL ({why})"
                        problems.append(project.problem(path, msg, line))
                    continue
                p = resolve_inside(project.root, value)
                if p is None:
                    msg = f"references.{kind}: {value!r} is outside the project folder"
                    problems.append(project.problem(path, msg, line))
                elif not p.is_file():
                    msg = (
                        f"references.{kind}: {not_a_file(p, value, 'a file')}"
                        if special(p)
                        else f"references.{kind}: file not found: {value}"
                    )
                    problems.append(project.problem(path, msg, line))
                elif kind == "images":
                    for prob in check_image(project, i, value, p, "references"):
                        problems.append(prob)
    return problems
