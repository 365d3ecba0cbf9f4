"""Smart rendering: untouched stretches of takes in the film's stream settings are copied as
whole GOPs; the film is the same cut as a full re-encode (frame count, timestamps, captions,
decoded frames within a PSNR bound) and decodes without errors."""

from __future__ import annotations

import hashlib
import re
import subprocess
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest
from helpers import write_project

import storyboard.cut.picture as picture
from storyboard.board.spec import load_project
from storyboard.cut.compose import ComposeResult, compose_film
from storyboard.cut.picture import chunk_codec_args
from storyboard.generate.state import BuildState, Take
from storyboard.media.ffmpeg import ffmpeg_exe
from storyboard.media.probe import probe

FPS = 10
SIZE = "128x72"


def take(
    path: Path,
    seconds: float,
    i: int,
    quality: int = 95,
    extra: tuple = (),
    gop: int = 7,
    fps: int = FPS,
) -> Path:
    """A test-pattern take with sound in the film's settings; a keyframe every 7 frames, so
    the copied stretches have partial GOPs at their edges."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi"]
        + ["-i", f"testsrc2=s={SIZE}:r={fps}:d={seconds}", "-f", "lavfi"]
        + ["-i", f"sine=f={300 + 50 * i}:r=48000:d={seconds}"]
        + [*chunk_codec_args("MP4", quality), *extra, "-g", str(gop), "-c:a", "aac", "-shortest"]
        + [str(path)],
        check=True,
    )
    return path


def project(
    root: Path, quality: int = 95, extra: tuple = (), gop: int = 7, fps: int = FPS, count: int = 3
) -> tuple[object, BuildState]:
    scenes = "".join(
        f"  - {{id: s{i}, prompt: 'Scene {i}.', duration: 4"
        + (", dialogue: [{who: A, line: 'Hello there.'}]" if i == 1 else "")
        + "}\n"
        for i in range(count)
    )
    p = write_project(
        root,
        "title: Smart\nscenes:\n" + scenes + "edit: {transition: {type: crossfade, duration: 0.5}, "
        "loudness: 'off', captions: srt}\n" + f"output: {{fps: {fps}, size: {SIZE}}}\n",
    )
    state = BuildState(p)
    for i in range(count):
        rel = f"build/takes/s{i}/take-1.mp4"
        take(p / rel, 4.0, i, quality, extra, gop, fps)
        state.lock[f"s{i}"] = Take(
            f"s{i}", 1, "k", None, f"t{i}", f"v{i}", None, None, rel, (p / rel).stat().st_size,
            hashlib.sha256((p / rel).read_bytes()).hexdigest(), 0.4, probe(p / rel).duration,
        )  # fmt: skip
    state.write_lock([f"s{i}" for i in range(count)])
    return load_project(p), state


def compose(
    root: Path, smart: bool, monkeypatch: pytest.MonkeyPatch, gop: int = 7, **kw: int
) -> ComposeResult:
    spec, state = project(root, gop=gop, **kw)
    with monkeypatch.context() as m:
        if not smart:  # the full re-encode of the same cut: no stretch qualifies for copying
            m.setattr(
                picture,
                "split_for_copy",
                lambda tl, chunks, root, fmt, codec, *a, **k: (chunks, {}, codec),
            )
        return compose_film(spec, state, log=lambda s: None)  # type: ignore[arg-type]


def packets(film: Path) -> list[int]:
    """Presentation timestamps of the film's video frames, in order."""
    out = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(film), "-map", "0:v", "-c", "copy"]
        + ["-f", "framecrc", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sorted(int(x.split(",")[2]) for x in out.splitlines() if x and not x.startswith("#"))


def times(film: Path) -> list[Fraction]:
    """When each of the film's video frames is shown (seconds, exact), in order: films of
    other time bases compare."""
    out = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(film), "-map", "0:v", "-c", "copy"]
        + ["-f", "framecrc", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    num, den = re.findall(r"#tb 0: (\d+)/(\d+)", out)[0]
    tick = Fraction(int(num), int(den))
    return [tick * t for t in packets(film)]


def psnr_per_frame(a: Path, b: Path) -> list[float]:
    out = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", str(a), "-i", str(b), "-filter_complex"]
        + ["[0:v][1:v]psnr=stats_file=-", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.findall(r"psnr_avg:(\S+)", out)
    return [99.0 if v == "inf" else float(v) for v in found]


def test_smart_render_copies_gops_and_matches_a_full_reencode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    smart = compose(tmp_path / "smart", True, monkeypatch)
    full = compose(tmp_path / "full", False, monkeypatch)
    assert full.frames_encoded == full.frames
    # the untouched stretches went through as whole GOPs: far fewer frames encoded
    assert 0 < smart.frames_encoded < smart.frames * 0.6, (smart.frames_encoded, smart.frames)
    assert smart.frames == full.frames == 4 * 3 * FPS - 2 * 5
    assert packets(smart.path) == packets(full.path)  # same frame count, same timestamps
    scores = psnr_per_frame(smart.path, full.path)
    assert len(scores) == smart.frames
    assert min(scores) > 32, scores  # both are the same frames, encoded at crf 17 or copied
    assert smart.captions is not None and full.captions is not None
    assert smart.captions.read_text() == full.captions.read_text()  # captions in place
    err = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(smart.path), "-f", "null", "-"],
        capture_output=True,
        text=True,
    )
    assert err.returncode == 0 and err.stderr.strip() == ""  # decodes without an error


def test_a_take_of_one_gop_is_copied_up_to_its_transition(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Takes of one GOP each (a keyframe only at their start, as many services make them): the
    first scene plays from its start, so its frames up to the crossfade are copied, as the
    leading packets of that GOP that show exactly those frames; only the crossfades and the
    partial GOPs of the later scenes' starts are encoded. Same frames as the full re-encode."""
    smart = compose(tmp_path / "smart", True, monkeypatch, gop=1000)
    full = compose(tmp_path / "full", False, monkeypatch, gop=1000)
    assert smart.frames == full.frames == 4 * 3 * FPS - 2 * 5
    # scene 0's frames 0..34 are copied but for the last of its B-frame group
    assert smart.frames_encoded <= full.frames - 30, (smart.frames_encoded, full.frames)
    assert packets(smart.path) == packets(full.path)
    scores = psnr_per_frame(smart.path, full.path)
    assert len(scores) == smart.frames and min(scores) > 32, scores
    err = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(smart.path), "-f", "null", "-"],
        capture_output=True,
        text=True,
    )
    assert err.returncode == 0 and err.stderr.strip() == ""


def test_chunks_of_a_fraction_of_a_millisecond_join_on_their_frames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hostile helper-50: at 30 fps a joined edge and window of 17 frames lasts 566.67 ms, and
    an MP4 says its length in whole milliseconds: the concat demuxer started the next chunk
    0.67 ms early, and each such join put the rest of the film 10 ticks earlier (38 ms, more
    than a frame ahead of its sound, after 60 scenes). Each part now lasts its frames."""
    smart = compose(tmp_path / "smart", True, monkeypatch, gop=30, fps=30, count=4)
    full = compose(tmp_path / "full", False, monkeypatch, gop=30, fps=30, count=4)
    step = packets(full.path)[1]
    assert packets(full.path) == [i * step for i in range(full.frames)]
    assert packets(smart.path) == packets(full.path)


def test_a_gop_is_copied_up_to_the_last_frame_its_leading_packets_show_whole() -> None:
    """The leading packets of a GOP can be copied when they show exactly its first frames (no
    B-frame of them shows a frame after the cut, none after the cut shows one before it)."""
    from storyboard.media.gop import StreamLayout

    # x264's order, a keyframe every 8 frames: I0 P3 B1 B2 P6 B4 B5 P7 | I8 P11 B9 B10 P15 ...
    ranks = (0, 3, 1, 2, 6, 4, 5, 7, 8, 11, 9, 10, 15, 13, 12, 14)
    lay = StreamLayout("sig", 16, (0, 8), (0, 8), ranks, True)
    assert lay.gops(0, 16) == (0, 16, 0, 16)  # both whole
    assert lay.gops(0, 14) == (0, 12, 0, 12)  # the first whole, then I8 P11 B9 B10
    assert lay.gops(8, 14) == (8, 12, 8, 12)  # a leading part alone
    assert lay.gops(0, 6) == (0, 4, 0, 4)  # I0 P3 B1 B2: 0..3
    assert lay.gops(0, 5) == (0, 4, 0, 4)
    assert lay.gops(0, 3) == (0, 1, 0, 1)  # the keyframe alone
    assert lay.gops(1, 8) is None  # no keyframe inside: nothing to copy
    assert lay.gops(8, 11) == (8, 9, 8, 9)


@pytest.mark.parametrize("tags", ["as the film's", "all three BT.709"])
def test_takes_in_their_own_x264_settings_are_copied_with_edges_encoded_to_match(
    tmp_path: Path, tags: str
) -> None:
    """Takes at another crf (other parameter sets than the film's chunks): their x264 options
    are read from their SEI and every encoded chunk uses them, so the film still joins. Takes
    tagged with BT.709 matrix, primaries and transfer (as most encoders write them) were never
    matched (round 7: ffmpeg 9 drops -color_primaries and -color_trc for libx264)."""
    full = ("-x264-params", "colorprim=bt709:transfer=bt709:colormatrix=bt709")
    spec, state = project(tmp_path / "p", quality=60, extra=full if tags != "as the film's" else ())
    logs: list[str] = []
    res = compose_film(spec, state, log=logs.append)  # type: ignore[arg-type]
    assert 0 < res.frames_encoded < res.frames * 0.6, (res.frames_encoded, res.frames)
    assert any("their own x264 settings" in line for line in logs), logs
    err = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(res.path), "-f", "null", "-"],
        capture_output=True,
        text=True,
    )
    assert err.returncode == 0 and err.stderr.strip() == ""  # decodes without an error
    assert len(packets(res.path)) == res.frames


def test_takes_whose_settings_cannot_be_read_are_encoded_whole(tmp_path: Path) -> None:
    spec, state = project(tmp_path / "p", quality=60)
    for take in state.lock.values():  # the x264 options (an SEI message) stripped out
        f = spec.root / take.file  # type: ignore[attr-defined]
        bare = f.with_name("bare.mp4")
        subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-i", str(f), "-map", "0", "-c", "copy"]
            + ["-bsf:v", "filter_units=remove_types=6", str(bare)],
            check=True,
        )
        bare.replace(f)
        state.lock[take.scene] = replace(
            take, sha256=hashlib.sha256(f.read_bytes()).hexdigest(), size=f.stat().st_size
        )
    logs: list[str] = []
    res = compose_film(spec, state, log=logs.append)  # type: ignore[arg-type]
    assert res.frames_encoded == res.frames
    assert any("encoded whole" in line for line in logs), logs


def test_stream_layouts_are_kept_by_content_key(tmp_path: Path) -> None:
    from storyboard.media.gop import layouts_cached, stream_layout

    clip = take(tmp_path / "a.mp4", 2.0, 0)
    cache = tmp_path / "media"
    first = layouts_cached([(clip, "key-a")], cache)[clip]
    assert first == stream_layout(clip) and first is not None
    kept = cache / "key-a.layout-3.json"
    assert kept.is_file()
    clip.write_bytes(b"")  # the cache answers without reading the file again
    assert layouts_cached([(clip, "key-a")], cache)[clip] == first
    kept.write_text("{broken")  # a damaged entry is read again (now: a file with no video)
    assert layouts_cached([(clip, "key-a")], cache)[clip] is None
    assert layouts_cached([(clip, "")], cache)[clip] is None  # no key: nothing kept


def test_the_emulators_full_size_clips_qualify_for_copying(tmp_path: Path) -> None:
    """Placeholders are made in the film's chunk settings with a keyframe every 2 s, so their
    untouched stretches are copied at the default film settings (draft clips are not)."""
    from storyboard.emulator.clips import ClipSpec, render_clip
    from storyboard.media.gop import encoder_signature, stream_layout

    film = encoder_signature(320, 180, 30, tuple(chunk_codec_args("MP4", 95)))
    clip = render_clip(ClipSpec("A red kite.", 320, 180, 4.0), tmp_path / "c.mp4")
    layout = stream_layout(clip)
    assert layout.signature == film
    assert layout.keyframes == (0, 60)  # a keyframe every 2 s at 30 fps
    assert layout.gops(15, 120) == (60, 120, 60, 120)  # the second GOP, copied whole
    lead = layout.gops(15, 105)  # the second GOP up to a crossfade out: its leading packets
    assert lead is not None and lead[0] == 60 and 95 <= lead[1] <= 105, lead
    draft = render_clip(ClipSpec("A red kite.", 320, 180, 4.0, draft=True), tmp_path / "d.mp4")
    assert stream_layout(draft).signature != film
