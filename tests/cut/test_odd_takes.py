"""The cut fed with takes a real service could return (hostile helper-60): a phone video's
rotation, non-square pixels, 10-bit H.264, a variable frame rate, video that starts after its
sound. Each is composed as a storyboard film would be, and checked against what the take
shows when played and against the same cut re-encoded in full. Found, before: the smart path
copied a turned take's GOPs as stored, and the copy path joined turned, anamorphic, 10-bit,
unevenly timed and late takes as they were; a 2:1-pixel take was squeezed, not letterboxed;
and a smart-rendered film's decode times were squeezed at its joins."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from helpers import write_project
from oddtakes import FF, ff, lock_takes, psnr, take

import storyboard.cut.picture as picture
from storyboard.board.spec import load_project
from storyboard.cut.compose import ComposeResult, compose_film

FPS = 10
W, H = 128, 72
CUT = "{transition: cut, loudness: 'off', captions: srt}"
CROSSFADE = "{transition: {type: crossfade, duration: 0.5}, loudness: 'off', captions: srt}"
Maker = Callable[[Path, int], None]


def plain(path: Path, i: int) -> None:
    take(path, i)


def rotated(degrees: int) -> Maker:
    """A phone video: the picture stored as it was shot, with a display matrix."""
    return lambda path, i: take(path, i, before=("-display_rotation:v:0", str(degrees)))


def compose(
    root: Path, makers: list[Maker], edit: str, smart: bool = True, logs: list[str] | None = None
) -> ComposeResult:
    scenes = "".join(
        f"  - {{id: s{i}, prompt: 'Scene {i}.', duration: 4}}\n" for i in range(len(makers))
    )
    p = write_project(
        root, f"title: Odd\nscenes:\n{scenes}edit: {edit}\noutput: {{fps: {FPS}, size: {W}x{H}}}\n"
    )
    state = lock_takes(p, makers)
    spec = load_project(p)
    saved = picture.split_for_copy
    if not smart:  # the same cut re-encoded in full: nothing copied
        picture.split_for_copy = lambda tl, chunks, root, fmt, codec, *a, **k: (chunks, {}, codec)
    try:
        return compose_film(spec, state, log=(logs.append if logs is not None else lambda s: None))  # type: ignore[arg-type]
    finally:
        picture.split_for_copy = saved


def report(film: Path) -> str:
    return subprocess.run(
        [FF, "-hide_banner", "-i", str(film)], capture_output=True, text=True
    ).stderr


def frame_rgb(film: Path, t: float) -> np.ndarray:
    """The frame shown at ``t`` s, as a player shows it (display matrix and aspect applied),
    at the film's size in square pixels."""
    out = subprocess.run(
        [FF, "-v", "error", "-ss", f"{t:.3f}", "-i", str(film), "-frames:v", "1"]
        + [
            "-vf",
            f"scale=iw*sar:ih,setsar=1,scale={W}:{H}:force_original_aspect_ratio=decrease,"
            f"pad={W}:{H}:(ow-iw)/2:(oh-ih)/2",
        ]
        + ["-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(out, np.uint8).reshape(H, W, 3).astype(np.float64)


def all_frames(film: Path) -> np.ndarray:
    """Every frame of ``film`` as a player shows it (see :func:`frame_rgb`)."""
    out = subprocess.run(
        [FF, "-v", "error", "-i", str(film), "-fps_mode", "passthrough"]
        + [
            "-vf",
            f"scale=iw*sar:ih,setsar=1,scale={W}:{H}:force_original_aspect_ratio=decrease,"
            f"pad={W}:{H}:(ow-iw)/2:(oh-ih)/2",
        ]
        + ["-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(out, np.uint8).reshape(-1, H, W, 3).astype(np.float64)


def times(film: Path) -> list[Fraction]:
    out = subprocess.run(
        [FF, "-v", "error", "-i", str(film), "-map", "0:v", "-c", "copy", "-f", "framecrc", "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    num, den = re.findall(r"#tb 0: (\d+)/(\d+)", out)[0]
    pts = sorted(int(x.split(",")[2]) for x in out.splitlines() if x and not x.startswith("#"))
    return [Fraction(int(num), int(den)) * t for t in pts]


def clean_decode(film: Path) -> str:
    e = subprocess.run(
        [FF, "-v", "error", "-i", str(film), "-f", "null", "-"], capture_output=True, text=True
    )
    return e.stderr.strip() if e.returncode == 0 else f"rc {e.returncode}: {e.stderr}"


# -- rotation: the display matrix of a phone video ----------------------------------------------


@pytest.mark.parametrize(("first", "degrees"), [(False, 90), (True, 180)])
def test_a_rotated_take_is_shown_the_same_whether_its_gops_are_copied_or_encoded(
    tmp_path: Path, first: bool, degrees: int
) -> None:
    """A phone video (stored landscape, display matrix 90 or 180 degrees) among plain takes,
    crossfaded. The full re-encode shows it turned as the matrix says (decoded with ffmpeg's
    autorotate, pillarboxed when it stands upright). The smart path copies its GOPs as stored,
    and the matrix is not in the stream signature: its copied stretch was shown sideways
    (90: 28 frames of the middle scene, PSNR ~8 dB against the full re-encode). As the first
    take (180), its matrix went into the film's track header, so players turned the whole film:
    the other scenes upside down, and the rotated take's own encoded edges too."""
    makers = [rotated(degrees), plain, plain] if first else [plain, rotated(degrees), plain]
    smart = compose(tmp_path / "smart", makers, CROSSFADE)
    full = compose(tmp_path / "full", makers, CROSSFADE, smart=False)
    assert smart.frames == full.frames == 110
    assert "rotation" not in report(full.path)
    a, b = all_frames(smart.path), all_frames(full.path)
    assert len(a) == len(b) == 110
    bad = [round(k / FPS, 1) for k in range(len(a)) if psnr(a[k], b[k]) < 30]
    assert bad == [], f"frames shown otherwise than the full re-encode at {bad} s"


def test_a_rotated_take_keeps_its_orientation_on_the_stream_copy_path(tmp_path: Path) -> None:
    """Plain cuts: the takes are joined by stream copy. The middle take is a phone video turned
    180 degrees by its display matrix; the joined film has no matrix, so that scene plays upside
    down, unlike the same take in any film with a transition (the full path turns it)."""
    makers = [plain, rotated(180), plain]
    film = compose(tmp_path / "cut", makers, CUT)
    shown = frame_rgb(film.path, 5.0)  # scene s1, its frame 10
    src = tmp_path / "cut" / "build" / "takes" / "s1" / "take-1.mp4"
    played = frame_rgb(src, 1.0)  # the take as a player shows it (turned)
    assert psnr(shown, played) > 30, (
        f"scene s1 not shown as its take plays ({psnr(shown, played):.1f} dB)"
    )


# -- non-square pixels ----------------------------------------------------------------------------


def test_an_anamorphic_first_take_does_not_stretch_the_whole_stream_copied_film(
    tmp_path: Path,
) -> None:
    """Plain cuts, the first take with 2:1 pixels (128x72 stored, 256x72 shown): the film was
    joined by stream copy and took that take's aspect (SAR 2:1, DAR 32:9) for its whole track,
    so every other, square-pixel scene played twice as wide as it is."""
    anamorphic = lambda p, i: take(p, i, vf="setsar=2")  # noqa: E731
    film = compose(tmp_path / "cut", [anamorphic, plain, plain], CUT)
    src = tmp_path / "cut" / "build" / "takes" / "s1" / "take-1.mp4"
    shown, played = frame_rgb(film.path, 5.0), frame_rgb(src, 1.0)
    assert psnr(shown, played) > 30, (
        f"the square-pixel scene s1 is not shown as it is ({psnr(shown, played):.1f} dB); "
        + re.search(r"Video: [^\n]*", report(film.path)).group(0)  # type: ignore[union-attr]
    )


def test_an_anamorphic_take_is_letterboxed_not_squeezed(tmp_path: Path) -> None:
    """README: clips of another size are letterboxed or pillarboxed, never stretched. A take
    of 128x72 stored pixels at 2:1 shows as 256x72 (32:9); in a 16:9 film it belongs in a
    128x36 band, black above and below. It was scaled as if its pixels were square: squeezed
    to half its width, no bars."""
    anamorphic = lambda p, i: take(p, i, vf="setsar=2")  # noqa: E731
    film = compose(tmp_path / "x", [plain, anamorphic, plain], CROSSFADE)
    shown = frame_rgb(film.path, 5.0)  # s1 alone (s1 starts at 3.5 s; its crossfade out at 7 s)
    top, bottom = shown[:14].mean(), shown[-14:].mean()
    assert top < 20 and bottom < 20, (
        f"no letterbox bars over the 32:9 take ({top:.0f}, {bottom:.0f})"
    )


# -- 10-bit H.264 ---------------------------------------------------------------------------------

TEN_BIT = ("-pix_fmt", "yuv420p10le", "-profile:v", "high10")


def test_ten_bit_takes_make_a_yuv420p_film(tmp_path: Path) -> None:
    """README: every output format is one pixel format, yuv420p (H.264 ... plays in a browser).
    Plain cuts of 10-bit H.264 takes (High 10, as some services deliver) were stream-copied
    into a High 10 yuv420p10le film, which browsers do not play."""
    ten = lambda p, i: take(p, i, extra=TEN_BIT)  # noqa: E731
    film = compose(tmp_path / "cut", [ten, ten, ten], CUT)
    video = re.search(r"Video: [^\n]*", report(film.path)).group(0)  # type: ignore[union-attr]
    assert "yuv420p(" in video and "High 10" not in video, video


def test_one_ten_bit_take_does_not_switch_the_film_to_ten_bits_midway(tmp_path: Path) -> None:
    """Plain cuts, the middle take 10-bit: the joined film's track says High, 8-bit, and its
    middle scene's packets carry a High 10 SPS of their own (the decoder reconfigures to
    yuv420p10le there)."""
    ten = lambda p, i: take(p, i, extra=TEN_BIT)  # noqa: E731
    film = compose(tmp_path / "cut", [plain, ten, plain], CUT)
    out = subprocess.run(
        [FF, "-hide_banner", "-i", str(film.path), "-vf", "showinfo", "-f", "null", "-"],
        capture_output=True, text=True,
    ).stderr  # fmt: skip
    formats = set(re.findall(r"fmt:(\w+)", out))
    assert formats == {"yuv420p"}, formats


# -- timing ---------------------------------------------------------------------------------------


def test_a_variable_frame_rate_take_does_not_make_an_uneven_stream_copied_film(
    tmp_path: Path,
) -> None:
    """Plain cuts, the middle take's frames unevenly timed (one 50 ms late, on average still
    10 fps, as a phone's are): the copy path checks the average rate only, and the film's
    frame at 5.05 s sits off the 10 fps grid; `ffmpeg -v error -i film -f null -` reports
    non-monotonic timestamps."""
    shift = r"setts=ts=if(eq(PTS\,10240)\,PTS+512\,PTS)"
    vfr = lambda p, i: take(p, i, extra=("-bf", "0"), after=("-bsf:v", shift))  # noqa: E731
    film = compose(tmp_path / "cut", [plain, vfr, plain], CUT)
    got = times(film.path)
    assert got == [Fraction(k, FPS) for k in range(film.frames)], [
        float(t) for t in got if t * FPS != int(t * FPS)
    ]
    assert clean_decode(film.path) == ""


def test_video_that_starts_after_its_sound_keeps_a_stream_copied_film_frame_exact(
    tmp_path: Path,
) -> None:
    """Plain cuts, the middle take's picture starting 0.4 s after its sound (an empty edit, as
    a muxer that lines streams up by wall clock writes). The copy path only checks sound that
    starts late; the film claimed 124 frames over 12.4 s and held 120, with a 0.5 s hole
    where the middle scene starts (3.9 s, then 4.4 s)."""

    def make(path: Path, i: int) -> None:  # the picture from the offset input, sound from 0
        take(path, i)
        tmp = path.with_name("late.mp4")
        ff("-itsoffset", "0.4", "-i", str(path), "-i", str(path), "-map", "0:v", "-map", "1:a",
           "-c", "copy", str(tmp))  # fmt: skip
        tmp.replace(path)

    film = compose(tmp_path / "cut", [plain, make, plain], CUT)
    got = times(film.path)
    assert len(got) == film.frames, (len(got), film.frames)
    assert got == [Fraction(k, FPS) for k in range(film.frames)]


# -- the smart path's joins -----------------------------------------------------------------------


def test_a_smart_rendered_film_exports_as_many_frames_as_it_has(tmp_path: Path) -> None:
    """Three plain takes in the film's own settings, crossfaded: the smart path copies their
    GOPs. The presentation times are right (what test_smart_render checks), but the decode
    times at each join of an encoded edge to copied GOPs are squeezed: sample durations 3072,
    1, 1, 1022 ticks where every other is 1024 (the full re-encode: all 1024). ffmpeg's own
    constant-rate outputs follow those durations: `ffmpeg -i film frames/%03d.png` wrote 111
    pictures for the 110-frame film, frames 41 and 76 missing and the ones before them
    repeated."""
    film = compose(tmp_path / "x", [plain, plain, plain], CROSSFADE)
    out = subprocess.run(
        [FF, "-v", "error", "-i", str(film.path), "-map", "0:v", "-c", "copy"]
        + ["-f", "framecrc", "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    durations = [int(x.split(",")[3]) for x in out.splitlines() if x and not x.startswith("#")]
    frames = tmp_path / "frames"
    frames.mkdir()
    ff("-i", str(film.path), "-map", "0:v", str(frames / "%03d.png"))
    assert len(list(frames.iterdir())) == film.frames == 110
    assert set(durations) == {1024}, sorted(set(durations))
