"""Pictures of more than 8 bits a channel (hostile helper-47 5): a 16-bit greyscale PNG as a
first frame came out white past its first 1/256 (Pillow's RGB conversion clips its values at
255). They are scaled to 8 bits wherever a picture of the user's is read."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from storyboard.media.frames import conform_image, to_rgb


def gradient(mode: str) -> Image.Image:
    row = np.linspace(0, 65535, 256)
    if mode == "F":
        return Image.fromarray(np.tile(row / 65535, (8, 1)).astype(np.float32))  # mode F
    im = Image.fromarray(np.tile(row, (8, 1)).astype(np.uint16))
    return im.convert("I") if mode == "I" else im


@pytest.mark.parametrize("mode", ["I;16", "I", "F"])
def test_a_deep_greyscale_picture_keeps_its_gradient(mode: str) -> None:
    grey = np.asarray(to_rgb(gradient(mode)))[0, :, 0].astype(int)
    assert grey[0] == 0 and grey[-1] == 255
    assert np.all(np.diff(grey) >= 0) and abs(int(grey[128]) - 128) <= 2, grey[::32]


def test_a_16_bit_png_first_frame_is_not_white() -> None:
    buf = io.BytesIO()
    gradient("I;16").save(buf, format="PNG")
    png, size = conform_image(buf.getvalue(), 256, 8)
    with Image.open(io.BytesIO(png)) as im:
        row = np.asarray(im.convert("RGB"))[4, :, 0].astype(int)
    assert size == (256, 8)
    assert row[0] <= 2 and row[-1] >= 253 and abs(int(row[128]) - 128) <= 3, row[::32]
    assert to_rgb(Image.new("RGB", (2, 2), (10, 20, 30))).getpixel((0, 0)) == (10, 20, 30)
