"""Smart rendering refuses takes whose packets do not map one to one onto the frames the
edges see: an edit list that hides packets, video that starts after the file, keyframes that
are not IDR pictures (intra refresh, open GOPs). Each such take is encoded whole, and the film
is the same cut as a full re-encode (frame count, timestamps, decoded frames, no decode
error)."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import write_project
from test_smart_render import FPS, SIZE, psnr_per_frame, times

import storyboard.cut.picture as picture
from storyboard.board.spec import load_project
from storyboard.cut.compose import ComposeResult, compose_film
from storyboard.cut.picture import chunk_codec_args
from storyboard.generate.state import BuildState, Take
from storyboard.media.ffmpeg import ffmpeg_exe
from storyboard.media.gop import stream_layout
from storyboard.media.probe import probe

FF = ffmpeg_exe()
CROSSFADE = "{transition: {type: crossfade, duration: 0.5}, loudness: 'off', captions: srt}"
CUT = "{transition: cut, loudness: 'off', captions: srt}"
Post = Callable[[Path], None]


def make_take(path: Path, i: int, x264: list[str], post: Post | None) -> None:
    """A 4 s test-pattern take with sound in the film's settings plus ``x264``, then ``post``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [FF, "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=s={SIZE}:r={FPS}:d=4"]
        + ["-f", "lavfi", "-i", f"sine=f={300 + 50 * i}:r=48000:d=4"]
        + [*chunk_codec_args("MP4", 95), "-g", "7", *x264, "-c:a", "aac", "-shortest"]
        + [str(path)],
        check=True,
    )
    if post is not None:
        post(path)


def remux(before: list[str], after: list[str], second: bool = False) -> Post:
    """``ffmpeg [before] -i take [-i take] [after] -c copy``, in place."""

    def post(path: Path) -> None:
        tmp = path.with_name("remuxed.mp4")
        inputs = ["-i", str(path)] + (["-i", str(path)] if second else [])
        subprocess.run(
            [FF, "-v", "error", "-y", *before, *inputs, *after, "-c", "copy", str(tmp)],
            check=True,
        )
        tmp.replace(path)

    return post


def compose(
    root: Path,
    smart: bool,
    monkeypatch: pytest.MonkeyPatch,
    x264: list[str],
    post: Post | None = None,
    edit: str = CROSSFADE,
    scene: str = "",
    logs: list[str] | None = None,
) -> ComposeResult:
    scenes = "".join(
        f"  - {{id: s{i}, prompt: 'Scene {i}.', duration: 4{scene}}}\n" for i in range(3)
    )
    p = write_project(
        root, f"title: Smart\nscenes:\n{scenes}edit: {edit}\noutput: {{fps: {FPS}, size: {SIZE}}}\n"
    )
    state = BuildState(p)
    for i in range(3):
        rel = f"build/takes/s{i}/take-1.mp4"
        make_take(p / rel, i, x264, post)
        state.lock[f"s{i}"] = Take(
            f"s{i}", 1, "k", None, f"t{i}", f"v{i}", None, None, rel, (p / rel).stat().st_size,
            hashlib.sha256((p / rel).read_bytes()).hexdigest(), 0.4, probe(p / rel).duration,
        )  # fmt: skip
    state.write_lock([f"s{i}" for i in range(3)])
    spec = load_project(p)
    with monkeypatch.context() as m:
        if not smart:  # the full re-encode of the same cut
            m.setattr(
                picture,
                "split_for_copy",
                lambda tl, chunks, root, fmt, codec, *a, **k: (chunks, {}, codec),
            )
        return compose_film(spec, state, log=(logs.append if logs is not None else lambda s: None))  # type: ignore[arg-type]


def same_cut(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **kw: object) -> list[str]:
    """Composes the film both ways and checks they are the same cut; returns the smart logs."""
    logs: list[str] = []
    smart = compose(tmp_path / "smart", True, monkeypatch, logs=logs, **kw)  # type: ignore[arg-type]
    full = compose(tmp_path / "full", False, monkeypatch, **kw)  # type: ignore[arg-type]
    assert smart.frames == full.frames
    assert times(smart.path) == times(full.path)  # same frame count, same timestamps
    scores = psnr_per_frame(smart.path, full.path)
    assert len(scores) == smart.frames
    assert min(scores) > 32, scores
    err = subprocess.run(
        [FF, "-v", "error", "-i", str(smart.path), "-f", "null", "-"],
        capture_output=True,
        text=True,
    )
    assert err.returncode == 0 and err.stderr.strip() == "", err.stderr  # decodes cleanly
    return logs


def encoded_whole(logs: list[str], reason: str) -> bool:
    """The log names every take as encoded whole, for ``reason``."""
    return any("takes of s0, s1, s2 are encoded whole" in line and reason in line for line in logs)


def test_an_edit_list_that_hides_the_first_packets_is_not_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ffmpeg -ss 0.35 -i take -c copy``: the packets before 0.35 s stay in the file, hidden
    by an edit list; copying GOPs counted from the first packet put frames out of place."""
    logs = same_cut(tmp_path, monkeypatch, x264=[], post=remux(["-ss", "0.35"], []))
    assert encoded_whole(logs, "an edit list hides"), logs


def test_a_take_cut_by_output_seeking_is_not_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ffmpeg -i take -ss 0.35 -c copy``: the video starts at 0.35 s, not at the file's start."""
    logs = same_cut(tmp_path, monkeypatch, x264=[], post=remux([], ["-ss", "0.35"]))
    assert encoded_whole(logs, "does not start at 0"), logs


def test_video_that_starts_after_its_sound_is_not_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    post = remux(["-itsoffset", "0.3"], ["-map", "0:v", "-map", "1:a"], second=True)
    logs = same_cut(tmp_path, monkeypatch, x264=[], post=post)
    assert encoded_whole(logs, "first frame at 0.3 s"), logs


def test_intra_refresh_takes_are_not_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Periodic intra refresh: the "keyframes" are recovery points on P pictures, which
    predict from frames before them; no GOP of such a take stands alone."""
    x264 = ["-bf", "0", "-x264-params", "intra-refresh=1"]
    logs = same_cut(tmp_path, monkeypatch, x264=x264, edit=CUT, scene=", trim: {in: 0.7}")
    assert encoded_whole(logs, "not all IDR"), logs


def test_open_gop_takes_are_not_copied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An open GOP starts on an I picture that is not IDR: what follows may refer across it."""
    logs = same_cut(tmp_path, monkeypatch, x264=["-x264-params", "open-gop=1"])
    assert encoded_whole(logs, "not all IDR"), logs


def test_layouts_name_why_a_take_cannot_be_copied(tmp_path: Path) -> None:
    plain = tmp_path / "plain.mp4"
    make_take(plain, 0, [], None)
    assert stream_layout(plain).unsafe == ""
    cases: dict[str, tuple[list[str], Post | None]] = {
        "hidden": ([], remux(["-ss", "0.35"], [])),
        "late": ([], remux([], ["-ss", "0.35"])),
        "offset": ([], remux(["-itsoffset", "0.3"], ["-map", "0:v", "-map", "1:a"], True)),
        "refresh": (["-bf", "0", "-x264-params", "intra-refresh=1"], None),
        "open": (["-x264-params", "open-gop=1"], None),
    }
    for name, (x264, post) in cases.items():
        f = tmp_path / f"{name}.mp4"
        make_take(f, 0, x264, post)
        assert stream_layout(f).unsafe, name


def test_a_layout_kept_before_unsafe_was_read_is_read_again(tmp_path: Path) -> None:
    """A cache entry written before layouts said whether they are safe to copy does not make
    an open-GOP take look safe: it is read again."""
    import json
    from dataclasses import asdict

    from storyboard.media.gop import layouts_cached

    f = tmp_path / "open.mp4"
    make_take(f, 0, ["-x264-params", "open-gop=1"], None)
    cache = tmp_path / "media"
    cache.mkdir()
    old = asdict(stream_layout(f))
    del old["unsafe"]
    (cache / "key-o.layout-1.json").write_text(json.dumps(old))
    layout = layouts_cached([(f, "key-o")], cache)[f]
    assert layout is not None and "IDR" in layout.unsafe


def test_nal_unit_types_are_read_from_either_framing() -> None:
    from storyboard.media.gop import nal_types

    sei, idr = b"\x06\x05\x01\x80", b"\x65\x88\x84\x00"
    mp4 = len(sei).to_bytes(4, "big") + sei + len(idr).to_bytes(4, "big") + idr
    assert nal_types(mp4) == [6, 5]
    assert nal_types(b"\0\0\0\1" + sei + b"\0\0\1" + b"\x41\x9a") == [6, 1]
    assert nal_types(mp4[:-1]) is None  # lengths that do not add up
    assert nal_types(b"") == []


@pytest.mark.parametrize("gop", ["7", "1000"])
def test_takes_of_a_coarse_time_scale_are_copied_in_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gop: str
) -> None:
    """Hostile helper-50: takes with QuickTime's time scale (600 ticks a second) made a film
    whose frames were not evenly timed, and the compose refused it, with --force too: their
    copied packets came out at 1/19200 s beside chunks encoded at 1/600 s."""
    x264 = ["-video_track_timescale", "600", "-g", gop]
    logs = same_cut(tmp_path, monkeypatch, x264=x264)
    assert not any("are encoded whole" in line for line in logs), logs
    assert any("their own x264 settings" in line for line in logs), logs
    plan = next(line.split() for line in logs if " to encode, " in line)
    assert int(plan[3]) < int(plan[1]), plan  # the copied GOPs are not encoded
