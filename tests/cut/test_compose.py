"""The final cut on tiny generated clips: lengths, sync, loudness, captions, formats, paths."""

from __future__ import annotations

import hashlib
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import write_project

from storyboard.board.spec import load_project
from storyboard.cut.audio import integrated_loudness
from storyboard.cut.compose import compose_project
from storyboard.cut.timeline import build_timeline, parse_srt
from storyboard.generate.state import BuildState, Take
from storyboard.media.ffmpeg import ffmpeg_exe
from storyboard.media.frames import frame_at
from storyboard.media.probe import probe

FPS = 10
# MP4 clips made in this process, by their settings: ffmpeg makes the same bytes from the same
# settings (an MP4 carries no date or random id), so a clip asked for again is those bytes,
# written without running ffmpeg (a test of 30 joins made 30 equal clips, 5 s of its 7 s)
_MADE: dict[tuple[object, ...], bytes] = {}


def make_clip(
    path: Path,
    seconds: float,
    size: str = "64x36",
    color: str = "red",
    tone: float = 440,
    fps: int = FPS,
    fmt: str = "mp4",
    audio: bool = True,
    volume: float = 0.3,
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = (seconds, size, color, tone, fps, audio, volume)
    if fmt == "mp4" and path.suffix == ".mp4" and key in _MADE:
        path.write_bytes(_MADE[key])
        return path
    codecs = (
        ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"]
        if fmt != "webm"
        else ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-c:a", "libopus"]
    )
    inputs = ["-f", "lavfi", "-i", f"color=c={color}:s={size}:r={fps}:d={seconds}"]
    maps = ["-map", "0:v"]
    if audio:
        inputs += ["-f", "lavfi", "-i", f"sine=f={tone}:r=48000:d={seconds},volume={volume}"]
        maps += ["-map", "1:a"]
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", *inputs, *maps, *codecs, "-t", str(seconds), str(path)],
        check=True,
    )
    if fmt == "mp4" and path.suffix == ".mp4":
        _MADE[key] = path.read_bytes()
    return path


def setup(
    tmp: Path, scenes: list[dict], edit: str = "", output: str = "", clip_kw: dict | None = None
) -> tuple:
    """A project whose lock points at generated clips (no generation involved)."""
    (tmp / "p").mkdir(exist_ok=True)
    lines = []
    for s in scenes:
        extra = "".join(f", {k}: {v}" for k, v in s.items() if k not in ("id", "seconds", "clip"))
        lines.append(f"  - {{id: {s['id']}, prompt: 'Scene {s['id']}.', duration: 4{extra}}}")
    p = write_project(
        tmp / "p",
        "title: Test Film\nscenes:\n"
        + "\n".join(lines)
        + "\n"
        + (f"edit: {edit}\n" if edit else "")
        + f"output: {{fps: {FPS}"
        + ("" if "size:" in output else ", size: 64x36")
        + (f", {output}" if output else "")
        + "}\n",
    )
    state = BuildState(p)
    for i, s in enumerate(scenes):
        rel = f"build/takes/{s['id']}/take-1.{(clip_kw or {}).get('fmt', 'mp4')}"
        kw = {**(clip_kw or {}), **s.get("clip", {})}
        make_clip(p / rel, s.get("seconds", 1.0), **kw)
        info = probe(p / rel)
        state.lock[s["id"]] = Take(
            s["id"],
            1,
            "k",
            None,
            f"t{i}",
            f"v{i}",
            None,
            None,
            rel,
            (p / rel).stat().st_size,
            hashlib.sha256((p / rel).read_bytes()).hexdigest(),
            0.4,
            info.duration,
        )
    state.write_lock([s["id"] for s in scenes])
    return load_project(p), state


def mono_pcm(path: Path) -> np.ndarray:
    """A file's audio decoded to 48 kHz mono 16-bit samples."""
    raw = subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-i",
            str(path),
            "-map",
            "0:a:0",
            "-f",
            "s16le",
            "-ac",
            "1",
            "-ar",
            "48000",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, dtype=np.int16)


def decoded_seconds(path: Path) -> tuple[float, float]:
    """(video, audio) lengths by decoding: frames / fps and samples / rate."""
    video = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:v:0", "-f", "framemd5", "-"],
        capture_output=True,
        check=True,
    ).stdout
    frames = sum(1 for line in video.decode().splitlines() if line and not line.startswith("#"))
    return frames / probe(path).fps, len(mono_pcm(path)) / 48000


def decodes_to_the_end(path: Path) -> bool:
    r = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "null", "-"], capture_output=True
    )
    return r.returncode == 0 and not r.stderr.strip()


def test_duration_is_sum_minus_overlaps(tmp_path: Path) -> None:
    project, state = setup(
        tmp_path,
        [
            {"id": "a", "seconds": 2.0},
            {"id": "b", "seconds": 2.0, "transition": "{type: crossfade, duration: 0.5}"},
            {"id": "c", "seconds": 2.0, "transition": "{type: fade, duration: 0.4}"},
            {"id": "d", "seconds": 2.0, "trim": "[0.5, 1.5]"},
        ],
    )
    lines: list[str] = []
    out = compose_project(project, state, log=lines.append)
    expected = 2 + 2 + 2 + 1 - 0.5 - 0.4
    assert build_timeline(
        project, state.lock, {t.file: 2.0 for t in state.lock.values()}
    ).duration == pytest.approx(expected)
    video, audio = decoded_seconds(out)
    assert video == pytest.approx(expected, abs=1 / FPS)
    assert audio == pytest.approx(video, abs=1 / FPS)
    assert "full path" in lines[0] and "transitions" in lines[0] and "trims" in lines[0]
    assert (project.build / "contact-sheet.png").is_file()


def test_crossfade_really_blends(tmp_path: Path) -> None:
    project, state = setup(
        tmp_path,
        [
            {"id": "a", "seconds": 2.0, "clip": {"color": "red"}},
            {
                "id": "b",
                "seconds": 2.0,
                "clip": {"color": "blue"},
                "transition": "{type: crossfade, duration: 1.0}",
            },
        ],
        edit="{loudness: 'off'}",
    )
    out = compose_project(project, state, log=lambda s: None)
    import io

    from PIL import Image

    mid = np.asarray(Image.open(io.BytesIO(frame_at(out, 1.5))).convert("RGB"), int)[18, 32]
    assert 60 < mid[0] < 200 and 60 < mid[2] < 200  # half red, half blue


def test_thirty_segments_stay_in_sync(tmp_path: Path) -> None:
    # odd lengths (not whole frames, AAC frames of 1024 samples) are where drift comes from
    scenes = [
        {
            "id": f"s{i:02d}",
            "seconds": 0.537 + (i % 3) * 0.111,
            "transition": "crossfade" if i % 7 == 3 else "cut",
        }
        for i in range(32)
    ]
    project, state = setup(tmp_path, scenes, edit="{loudness: 'off'}")
    out = compose_project(project, state, log=lambda s: None)
    video, audio = decoded_seconds(out)
    tl = build_timeline(
        project,
        state.lock,
        {t.file: probe(project.root / t.file).duration for t in state.lock.values()},
    )
    assert video == pytest.approx(tl.duration, abs=1 / FPS)
    assert abs(audio - video) <= 1 / FPS


def test_fast_path_joins_by_stream_copy_and_stays_in_sync(tmp_path: Path) -> None:
    # 8 s at 48 kHz is exactly 375 AAC frames: stream copy can be sample-exact
    scenes = [{"id": f"s{i:02d}", "seconds": 8.0} for i in range(30)]
    project, state = setup(tmp_path, scenes, edit="{loudness: 'off', captions: 'off'}")
    lines: list[str] = []
    out = compose_project(project, state, log=lines.append)
    assert "copy path" in lines[0]
    video, audio = decoded_seconds(out)
    assert video == pytest.approx(240.0, abs=1 / FPS)
    assert abs(audio - video) <= 1 / FPS


def test_copy_path_is_refused_when_copied_audio_would_drift(tmp_path: Path) -> None:
    # 1 s is 46.875 AAC frames: each copied clip brings 2.7 ms too much audio
    scenes = [{"id": f"s{i:02d}", "seconds": 1.0} for i in range(40)]
    project, state = setup(tmp_path, scenes, edit="{loudness: 'off', captions: 'off'}")
    lines: list[str] = []
    out = compose_project(project, state, log=lines.append)
    assert "audio-only path" in lines[0] and "would drift +107 ms" in lines[0]
    video, audio = decoded_seconds(out)
    assert video == pytest.approx(40.0, abs=1 / FPS)
    assert abs(audio - video) <= 1 / FPS


def test_audio_only_path_when_loudness_changes(tmp_path: Path) -> None:
    project, state = setup(
        tmp_path, [{"id": "a", "seconds": 2.0}, {"id": "b", "seconds": 2.0}], edit="{loudness: -20}"
    )
    lines: list[str] = []
    out = compose_project(project, state, log=lines.append)
    assert "audio-only path" in lines[0] and "loudness" in lines[0]
    assert integrated_loudness(out) == pytest.approx(-20, abs=1.0)


@pytest.mark.parametrize("target", [-16.0, -23.0])
def test_loudness_is_normalised_to_target(tmp_path: Path, target: float) -> None:
    project, state = setup(
        tmp_path,
        [
            {"id": "a", "seconds": 3.0, "clip": {"volume": 0.05}},
            {
                "id": "b",
                "seconds": 3.0,
                "clip": {"volume": 0.6, "tone": 220},
                "transition": "crossfade",
            },
        ],
        edit=f"{{loudness: {target}}}",
    )
    out = compose_project(project, state, log=lambda s: None)
    assert integrated_loudness(out) == pytest.approx(target, abs=1.0)


def test_loudness_off_leaves_audio_untouched(tmp_path: Path) -> None:
    project, state = setup(
        tmp_path,
        [{"id": "a", "seconds": 2.0, "clip": {"volume": 0.05}}],
        edit="{loudness: 'off', captions: 'off'}",
    )
    out = compose_project(project, state, log=lambda s: None)
    src = integrated_loudness(project.root / state.lock["a"].file)
    assert integrated_loudness(out) == pytest.approx(src, abs=0.3)


def test_captions_srt_times_follow_trims_and_transitions(tmp_path: Path) -> None:
    project, state = setup(
        tmp_path,
        [
            {"id": "a", "seconds": 2.0},
            {
                "id": "b",
                "seconds": 3.0,
                "transition": "{type: crossfade, duration: 0.5}",
                "trim": "[0.5, 3.0]",
                "dialogue": "[{who: Ada, line: 'First line.'}, "
                "{who: Bo, line: 'A second, longer line.'}]",
            },
        ],
    )
    out = compose_project(project, state, log=lambda s: None)
    caps = parse_srt(out.with_suffix(".srt").read_text())
    assert [c.text for c in caps] == ["Ada: First line.", "Bo: A second, longer line."]
    # b starts at 2.0 - 0.5 = 1.5 s; its clear part is 2.0 .. 4.0
    assert caps[0].start >= 2.0 and caps[-1].end <= 4.0
    assert caps[0].end <= caps[1].start


def test_burnt_in_captions_change_the_picture(tmp_path: Path) -> None:
    scenes = [
        {
            "id": "a",
            "seconds": 2.0,
            "clip": {"color": "black", "size": "320x180"},
            "dialogue": "[{who: Ada, line: 'Hello there.'}]",
        }
    ]
    project, state = setup(
        tmp_path, scenes, edit="{captions: burn, loudness: 'off'}", output="size: 320x180"
    )
    lines: list[str] = []
    out = compose_project(project, state, log=lines.append)
    assert "burnt-in captions" in lines[0]
    import io

    from PIL import Image

    frame = np.asarray(Image.open(io.BytesIO(frame_at(out, 1.0))).convert("L"))
    assert frame[120:, :].max() > 200  # white caption text on the lower part of a black clip


@pytest.mark.parametrize("fmt,codec", [("MP4", "h264"), ("WEBM", "vp9"), ("MOV", "h264")])
def test_each_output_format_plays_to_the_end(tmp_path: Path, fmt: str, codec: str) -> None:
    project, state = setup(
        tmp_path,
        [
            {"id": "a", "seconds": 1.0},
            {"id": "b", "seconds": 1.0, "transition": "crossfade"},
        ],
        output=f"format: {fmt}",
    )
    out = compose_project(project, state, log=lambda s: None)
    assert out.suffix == f".{fmt.lower()}"
    info = probe(out)
    assert info.video_codec == codec and info.has_audio
    assert info.audio_codec == ("opus" if fmt == "WEBM" else "aac")
    assert decodes_to_the_end(out)


def test_portrait_clip_in_landscape_film_is_letterboxed(tmp_path: Path) -> None:
    project, state = setup(
        tmp_path,
        [
            {"id": "a", "seconds": 1.0, "clip": {"size": "36x64", "color": "white"}},
        ],
        edit="{loudness: 'off'}",
    )
    lines: list[str] = []
    out = compose_project(project, state, log=lines.append)
    assert "conforming" in lines[0]
    import io

    from PIL import Image

    f = np.asarray(Image.open(io.BytesIO(frame_at(out, 0.5))).convert("L"), int)
    assert f.shape == (36, 64)
    assert f[18, 32] > 200  # the clip, centred
    assert f[18, 2] < 40 and f[18, 61] < 40  # black pillars left and right, not stretched


def test_music_bed_is_mixed_and_ducked_under_dialogue(tmp_path: Path) -> None:
    bed = tmp_path / "p" / "bed.mp3"
    bed.parent.mkdir()
    make_clip(tmp_path / "bed.mp4", 2.0, tone=330)  # a 2 s bed, looped to 6 s
    subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-i",
            str(tmp_path / "bed.mp4"),
            "-vn",
            "-c:a",
            "libmp3lame",
            str(bed),
        ],
        check=True,
    )
    project, state = setup(
        tmp_path,
        [
            {"id": "a", "seconds": 3.0, "clip": {"audio": False}},
            {
                "id": "b",
                "seconds": 3.0,
                "clip": {"audio": False},
                "dialogue": "[{who: Ada, line: 'Quiet, please.'}]",
            },
        ],
        edit="{loudness: 'off', music: {file: bed.mp3, volume: 0.5, fade_in: 0, fade_out: 0, "
        "duck: 0.2}}",
    )
    lines: list[str] = []
    out = compose_project(project, state, log=lines.append)
    assert "music" in lines[0]
    x = mono_pcm(out).astype(float)
    rms = lambda a, b: float(np.sqrt(np.mean(x[int(a * 48000) : int(b * 48000)] ** 2)))  # noqa: E731
    plain, under_dialogue, looped = rms(0.5, 1.5), rms(3.5, 5.5), rms(2.2, 2.8)
    bed_rms = 825 * 0.5 / 2**0.5  # the bed's own level x volume, stereo folded to mono
    assert plain == pytest.approx(bed_rms, rel=0.25)
    assert looped == pytest.approx(bed_rms, rel=0.25)  # it loops past its 2 s
    assert under_dialogue < plain * 0.35


def test_compose_command_needs_takes(tmp_path: Path, capsys) -> None:
    from storyboard.cli.main import main

    write_project(
        tmp_path / "p",
        """
        title: T
        scenes:
          - {id: a, prompt: x y, duration: 4}
    """,
    )
    assert main(["compose", str(tmp_path / "p")]) == 1
    assert "no take yet for a: run `storyboard render" in capsys.readouterr().err


def test_no_ffmpeg_left_running(tmp_path: Path) -> None:
    project, state = setup(
        tmp_path,
        [{"id": "a", "seconds": 1.0}, {"id": "b", "seconds": 1.0, "transition": "crossfade"}],
    )
    compose_project(project, state, log=lambda s: None)
    time.sleep(0.1)
    out = subprocess.run(["ps", "-eo", "ppid,comm"], capture_output=True, text=True).stdout
    import os

    mine = [
        line
        for line in out.splitlines()
        if line.split()[0] == str(os.getpid()) and "ffmpeg" in line
    ]
    assert mine == []


def test_compose_clears_a_killed_composes_folder(tmp_path: Path) -> None:
    from helpers import plant

    project, state = setup(tmp_path, [{"id": "a", "seconds": 1.0}, {"id": "b", "seconds": 1.0}])
    project.build.mkdir(parents=True, exist_ok=True)
    dead, live, anon = plant(project.build, ".compose-")
    compose_project(project, state, log=lambda s: None)
    assert not dead.exists()
    assert live.exists() and anon.exists()
