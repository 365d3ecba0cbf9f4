"""The exported cut lands on the film's frames: every clip's source range and every transition
at exactly the frames the compose plays, in OTIO, EDL and FCPXML, odd and even transitions."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest
from helpers import write_project

from storyboard.board.spec import load_project
from storyboard.cut.export import export_cut
from storyboard.generate.integrity import sha256_file
from storyboard.generate.state import BuildState, Take
from storyboard.media.ffmpeg import ffmpeg_exe

# scene, trim in, trim out (seconds into a 4 s take); b crossfades in, c fades in through black
SCENES = [("a", 0.32, 3.5), ("b", 1.12, 4.0), ("c", 0.0, 3.25), ("d", 0.0, 4.0)]

BOARD = """
title: Frames
defaults: {{duration: 4}}
scenes:
  - {{id: a, prompt: "a", trim: {{in: {a_in}, out: 3.5}}}}
  - id: b
    prompt: "b"
    trim: {{in: {b_in}}}
    transition: {{type: crossfade, duration: {cross}}}
  - id: c
    prompt: "c"
    trim: {{out: 3.25}}
    transition: {{type: fade, duration: {fade}}}
  - {{id: d, prompt: "d"}}
edit: {{loudness: "off"}}
output: {{fps: {fps}, size: 64x36}}
"""


def take_file(path: Path, fps: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i",
         f"testsrc=s=64x36:r={fps}:d=4", "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )  # fmt: skip


def project(root: Path, fps: int, cross: int, fade: int, a_in: float, b_in: float) -> Path:
    """Four scenes with 4 s takes at the film's rate; transitions of ``cross`` and ``fade``
    frames."""
    text = BOARD.format(
        fps=fps, cross=repr(cross / fps), fade=repr(fade / fps), a_in=a_in, b_in=b_in
    )
    p = write_project(root, text)
    state = BuildState(p)
    for i, scene in enumerate("abcd"):
        rel = f"build/takes/{scene}/take-1.mp4"
        take_file(p / rel, fps)
        f = p / rel
        state.lock[scene] = Take(
            scene, 1, "k", None, f"t{i}", f"v{i}", None, None, rel, f.stat().st_size,
            sha256_file(f), 0.4, 4.0,
        )  # fmt: skip
    state.write_lock(list("abcd"))
    state.close()
    return p


def film_frames(
    fps: int, cross: int, fade: int, scenes: list[tuple[str, float, float]]
) -> list[tuple[str, str, int, int, int]]:
    """What the film plays, worked out from the storyboard: each clip as (clip, scene, first
    film frame, first source frame, frames) and each transition as (transition, name, first
    film frame, 0, frames); a transition's clips overlap by its whole length."""
    overlap = {"b": ("crossfade", cross), "c": ("fade through black", fade)}
    out: list[tuple[str, str, int, int, int]] = []
    t = 0
    for scene, src_in, src_out in scenes:
        name, n = overlap.get(scene, ("", 0))
        start = t - n
        if n:
            out.append(("transition", name, start, 0, n))
        frames = round((src_out - src_in) * fps)
        out.append(("clip", scene, start, round(src_in * fps), frames))
        t = start + frames
    return out


def otio_frames(track: otio.schema.Track, fps: int) -> list[tuple[str, str, int, int, int]]:
    """The same list read from an OTIO track: a clip's visible frames include the parts of
    the transitions on either side that it plays (its handles)."""
    items = list(track)
    out: list[tuple[str, str, int, int, int]] = []

    def fr(t: otio.opentime.RationalTime) -> int:
        return round(t.to_frames(fps))

    for i, item in enumerate(items):
        if not isinstance(item, otio.schema.Clip):
            continue
        before = items[i - 1] if i > 0 else None
        after = items[i + 1] if i + 1 < len(items) else None
        t_in = fr(before.in_offset) if isinstance(before, otio.schema.Transition) else 0
        t_out = fr(after.out_offset) if isinstance(after, otio.schema.Transition) else 0
        at = fr(track.range_of_child(item).start_time)
        if isinstance(before, otio.schema.Transition):
            out.append(("transition", before.name, at - t_in, 0, t_in + fr(before.out_offset)))
        sr = item.source_range
        out.append(
            ("clip", item.name, at - t_in, fr(sr.start_time) - t_in, fr(sr.duration) + t_in + t_out)
        )
    return out


def _time(value: str | None, fps: int) -> int:
    """A FCPXML time (``0s``, ``7s``, ``1001/30000s``) in frames, exactly."""
    if not value:
        return 0
    f = Fraction(value.removesuffix("s")) * fps
    assert f.denominator == 1, f"{value} is not a whole frame at {fps} fps"
    return int(f)


def fcpxml_frames(text: str, fps: int) -> list[tuple[str, str, int, int, int]]:
    """The same list read from the FCPXML's spine: clips end to end at their cut points, each
    ``<transition>`` overlapping the clips beside it from its ``offset``."""
    spine = ET.fromstring(text.split("\n", 2)[2]).find("./project/sequence/spine")
    assert spine is not None
    kids = list(spine)
    out: list[tuple[str, str, int, int, int]] = []
    for i, el in enumerate(kids):
        if el.tag != "clip":
            assert el.tag == "transition", el.tag
            continue
        offset, start = _time(el.get("offset"), fps), _time(el.get("start"), fps)
        frames = _time(el.get("duration"), fps)
        t_in = t_out = 0
        if i > 0 and kids[i - 1].tag == "transition":
            tr = kids[i - 1]
            t_start = _time(tr.get("offset"), fps)
            t_in = offset - t_start
            length = _time(tr.get("duration"), fps)
            out.append(("transition", tr.get("name", ""), t_start, 0, length))
        if i + 1 < len(kids) and kids[i + 1].tag == "transition":
            tr = kids[i + 1]
            end = _time(tr.get("offset"), fps) + _time(tr.get("duration"), fps)
            t_out = end - (offset + frames)
        out.append(("clip", el.get("name", ""), offset - t_in, start - t_in, frames + t_in + t_out))
    return out


CASES = [  # fps, crossfade frames, fade frames: odd and even lengths at each rate
    pytest.param(24, 17, 10, id="24fps-odd-crossfade"),
    pytest.param(24, 16, 9, id="24fps-odd-fade"),
    pytest.param(25, 15, 10, id="25fps-odd-crossfade"),
    pytest.param(30, 21, 12, id="30fps-odd-crossfade"),
    pytest.param(30, 20, 13, id="30fps-odd-fade"),
    pytest.param(60, 41, 24, id="60fps-odd-crossfade"),
    pytest.param(60, 40, 25, id="60fps-odd-fade"),
    pytest.param(60, 40, 24, id="60fps-even"),
]


def export(p: Path, fmt: str) -> Path:
    state = BuildState(p)
    try:
        return export_cut(load_project(p), state.lock, fmt, p / f"cut.{fmt}")
    finally:
        state.close()


@pytest.mark.parametrize("fps, cross, fade", CASES)
def test_otio_edl_and_fcpxml_place_clips_and_transitions_on_the_films_frames(
    tmp_path: Path, fps: int, cross: int, fade: int
) -> None:
    p = project(tmp_path / "p", fps, cross, fade, 0.32, 1.12)
    film = film_frames(fps, cross, fade, SCENES)
    tl = otio.adapters.read_from_file(str(export(p, "otio")))
    assert otio_frames(tl.tracks[0], fps) == film
    assert round(tl.duration().to_frames(fps)) == film[-1][2] + film[-1][4]
    edl = otio.adapters.read_from_file(str(export(p, "edl")), adapter_name="cmx_3600", rate=fps)

    # the EDL names no transition and ends each outgoing clip where the dissolve begins
    def unnamed(rows: list[tuple[str, str, int, int, int]]) -> list[tuple[object, ...]]:
        return [(k, n if k == "clip" else "", *r) for k, n, *r in rows]

    assert unnamed(otio_frames(edl.tracks[0], fps)) == unnamed(film)
    fcp = export(p, "fcpxml")
    text = fcp.read_text()
    assert fcpxml_frames(text, fps) == film
    root = ET.fromstring(text.split("\n", 2)[2])
    (effect,) = root.findall("./resources/effect")
    assert effect.get("uid") == "FxPlug:4731E73A-8DAC-4113-9A30-AE85B1761265"  # Cross Dissolve
    refs = [f.get("ref") for f in root.findall(".//transition/filter-video")]
    assert refs == [effect.get("id")] * 2
    back = otio.adapters.read_from_file(str(fcp), adapter_name="fcpx_xml")  # still reads back
    assert [c.name for c in back.find_clips()] == list("abcd")


def test_the_hostile_30fps_case_pinned(tmp_path: Path) -> None:
    """Scene a trimmed 0.3-3.5 s (96 frames), b crossfading in over 21 frames: the film
    plays b from frame 75 (source frame 33), the dissolve over frames 75-96."""
    p = project(tmp_path / "p", 30, 21, 12, 0.3, 1.1)
    tl = otio.adapters.read_from_file(str(export(p, "otio")))
    track = tl.tracks[0]
    trans = next(t for t in track if isinstance(t, otio.schema.Transition))
    rng = track.range_of_child(trans)
    assert (rng.start_time.to_frames(30), rng.duration.to_frames(30)) == (75, 21)
    a, b = list(track.find_clips())[:2]
    assert a.source_range.end_time_exclusive().to_frames(30) + trans.out_offset.to_frames(30) == 105
    assert b.source_range.start_time.to_frames(30) - trans.in_offset.to_frames(30) == 33
    text = export(p, "edl").read_text()
    lines = [ln.split() for ln in text.splitlines() if ln[:3].isdigit()]
    assert lines[0][-2:] == ["00:00:00:00", "00:00:02:15"]  # event 001: a until the dissolve
    assert lines[2][3] == "D" and lines[2][4:6] == ["021", "00:00:01:03"]  # b from source 33
