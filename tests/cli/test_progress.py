"""The render progress display: a live table on a terminal, plain lines otherwise."""

from __future__ import annotations

import io

from storyboard.cli.progress import Reporter


def test_plain_lines_when_not_a_terminal() -> None:
    out = io.StringIO()
    with Reporter(["dusk", "dawn"], stream=out) as rep:
        rep.update("dawn", "waiting", "on dusk")
        rep.update("dusk", "submitted", "task 1234abcd, $0.80")
        rep.add_cost(0.8)
        rep.update("dusk", "done", "take 1")
        rep.note("dusk: assets/a.png is 100x100; cover-cropped to 1280x720")
    lines = [line.split("] ", 1)[1] for line in out.getvalue().splitlines() if "] " in line]
    assert lines == [
        "dawn: waiting: on dusk",
        "dusk: submitted: task 1234abcd, $0.80",
        "dusk: done: take 1 ($0.80 spent so far)",
    ]
    assert "note: dusk: assets/a.png is 100x100" in out.getvalue()


def test_live_table_shows_every_scene_and_the_spend() -> None:
    out = io.StringIO()
    with Reporter(["dusk", "dawn"], stream=out, live=True) as rep:
        rep.update("dusk", "processing")
        rep.add_cost(1.6)
        rep.update("dusk", "failed", "timeoutProvider")
    text = out.getvalue()
    assert "dusk" in text and "dawn" in text and "failed" in text
    assert "spent $1.60" in text


def test_quiet_prints_nothing() -> None:
    out = io.StringIO()
    with Reporter(["dusk"], stream=out, quiet=True) as rep:
        rep.update("dusk", "done")
        rep.note("hello")
    assert out.getvalue() == ""
