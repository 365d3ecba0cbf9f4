"""Files written for the user get the permissions the user's umask asks for, not 0600."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from storyboard.files import atomic_write, current_umask


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077], ids=["022", "002", "077"])
def test_atomic_write_honours_the_umask(tmp_path: Path, mask: int) -> None:
    old = os.umask(mask)
    try:
        assert current_umask() == mask
        atomic_write(tmp_path / "film.srt", b"1\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "film.srt").stat().st_mode) == 0o666 & ~mask
    assert [p.name for p in tmp_path.iterdir()] == ["film.srt"]  # no temp file left
