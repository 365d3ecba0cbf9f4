"""Export of the cut for editors: OTIO re-read, FCPXML and EDL through the adapters."""

from __future__ import annotations

import subprocess
from pathlib import Path

import opentimelineio as otio
import pytest
from helpers import write_project

from storyboard.board.spec import load_project
from storyboard.cli.main import main
from storyboard.cut.compose import compose_project
from storyboard.errors import StoryboardError
from storyboard.generate.integrity import sha256_file
from storyboard.generate.state import BuildState, Take
from storyboard.media.ffmpeg import ffmpeg_exe
from storyboard.media.probe import probe

BOARD = """
title: Export Test
defaults: {duration: 4}
scenes:
  - {id: a, prompt: "Scene a, the harbour."}
  - id: b
    prompt: "Scene b, the gulls."
    trim: {in: 0.4}
    transition: {type: crossfade, duration: 0.4}
  - id: c
    prompt: "Scene c, the boat."
    transition: {type: fade, duration: 0.6}
    dialogue: [{who: Ann, line: "There she goes."}]
edit: {loudness: "off"}
output: {fps: 25, size: 64x36}
"""


def clip(path: Path, seconds: float, color: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i",
         f"color=c={color}:s=64x36:r=25:d={seconds}", "-f", "lavfi", "-i",
         f"sine=f=440:r=48000:d={seconds}", "-map", "0:v", "-map", "1:a", "-c:v", "libx264",
         "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-t", str(seconds),
         str(path)],
        check=True,
    )  # fmt: skip


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return three_scenes(tmp_path)


def three_scenes(tmp_path: Path) -> Path:
    """A three-scene project whose lock points at generated clips."""
    p = write_project(tmp_path / "p", BOARD)
    state = BuildState(p)
    for i, (scene, color) in enumerate((("a", "red"), ("b", "green"), ("c", "blue"))):
        rel = f"build/takes/{scene}/take-1.mp4"
        clip(p / rel, 2.0, color)
        size = (p / rel).stat().st_size
        dur = probe(p / rel).duration
        state.lock[scene] = Take(
            scene,
            1,
            "k",
            None,
            f"t{i}",
            f"v{i}",
            None,
            None,
            rel,
            size,
            sha256_file(p / rel),
            0.4,
            dur,
        )
    state.write_lock(["a", "b", "c"])
    state.close()
    return p


def test_otio_has_one_clip_per_scene_with_its_source_range(project: Path) -> None:
    out = project / "cut.otio"
    assert main(["export", str(project), "--format", "otio", "-o", str(out)]) == 0
    tl = otio.adapters.read_from_file(str(out))
    clips = list(tl.find_clips())
    assert [c.name for c in clips] == ["a", "b", "c"]
    # frames at 25 fps, worked out by hand: a plays 0-2 s, b from 0.4 s (trim) for 1.6 s,
    # c for 2 s; a 10-frame crossfade and a 15-frame fade are centred on their cuts (the odd
    # frame before the cut: c starts 8 frames into the fade, b ends 7 frames before its end)
    ranges = [(c.source_range.start_time.value, c.source_range.duration.value) for c in clips]
    assert ranges == [(0, 45), (15, 28), (8, 42)]
    assert all(c.source_range.start_time.rate == 25 for c in clips)
    urls = [c.media_reference.target_url for c in clips]
    assert urls == [(project / f"build/takes/{s}/take-1.mp4").resolve().as_uri() for s in "abc"]
    transitions = [t for t in tl.tracks[0] if isinstance(t, otio.schema.Transition)]
    assert [(t.in_offset.value, t.out_offset.value) for t in transitions] == [(5, 5), (8, 7)]
    assert [t.metadata["storyboard"]["transition"] for t in transitions] == ["crossfade", "fade"]
    assert [m.name for c in clips for m in c.markers] == ["Ann: There she goes."]
    marker = clips[2].markers[0].marked_range
    assert clips[2].source_range.contains(marker.start_time)


def test_timeline_length_equals_the_films_within_one_frame(project: Path) -> None:
    spec = load_project(project)
    state = BuildState(project)
    film = compose_project(spec, state, log=lambda _m: None)
    state.close()
    assert main(["export", str(project), "-o", str(project / "cut.otio")]) == 0
    tl = otio.adapters.read_from_file(str(project / "cut.otio"))
    assert abs(tl.duration().to_seconds() - probe(film).duration) <= 1 / 25 + 1e-6
    assert tl.duration().to_seconds() == pytest.approx(4.6)


@pytest.mark.parametrize("fmt, adapter", [("fcpxml", "fcpx_xml"), ("edl", "cmx_3600")])
def test_fcpxml_and_edl_are_written_by_the_adapters_and_read_back(
    project: Path, fmt: str, adapter: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", str(project), "--format", fmt]) == 0
    out = Path(capsys.readouterr().out.strip())
    assert out == project / "build" / f"export-test.{fmt}"
    extra = {"rate": 25} if fmt == "edl" else {}
    back = otio.adapters.read_from_file(str(out), adapter_name=adapter, **extra)
    assert len(list(back.find_clips())) >= 3
    if fmt == "edl":
        text = out.read_text()
        assert "S01T001" in text and "S03T001" in text  # one reel per take file
        assert "ANN: THERE SHE GOES." in text.upper()


def test_export_before_any_render_is_one_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = write_project(tmp_path / "q", BOARD)
    assert main(["export", str(p), "--format", "edl"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"no take yet for a, b, c: run `storyboard render {p}` first"


def test_edl_of_a_film_at_a_rate_without_timecode_is_refused_clearly(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    board = project / "storyboard.yaml"
    board.write_text(board.read_text().replace("fps: 25", "fps: 10"))
    assert main(["export", str(project), "--format", "edl"]) == 1
    assert capsys.readouterr().err.strip() == (
        "an EDL needs a timecode frame rate (24, 25, 30, 48, 50 or 60 fps); "
        "this film is 10 fps (output.fps): export otio or fcpxml instead"
    )
    assert not (project / "build" / "export-test.edl").exists()


def test_the_films_size_and_framing_travel_with_the_timeline(project: Path) -> None:
    """hostile helper-45: a 720x1280 variant's OTIO and FCPXML were the main film's but for
    the file names: no frame size, so an editor built a 16:9 sequence."""
    board = project / "storyboard.yaml"
    board.write_text(board.read_text().replace("size: 64x36}", "size: 36x64}"), encoding="utf-8")
    assert main(["export", str(project), "-o", str(project / "cut.otio")]) == 0
    tl = otio.adapters.read_from_file(str(project / "cut.otio"))
    found = {k: list(v) if k == "focus" else v for k, v in tl.metadata["storyboard"].items()}
    assert found == {
        "width": 36,
        "height": 64,
        "fps": 25,
        "reframe": "pad",
        "focus": [0.5, 0.5],
    }
    assert (
        main(["export", str(project), "--format", "fcpxml", "-o", str(project / "cut.fcpxml")]) == 0
    )
    from xml.dom import minidom

    doc = minidom.parse(str(project / "cut.fcpxml"))
    sequence = doc.getElementsByTagName("sequence")[0]
    formats = {f.getAttribute("id"): f for f in doc.getElementsByTagName("format")}
    used = formats[sequence.getAttribute("format")]
    assert (used.getAttribute("width"), used.getAttribute("height")) == ("36", "64")
    # the takes keep their own format (helper-46 F13: the sequence's was theirs too, so an
    # editor would have read the 64x36 clips as 36x64)
    for asset in doc.getElementsByTagName("asset") + doc.getElementsByTagName("asset-clip"):
        if asset.hasAttribute("format"):
            assert asset.getAttribute("format") != sequence.getAttribute("format")


def _videos(path: Path) -> list[object]:
    """The ``<video>`` element of each clip in the sequence's spine, in order."""
    from xml.dom import minidom

    doc = minidom.parse(str(path))
    spine = doc.getElementsByTagName("sequence")[0].getElementsByTagName("spine")[0]
    clips = [n for n in spine.childNodes if getattr(n, "tagName", "") == "clip"]
    return [next(n for n in c.childNodes if getattr(n, "tagName", "") == "video") for c in clips]


def _adjustments(video: object) -> dict[str, dict[str, str]]:
    return {
        n.tagName: dict(n.attributes.items())  # type: ignore[attr-defined]
        for n in video.childNodes  # type: ignore[attr-defined]
        if getattr(n, "tagName", "").startswith("adjust-")
    }


@pytest.mark.parametrize(
    ("framing", "position"),
    [
        # 64x36 takes filling 36x64: scaled to 113.78x64, so 77.78 px overflow; the crop keeps
        # from 0.2 of it (15.56 px in), moving the take 0.3 x 77.78 = 23.33 px right of centre,
        # 36.46 % of the 64 px frame height (Final Cut's unit)
        ("{size: 36x64, reframe: crop, focus: [0.2, 0.5]}", "36.4583 0"),
        ("{size: 36x64, reframe: crop}", None),  # centred: filling is all it takes
        # 64x36 takes filling 64x64: 113.78x64 again, 49.78 px over; from 0.9 of it, 0.4 of it
        # left of centre; no vertical overflow, so the vertical focus moves nothing
        ("{size: 64x64, reframe: crop, focus: [0.9, 0.1]}", "-31.1111 0"),
        # filling 128x36: 128x72, 36 px over in height; kept from 0.1 of it: the take moves
        # 0.4 x 36 = 14.4 px down (Final Cut's y is up), 40 % of the 36 px frame height
        ("{size: 128x36, reframe: crop, focus: [0.5, 0.1]}", "0 -40"),
    ],
)
def test_a_cropped_variant_tells_final_cut_to_fill_the_frame_where_the_film_does(
    project: Path, framing: str, position: str | None
) -> None:
    """Left alone since hostile helper-45: a crop variant's FCPXML let Final Cut fit each 16:9
    take into the 9:16 frame (its default: letterboxed), so the editor saw another picture
    than the film. Each take now fills the frame (``adjust-conform``) and is moved to the
    film's crop (``adjust-transform``); the OTIO clip says the same in its metadata."""
    board = project / "storyboard.yaml"
    board.write_text(board.read_text() + f"variants:\n  vertical: {framing}\n", encoding="utf-8")
    (project / "storyboard.vertical.lock").write_bytes((project / "storyboard.lock").read_bytes())
    out = project / "cut.fcpxml"
    assert main(["export", str(project), "--variant", "vertical", "--format", "fcpxml",
                 "-o", str(out)]) == 0  # fmt: skip
    videos = _videos(out)
    assert len(videos) == 3
    for video in videos:
        adjust = _adjustments(video)
        assert adjust["adjust-conform"] == {"type": "fill"}
        if position is None:
            assert "adjust-transform" not in adjust
        else:
            assert adjust["adjust-transform"] == {"position": position}
        # the DTD's order: the adjustments come first in a <video>
        kids = [n for n in video.childNodes if getattr(n, "tagName", "")]  # type: ignore[attr-defined]
        assert [k.tagName for k in kids[: len(adjust)]] == sorted(adjust)
    assert main(["export", str(project), "--variant", "vertical", "-o",
                 str(project / "cut.otio")]) == 0  # fmt: skip
    clips = list(otio.adapters.read_from_file(str(project / "cut.otio")).find_clips())
    x, y = (float(v) for v in (position or "0 0").split())
    for c in clips:
        framing_md = dict(c.metadata["storyboard"]["framing"])
        assert framing_md["conform"] == "fill"
        assert [round(v, 4) for v in framing_md["position"]] == [x, y]
        assert list(framing_md["take_size"]) == [64, 36]


def test_the_main_film_and_a_letterboxed_variant_leave_final_cut_its_default(
    project: Path,
) -> None:
    """Takes at the film's own shape, or letterboxed (``pad``: Final Cut's default, fit), get
    no adjustment."""
    board = project / "storyboard.yaml"
    board.write_text(
        board.read_text() + "variants:\n  square: {size: 64x64, reframe: pad}\n", encoding="utf-8"
    )
    (project / "storyboard.square.lock").write_bytes((project / "storyboard.lock").read_bytes())
    for variant in ("main", "square"):
        out = project / f"{variant}.fcpxml"
        assert main(["export", str(project), "--variant", variant, "--format", "fcpxml",
                     "-o", str(out)]) == 0  # fmt: skip
        assert all(_adjustments(v) == {} for v in _videos(out))


def test_an_asset_clip_in_the_spine_gets_its_framing_after_its_timing() -> None:
    """Another adapter version may write ``<asset-clip>`` in the spine: its adjustments go
    after its timing elements, as the DTD orders them; a ``<clip>`` with no ``<video>`` to
    frame is refused in words, never left letterboxed."""
    from xml.dom import minidom

    from storyboard.cut.export import fcpxml_framing

    track = otio.schema.Track()
    framed = {"storyboard": {"framing": {"conform": "fill", "position": [12.5, 0.0]}}}
    track.append(otio.schema.Clip(name="a", metadata=framed))
    text = (
        '<fcpxml version="1.8"><resources/><project><sequence format="r1"><spine>'
        '<asset-clip ref="r2" duration="1s"><timeMap/><marker start="0s" value="x"/>'
        "</asset-clip></spine></sequence></project></fcpxml>"
    )
    clip = minidom.parseString(fcpxml_framing(text, track)).getElementsByTagName("asset-clip")[0]
    assert [n.tagName for n in clip.childNodes] == [
        "timeMap", "adjust-conform", "adjust-transform", "marker"
    ]  # fmt: skip
    assert clip.getElementsByTagName("adjust-transform")[0].getAttribute("position") == "12.5 0"
    bare = text.replace("asset-clip", "clip").replace("<timeMap/>", "")
    with pytest.raises(StoryboardError, match="clip 'a' has no video element"):
        fcpxml_framing(bare, track)


@pytest.mark.parametrize("at", ["0.1", "0.5"])
def test_a_line_in_a_transition_has_one_marker_at_its_time(tmp_path: Path, at: str) -> None:
    """A line that starts inside the fade into its scene: one marker, where the captions put
    it (hostile helper-57: one on each clip, the incoming one's clamped to its first frame)."""
    p = three_scenes(tmp_path)
    board = p / "storyboard.yaml"
    board.write_text(
        board.read_text().replace(
            '{who: Ann, line: "There she goes."}',
            f'{{who: Ann, line: "There she goes.", at: {at}}}',
        )
    )
    from storyboard.cut.export import lock_timeline

    spec = load_project(p)
    state = BuildState(p)
    (caption,) = lock_timeline(spec, state.lock).captions
    state.close()
    out = p / "cut.otio"
    assert main(["export", str(p), "--format", "otio", "-o", str(out)]) == 0
    tl = otio.adapters.read_from_file(str(out))
    marked = [(c, m) for c in tl.find_clips() for m in c.markers]
    assert len(marked) == 1, [(c.name, m.marked_range) for c, m in marked]
    clip, marker = marked[0]
    shown = clip.range_in_parent().start_time.value + (
        marker.marked_range.start_time.value - clip.source_range.start_time.value
    )
    assert shown == round(caption.start * 25), (shown, caption.start * 25)


def test_an_edl_names_each_marker_once_on_its_own_clip(tmp_path: Path) -> None:
    """A dissolve's event repeats its outgoing clip's comments: the adapter wrote that clip's
    LOC lines there again, and a reader (OTIO's own) put them on the incoming clip too."""
    p = three_scenes(tmp_path)
    board = p / "storyboard.yaml"
    board.write_text(
        board.read_text().replace(
            '{id: a, prompt: "Scene a, the harbour."}',
            '{id: a, prompt: "Scene a, the harbour.", dialogue: [{who: Bo, line: "Ahoy."}]}',
        )
    )
    out = p / "cut.edl"
    assert main(["export", str(p), "--format", "edl", "-o", str(out)]) == 0
    back = otio.adapters.read_from_file(str(out), adapter_name="cmx_3600", rate=25)
    marked = {c.name: [m.name for m in c.markers] for c in back.find_clips()}
    assert marked == {"a": ["BO: AHOY."], "b": [], "c": ["ANN: THERE SHE GOES."]}, marked
    assert out.read_text().count("* LOC:") == 2
