"""``storyboard init``: a new project folder with a commented starter storyboard.

The starter's first line points editors (yaml-language-server: VS Code, Neovim, ...) at the
storyboard's JSON Schema, written beside it, so keys complete and mistakes show while typing.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import yaml

from storyboard.errors import Problem, SpecError

from .schema import json_schema

SCHEMA_FILE = "storyboard.schema.json"


def yaml_scalar(value: str) -> str:
    """``value`` as one line of YAML that reads back exactly (quotes, backslashes, newlines...)."""
    text = yaml.safe_dump(value, default_style='"', allow_unicode=True, width=2**31)
    return text.splitlines()[0]


def init_project(folder: Path, title: str | None = None) -> Path:
    """Create ``folder/storyboard.yaml`` (and its schema, assets/, templates/); never overwrite."""
    target = folder / "storyboard.yaml"
    if target.exists():
        raise SpecError([Problem(str(target), None, "", "already exists; not overwriting it")])
    text = resources.files("storyboard.board").joinpath("starter.yaml").read_text(encoding="utf-8")
    name = title if title is not None else folder.name.replace("-", " ").replace("_", " ").title()
    text = text.replace("__TITLE__", yaml_scalar(name), 1)
    try:
        (folder / "assets").mkdir(parents=True, exist_ok=True)
        (folder / "templates").mkdir(exist_ok=True)
        (folder / ".gitignore").write_text("build/\n", encoding="utf-8")
        (folder / SCHEMA_FILE).write_text(json.dumps(json_schema(), indent=2) + "\n", "utf-8")
        target.write_text(text, encoding="utf-8")
    except OSError as e:
        raise SpecError([Problem(str(target), None, "", f"cannot create project: {e}")]) from None
    return target
