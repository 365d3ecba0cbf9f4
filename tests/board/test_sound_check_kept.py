"""A sound file the storyboard names is decoded once to check it, then remembered by its exact
stat under build/media; a first render (no build/ yet when it checks) remembers it too once
build/ exists, so the next render does not decode it again."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from storyboard.board import assets
from storyboard.media.ffmpeg import ffmpeg_exe


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    calls: list[Path] = []
    real = assets.audio_problem
    monkeypatch.setattr(assets, "audio_problem", lambda p: calls.append(p) or real(p))
    return calls


def wav(path: Path) -> Path:
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "sine=d=0.5", str(path)],
        check=True,
    )
    return path


def test_checked_before_build_exists_and_kept_once_it_does(
    tmp_path: Path, counted: list[Path]
) -> None:
    music = wav(tmp_path / "music.wav")
    cache = tmp_path / "build" / "media"
    assert assets._audio_problem_kept(music, cache) is None
    assert not (tmp_path / "build").exists()  # validate makes no build/
    (tmp_path / "build").mkdir()  # the render's state made it
    assets.keep_checked_sounds(tmp_path)
    assert assets._audio_problem_kept(music, cache) is None
    assert counted == [music]  # decoded once
    music.write_bytes(music.read_bytes())  # written again: checked again
    assert assets._audio_problem_kept(music, cache) is None
    assert len(counted) == 2


def test_nothing_kept_for_a_bad_file_or_without_build(tmp_path: Path, counted: list[Path]) -> None:
    bad = tmp_path / "noise.wav"
    bad.write_bytes(b"RIFF not really")
    cache = tmp_path / "build" / "media"
    assert assets._audio_problem_kept(bad, cache) is not None
    assets.keep_checked_sounds(tmp_path)  # no build/: nothing made
    assert not (tmp_path / "build").exists()
    (tmp_path / "build").mkdir()
    assets.keep_checked_sounds(tmp_path)
    assert assets._audio_problem_kept(bad, cache) is not None
    assert len(counted) == 2  # a bad file is never remembered as good
