"""``storyboard init``: a new project folder with a commented starter storyboard."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from storyboard.errors import Problem, SpecError


def init_project(folder: Path, title: str | None = None) -> Path:
    """Create ``folder/storyboard.yaml`` (and assets/, templates/); refuse to overwrite."""
    target = folder / "storyboard.yaml"
    if target.exists():
        raise SpecError([Problem(str(target), None, "", "already exists; not overwriting it")])
    text = resources.files("storyboard.board").joinpath("starter.yaml").read_text(encoding="utf-8")
    name = title or folder.name.replace("-", " ").replace("_", " ").title()
    text = text.replace("__TITLE__", name.replace('"', "'"))
    try:
        (folder / "assets").mkdir(parents=True, exist_ok=True)
        (folder / "templates").mkdir(exist_ok=True)
        (folder / ".gitignore").write_text("build/\n", encoding="utf-8")
        target.write_text(text, encoding="utf-8")
    except OSError as e:
        raise SpecError([Problem(str(target), None, "", f"cannot create project: {e}")]) from None
    return target
