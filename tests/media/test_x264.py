"""A take's own x264 settings, read from its SEI, reproduce its parameter sets exactly (checked
by a two-frame encode), or nothing is returned."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from storyboard.media.ffmpeg import ffmpeg_exe
from storyboard.media.gop import encoder_signature, stream_layout
from storyboard.media.x264 import matching_args, sei_options


def encode(path: Path, *args: str) -> Path:
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=160x90:r=25:d=2"]
        + ["-c:v", "libx264", *args, "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )
    return path


@pytest.mark.parametrize(
    "args",
    [
        ["-preset", "medium", "-crf", "23"],
        ["-preset", "fast", "-crf", "20", "-g", "30"],
        ["-preset", "veryfast", "-crf", "28", "-bf", "0", "-colorspace", "bt709"],
        ["-preset", "slow", "-qp", "30", "-color_range", "tv"],
        # fully tagged takes (matrix, primaries and transfer), as most encoders write them:
        # ffmpeg 9 drops -color_primaries and -color_trc for libx264, so these were never
        # matched and never copied (round 7)
        [
            "-preset",
            "fast",
            "-crf",
            "20",
            "-x264-params",
            "colorprim=bt709:transfer=bt709:colormatrix=bt709",
            "-color_range",
            "tv",
        ],
        [
            "-preset",
            "veryfast",
            "-crf",
            "22",
            "-x264-params",
            "colorprim=smpte170m:transfer=smpte170m:colormatrix=smpte170m",
        ],
    ],
)
def test_a_takes_own_settings_reproduce_its_parameter_sets(tmp_path: Path, args: list[str]) -> None:
    take = encode(tmp_path / "t.mp4", *args)
    signature = stream_layout(take).signature
    found = matching_args(take, signature, 160, 90, 25)
    assert found is not None
    assert encoder_signature(160, 90, 25, tuple(found)) == signature


def test_settings_that_cannot_be_replayed_give_nothing(tmp_path: Path) -> None:
    abr = encode(tmp_path / "abr.mp4", "-preset", "veryfast", "-b:v", "300k")
    assert matching_args(abr, stream_layout(abr).signature, 160, 90, 25) is None
    take = encode(tmp_path / "t.mp4", "-preset", "veryfast")
    bare = tmp_path / "bare.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(take), "-c", "copy"]
        + ["-bsf:v", "filter_units=remove_types=6", str(bare)],
        check=True,
    )
    assert sei_options(bare) is None
    assert matching_args(bare, stream_layout(bare).signature, 160, 90, 25) is None
    # another size than the take's: the reference encode cannot match
    assert matching_args(take, stream_layout(take).signature, 320, 180, 25) is None


def test_the_films_own_chunks_are_tagged_bt709_matrix_primaries_and_transfer() -> None:
    """ffmpeg 9 drops -color_primaries and -color_trc for libx264: the film's chunks (and the
    emulator's clips, made in the same settings) were tagged bt709/unknown/unknown (round 7)."""
    from storyboard.cut.picture import chunk_codec_args

    signature = encoder_signature(160, 90, 25, tuple(chunk_codec_args("MP4", 95)))
    assert "yuv420p(tv, bt709, progressive)" in signature, signature
