"""The review page's caption and chapter tracks show the text as written (hostile helper-62:
WebVTT cue text is markup, and a line's ``<b>`` and ``&amp;`` were not)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import NO_CHROMIUM, browser_page, chromium

from storyboard.review.page import vtt

LINE = "ada: It's <b>50%</b> off & <script>alert('x')</script> &amp; ]]> -->"


def test_cue_text_is_escaped_and_a_blank_line_does_not_end_the_cue() -> None:
    text = vtt([(0.0, 1.0, LINE), (1.0, 2.0, "one\n\ntwo")])
    assert "<b>" not in text and "<script>" not in text and "]]> -->" not in text
    assert "&amp;amp;" in text and "&lt;b&gt;" in text
    assert "one\ntwo\n" in text


@pytest.mark.skipif(chromium() is None, reason=NO_CHROMIUM)
def test_chromium_shows_the_caption_as_written(tmp_path: Path) -> None:
    pytest.importorskip("playwright")
    text = vtt([(0.0, 1.0, LINE)])
    with browser_page(tmp_path / "profile", 640, 360) as page:
        pg: object = page
        pg.set_content("<video muted></video>")  # type: ignore[attr-defined]
        shown = pg.evaluate(  # type: ignore[attr-defined]
            """async (text) => {
              const v = document.querySelector('video');
              const t = document.createElement('track');
              t.kind = 'captions'; t.default = true;
              t.src = URL.createObjectURL(new Blob([text], {type: 'text/vtt'}));
              v.appendChild(t); t.track.mode = 'hidden';
              await new Promise(r => { t.onload = r; setTimeout(r, 3000); });
              return t.track.cues[0].getCueAsHTML().textContent;
            }""",
            text,
        )
    assert shown == LINE
