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


def render_text(renderable: object) -> str:
    from rich.console import Console

    out = io.StringIO()
    Console(file=out, width=100).print(renderable)
    return out.getvalue()


def test_live_timers_tick_between_state_changes_and_the_columns_have_headers() -> None:
    now = [100.0]
    rep = Reporter(["dusk", "dawn"], stream=io.StringIO(), live=False, clock=lambda: now[0])
    rep.update("dusk", "processing")
    now[0] += 65.5  # no event for a minute: a real model takes minutes
    text = render_text(rep.__rich__())
    assert "65.5s" in text and "1:05 elapsed" in text
    header = next(line for line in text.splitlines() if "scene" in line)
    assert header.split() == ["┃", "scene", "┃", "state", "┃", "detail", "┃", "time", "┃"]
    now[0] += 10
    assert "75.5s" in render_text(rep.__rich__())
    rep.update("dusk", "done", "take 1")
    now[0] += 30
    assert "75.5s" in render_text(rep.__rich__())  # a finished scene's timer stops


def test_compose_bar_plain_lines_with_frames_and_eta() -> None:
    from storyboard.cli.progress import ComposeBar

    out = io.StringIO()
    now = [0.0]
    with ComposeBar(stream=out, clock=lambda: now[0]) as bar:
        for done in range(0, 301, 30):
            now[0] = done / 10
            bar.frames(done, 300)
    lines = [line.split("] ", 1)[1] for line in out.getvalue().splitlines()]
    assert lines[0] == "compose: 0/300 frames (0%)"
    assert lines[1] == "compose: 30/300 frames (10%), ETA 27 s"
    assert lines[-1] == "compose: 300/300 frames (100%)"
    assert len(lines) == 11


def test_compose_bar_live_draws_a_bar() -> None:
    from storyboard.cli.progress import ComposeBar

    out = io.StringIO()
    with ComposeBar(stream=out, live=True) as bar:
        bar.frames(150, 300)
        bar.frames(300, 300)
    assert "300/300" in out.getvalue() and "frames" in out.getvalue()


def test_compose_eta_counts_from_the_first_frames_not_from_the_render() -> None:
    """A render generates for 100 s, then composes 300 frames at 30 frames a second: the ETA
    says seconds of composing left (8 s), not 400 s (issue 15: `ETA 513 s` for a 19 s compose)."""
    import io

    from storyboard.cli.progress import ComposeBar

    now = [0.0]
    out = io.StringIO()
    bar = ComposeBar(stream=out, live=False, clock=lambda: now[0])
    now[0] = 100.0  # generating
    bar.frames(30, 300)  # the first chunk: no rate yet
    now[0] = 101.0
    bar.frames(60, 300)
    lines = out.getvalue().splitlines()
    assert "ETA" not in lines[0]
    assert lines[-1].endswith("compose: 60/300 frames (20%), ETA 8 s"), lines


def test_placeholder_money_is_never_called_spent() -> None:
    """Hostile finding F4: on the emulator the progress said "$0.80 spent so far" while the
    summary said "$0 (would cost $1.20)"; both now say it the same way."""
    out = io.StringIO()
    with Reporter(["dusk"], stream=out, placeholder=True) as rep:
        rep.add_cost(0.8)
        rep.update("dusk", "done", "take 1")
    assert "dusk: done: take 1 ($0 (would cost $0.80) so far)" in out.getvalue()
    assert "spent" not in out.getvalue()
    live = io.StringIO()
    with Reporter(["dusk"], stream=live, live=True, placeholder=True) as rep:
        rep.add_cost(1.6)
    assert "$0 (would cost $1.60)" in live.getvalue() and "spent" not in live.getvalue()
