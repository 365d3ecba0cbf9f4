"""A burnt-in caption never runs off the frame (hostile helper-62: on a 720x1280 film the
font was sized from the height, 58 px, and a 34-letter word ran off both sides unwarned; a
300-letter speaker name did the same on a 1280x720 film)."""

from __future__ import annotations

import numpy as np
import pytest

from storyboard.cut.captions import caption_band

WORD = "Ann: Supercalifragilisticexpialidocious!"


@pytest.mark.parametrize(
    ("text", "width", "height"),
    [(WORD, 720, 1280), (WORD, 1280, 720), ("W" * 300 + ": hello", 1280, 720)],
)
def test_a_long_word_stays_inside_the_frame(text: str, width: int, height: int) -> None:
    band, _top = caption_band(text, width, height)
    alpha = np.asarray(band)[..., 3]
    assert not (alpha[:, :8] > 0).any() and not (alpha[:, -8:] > 0).any()


def test_a_vertical_films_captions_are_as_big_as_a_landscape_ones() -> None:
    tall, _ = caption_band("Ann: Hello there.", 720, 1280)
    wide, _ = caption_band("Ann: Hello there.", 1280, 720)
    assert tall.height == wide.height
