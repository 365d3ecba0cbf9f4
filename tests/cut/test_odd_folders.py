"""Project folders whose names ffmpeg's concat listings misread (hostile helpers 51 and 62)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_project

from storyboard.cli.main import main
from storyboard.media.ffmpeg import concat_file, ffmpeg_exe, run_child

BOARD = """\
title: Two
edit: {{transition: {transition}}}
scenes:
  - {{id: a, prompt: A red kite., duration: 4}}
  - {{id: b, prompt: A blue kite., duration: 4}}
"""


@pytest.mark.parametrize("name", ["it's my\nfilm", "film #2", "why?"])
@pytest.mark.parametrize("transition", ["cut", "{type: crossfade, duration: 0.5}"])
def test_a_folder_with_an_odd_name_renders(
    tmp_path: Path, name: str, transition: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every clip was generated (and paid for), then the join failed: each concat listing named
    its files by their absolute paths, and a listing line cannot hold a line break; named from
    the listing's folder, the demuxer resolved them against the listing's path as a URL, which
    ends at a ``#`` or ``?``. They are ``file:`` URLs read from the listing's folder now: a
    cuts-only film (the takes and their sound joined apart) and one with crossfades (its
    chunks joined)."""
    p = write_project(tmp_path / name, BOARD.format(transition=transition))
    code = main(["render", str(p), "--draft", "--quiet", "--emulator-latency", "0.05"])
    assert code == 0, capsys.readouterr().err[-800:]
    film = p / "build" / "two.mp4"
    check = run_child([ffmpeg_exe(), "-v", "error", "-i", str(film), "-f", "null", "-"], timeout=60)
    assert check.returncode == 0 and not check.stderr


def test_a_line_break_below_the_listing_is_one_message(tmp_path: Path) -> None:
    from storyboard.errors import StoryboardError

    listing = tmp_path / "build" / "parts.txt"
    assert concat_file(tmp_path / "build" / "x'y.mp4", listing) == "file 'file:x'\\''y.mp4'\n"
    with pytest.raises(StoryboardError, match="line break"):
        concat_file(tmp_path / "bad\nname.mp4", listing)
