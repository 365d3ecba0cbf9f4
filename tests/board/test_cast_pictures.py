"""A cast member's own pictures must decode whole before anything is sent (hostile finding
H1: a PNG cut in half passed validate, was uploaded as a reference and drawn as a blank)."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from helpers import write_project
from PIL import Image

from storyboard.board.spec import load_project
from storyboard.errors import SpecError

CAST = """
title: Cast
model: google:3@3
image_model: bfl:6@1
cast:
  tower: {description: a lighthouse, images: [assets/whole.png, assets/half.png]}
defaults: {duration: 4}
scenes:
  - {id: a, prompt: "The lighthouse at dusk.", cast: [tower]}
"""


def noisy_png() -> bytes:
    rng = random.Random(7)
    im = Image.frombytes("RGB", (128, 128), bytes(rng.randrange(256) for _ in range(128 * 128 * 3)))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def test_a_truncated_cast_picture_is_an_error_at_its_line(tmp_path: Path) -> None:
    data = noisy_png()
    files = {"assets/whole.png": data, "assets/half.png": data[: len(data) // 2]}
    root = write_project(tmp_path / "p", CAST, files)
    with pytest.raises(SpecError) as e:
        load_project(root)
    found = [str(p) for p in e.value.problems]
    assert len(found) == 1, found
    assert ":5: cast.tower.images[1]: 'assets/half.png' cannot be decoded" in found[0], found
