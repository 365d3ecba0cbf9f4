"""``storyboard.lock``: read (every entry checked) and written (atomically, in film order)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from storyboard.errors import StoryboardError
from storyboard.files import atomic_write

from .integrity import take_path

if TYPE_CHECKING:
    from .state import Take

HEADER = (
    "# storyboard.lock: the take of each scene that makes the cut.\n"
    "# Written by `storyboard render` and `storyboard pick`; commit it to rebuild "
    "the film exactly.\n"
)


def read_lock(root: Path, lock_path: Path) -> dict[str, Take]:
    """The lock's takes by scene; one clear error for an unreadable file or a hostile entry."""
    from .state import Take

    if not lock_path.is_file():
        return {}
    try:
        data = yaml.safe_load(lock_path.read_text(encoding="utf-8")) or {}
        takes = {scene: Take.from_lock(scene, d) for scene, d in (data.get("scenes") or {}).items()}
    except (yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError) as e:
        raise StoryboardError(
            f"{lock_path}: unreadable lock file ({e}); fix or delete it "
            "(takes are kept in build/ and will be found again)"
        ) from None
    for scene, take in takes.items():
        if take_path(root, take.file) is None:
            raise StoryboardError(
                f"{lock_path}: scene {scene!r}: file {take.file!r} is not inside the project's "
                "build/takes folder; fix that entry or delete the lock file (the takes are kept "
                "in build/ and found again)"
            )
    return takes


def write_lock(lock_path: Path, takes: dict[str, Take], order: list[str]) -> None:
    """Write ``storyboard.lock`` atomically, scenes in film order."""
    scenes = {s: takes[s].to_lock() for s in order if s in takes}
    if not scenes and not lock_path.exists():
        return  # nothing made yet: no empty lock file
    text = HEADER + yaml.safe_dump(
        {"version": 1, "scenes": scenes}, sort_keys=False, allow_unicode=True, width=1000
    )
    atomic_write(lock_path, text.encode())
