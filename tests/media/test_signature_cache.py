"""The signature of the film's own encoder settings is worked out once (a two-frame encode)
and kept under build/media, keyed by the settings and by the ffmpeg binary that made it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from storyboard.media import gop

CODEC = ("-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p")


@pytest.fixture
def encodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = gop._encoder_signature

    def counted(*a: object) -> str:
        calls.append("encode")
        return real(*a)  # type: ignore[arg-type]

    monkeypatch.setattr(gop, "_encoder_signature", counted)
    return calls


def test_kept_and_found_again(tmp_path: Path, encodes: list[str]) -> None:
    first = gop.encoder_signature_cached(160, 90, 25, CODEC, tmp_path)
    again = gop.encoder_signature_cached(160, 90, 25, CODEC, tmp_path)
    assert first == again and "h264" in first
    assert encodes == ["encode"]
    other = gop.encoder_signature_cached(160, 90, 30, CODEC, tmp_path)  # another rate
    assert other != first and len(encodes) == 2


def test_another_ffmpeg_or_a_damaged_entry_is_encoded_again(
    tmp_path: Path, encodes: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sig = gop.encoder_signature_cached(160, 90, 25, CODEC, tmp_path)
    (entry,) = tmp_path.glob("encoder-*.sig")
    for bad in ("", "h264 | cut sh", "\n"):
        entry.write_text(bad)
        assert gop.encoder_signature_cached(160, 90, 25, CODEC, tmp_path) == sig
    assert len(encodes) == 4
    fake = tmp_path / "ffmpeg"
    fake.symlink_to(gop.ffmpeg_exe())
    monkeypatch.setattr(gop, "ffmpeg_exe", lambda: str(fake))  # another binary (path)
    assert gop.encoder_signature_cached(160, 90, 25, CODEC, tmp_path) == sig
    assert len(encodes) == 5


def test_no_cache_folder_still_answers(tmp_path: Path, encodes: list[str]) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("x")
    assert gop.encoder_signature_cached(160, 90, 25, CODEC, blocked)
    assert gop.encoder_signature_cached(160, 90, 25, CODEC, None)
    assert os.listdir(tmp_path) == ["file"]  # nothing written beside it
