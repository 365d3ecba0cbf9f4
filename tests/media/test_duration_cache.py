"""A sound take's length is read from its file once, then from a cache keyed by its content
(build/media): the review page and ``takes`` list it on every call, a no-op render too."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from storyboard.media import probe
from storyboard.media.ffmpeg import ffmpeg_exe


def tone(path: Path, seconds: float) -> Path:
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=f=440:d={seconds}",
         str(path)],
        check=True,
    )  # fmt: skip
    return path


def test_read_once_then_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wav = tone(tmp_path / "a.wav", 1.5)
    cache = tmp_path / "build" / "media"
    calls: list[Path] = []
    real = probe.media_duration
    monkeypatch.setattr(probe, "media_duration", lambda p: calls.append(p) or real(p))
    assert probe.duration_cached(wav, "k1-10", cache) == pytest.approx(1.5, abs=0.05)
    assert probe.duration_cached(wav, "k1-10", cache) == pytest.approx(1.5, abs=0.05)
    assert calls == [wav]
    # another content (key) is read from its file, whatever its path
    tone(wav, 0.5)
    assert probe.duration_cached(wav, "k2-10", cache) == pytest.approx(0.5, abs=0.05)
    assert len(calls) == 2


def test_a_damaged_cache_entry_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wav = tone(tmp_path / "a.wav", 1.0)
    cache = tmp_path / "media"
    cache.mkdir()
    for bad in ("", "nan\n", "-3\n", "inf\n", "1e400\n", "x\n", "4.5"):  # 4.5: cut short
        (cache / "k-1.duration").write_text(bad)
        assert probe.duration_cached(wav, "k-1", cache) == pytest.approx(1.0, abs=0.05), bad


def test_no_key_or_no_cache_folder_reads_the_file(tmp_path: Path) -> None:
    wav = tone(tmp_path / "a.wav", 1.0)
    assert probe.duration_cached(wav, "", tmp_path / "media") == pytest.approx(1.0, abs=0.05)
    assert not (tmp_path / "media").exists()  # nothing kept without a key
    ro = tmp_path / "ro"
    ro.write_text("a file where the cache folder would be")
    assert probe.duration_cached(wav, "k-1", ro) == pytest.approx(1.0, abs=0.05)


def test_a_length_changed_after_it_was_kept_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hostile H30: a plausible lie (an older one-line entry, or a kept value edited under its
    digest) is no length: the file is read again and the entry written anew."""
    wav = tone(tmp_path / "a.wav", 1.0)
    cache = tmp_path / "media"
    calls: list[Path] = []
    real = probe.media_duration
    monkeypatch.setattr(probe, "media_duration", lambda p: calls.append(p) or real(p))
    assert probe.duration_cached(wav, "k-1", cache) == pytest.approx(1.0, abs=0.05)
    kept = (cache / "k-1.duration").read_text()
    (cache / "k-1.duration").write_text("0.25\n")  # as an older entry was kept
    assert probe.duration_cached(wav, "k-1", cache) == pytest.approx(1.0, abs=0.05)
    digest = kept.splitlines()[-1]
    (cache / "k-1.duration").write_text(f"0.25\n{digest}\n")
    assert probe.duration_cached(wav, "k-1", cache) == pytest.approx(1.0, abs=0.05)
    (cache / "k-2.duration").write_text(kept)  # another file's entry, moved
    assert probe.duration_cached(wav, "k-2", cache) == pytest.approx(1.0, abs=0.05)
    assert len(calls) == 4
    assert probe.duration_cached(wav, "k-1", cache) == pytest.approx(1.0, abs=0.05)
    assert len(calls) == 4  # kept again, whole
