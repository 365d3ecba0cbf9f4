"""Where the shared prompt templates are found: the repo's templates/ beside the package (an
editable install), else the copy a regular install puts under sys.prefix/share/storyboard."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from storyboard import files

REPO = Path(__file__).resolve().parents[2]


def test_the_repos_templates_beside_the_package() -> None:
    assert files.shared_templates() == REPO / "templates"
    assert (files.shared_templates() / "shot.j2").is_file()


def test_else_the_installed_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "storyboard").mkdir()
    monkeypatch.setattr(files, "__file__", str(tmp_path / "storyboard" / "files.py"))
    assert files.shared_templates() == Path(sys.prefix) / "share" / "storyboard" / "templates"
    (tmp_path / "templates").mkdir()
    assert files.shared_templates() == tmp_path / "templates"
