"""User text in exported timelines: an EDL is a line format (hostile helper-62)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import opentimelineio as otio
import pytest
from helpers import write_project

from storyboard.cli.main import main
from storyboard.generate.integrity import sha256_file
from storyboard.generate.state import BuildState, Take
from storyboard.media.ffmpeg import ffmpeg_exe
from storyboard.media.probe import probe

BOARD = """
title: {title}
defaults: {{duration: 4}}
scenes:
  - {{id: a, prompt: "Scene a, the harbour."}}
  - id: b
    prompt: "Scene b, the gulls."
    dialogue: [{{who: {who}, line: {line}}}]
edit: {{loudness: "off"}}
output: {{fps: 25, size: 64x36}}
"""


def locked(tmp_path: Path, **text: str) -> Path:
    p = write_project(tmp_path / "p", BOARD.format(**text))
    state = BuildState(p)
    for i, (scene, color) in enumerate((("a", "red"), ("b", "green"))):
        rel = f"build/takes/{scene}/take-1.mp4"
        (p / rel).parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i",
             f"color=c={color}:s=64x36:r=25:d=2", "-c:v", "libx264", "-preset", "ultrafast",
             "-pix_fmt", "yuv420p", str(p / rel)],
            check=True,
        )  # fmt: skip
        state.lock[scene] = Take(
            scene, 1, "k", None, f"t{i}", f"v{i}", None, None, rel,
            (p / rel).stat().st_size, sha256_file(p / rel), 0.4, probe(p / rel).duration,
        )  # fmt: skip
    state.write_lock(["a", "b"])
    state.close()
    return p


@pytest.mark.parametrize(
    "title",
    [
        '"Part one\\nPart two"',  # a two-line title: validate takes it (newlines are text)
        '"Part one\\u2028Part two"',  # U+2028: a line break to str.splitlines (OTIO's reader)
        '"Two\\n001  AX  V  C  00:00:00:00 00:00:09:00 00:00:00:00 00:00:09:00"',
    ],
)
def test_a_multi_line_title_keeps_the_edl_one_title_line(tmp_path: Path, title: str) -> None:
    """The title went into the EDL's `TITLE:` line raw: its second line became a line of the
    EDL of its own, which OTIO's own cmx_3600 reader refuses ('Unknown event type') or, for the
    second title, reads as an injected event 001 (and crashes on it)."""
    p = locked(tmp_path, title=title, who="Ann", line='"There she goes."')
    out = p / "cut.edl"
    assert main(["export", str(p), "--format", "edl", "-o", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0].startswith("TITLE: ") and lines[1] == "", lines[:3]
    back = otio.adapters.read_from_file(str(out), adapter_name="cmx_3600", rate=25)
    assert [c.name for c in back.find_clips()] == ["a", "b"]


def test_a_speaker_name_with_a_line_break_stays_in_its_marker_comment(tmp_path: Path) -> None:
    p = locked(
        tmp_path,
        title="T",
        who='"Ann\\n003  AX  V  C  00:00:00:00 00:00:09:00 00:00:00:00 00:00:09:00"',
        line="hi",
    )
    out = p / "cut.edl"
    code = main(["export", str(p), "--format", "edl", "-o", str(out)])
    if code != 0:
        return  # refused: fine, as long as no EDL with an injected event is written
    events = [ln for ln in out.read_text().splitlines() if ln[:3].isdigit()]
    assert len(events) == 2, events
