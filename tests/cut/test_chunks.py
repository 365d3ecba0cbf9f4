"""The chunk cache: reused across edits, bounded (LRU), atomic; one pixel format everywhere."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from pathlib import Path

import pytest
from test_compose import make_clip, setup
from test_film_key import music_bed

from storyboard.board.spec import load_project
from storyboard.cut.chunks import (
    PART_PREFIX,
    ChunkCache,
    cache_limit_bytes,
    chunk_key,
    part_prefix,
)
from storyboard.cut.compose import compose_film
from storyboard.errors import StoryboardError
from storyboard.generate.state import BuildState
from storyboard.media.ffmpeg import ffmpeg_exe

FINITE = "expected a finite size in MB, e.g. STORYBOARD_CACHE_MB=2048"
XF = "{type: crossfade, duration: 0.3}"
COLORS = ["red", "green", "blue", "white"]


def four(tmp_path: Path, edit: str = "", output: str = "", talk: bool = False) -> tuple:
    scenes = [
        {"id": c[0], "seconds": 1.0, "clip": {"color": c, "tone": 300 + 100 * i}}
        | ({"transition": XF} if i else {})
        | ({"dialogue": "[{who: Ann, line: Hello there}]"} if talk and i == 1 else {})
        for i, c in enumerate(COLORS)
    ]
    return setup(tmp_path, scenes, edit=edit, output=output)


def chunks(project, ext: str) -> set[Path]:  # type: ignore[no-untyped-def]
    return {p for p in (project.build / "chunks").glob(f"*/*.{ext}") if "part" not in p.name}


def frame_hashes(path: Path) -> list[str]:
    out = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:v:0", "-f", "framemd5", "-"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [line.split(",")[-1].strip() for line in out.splitlines() if not line.startswith("#")]


def swap_take(project, scene: str, color: str) -> None:  # type: ignore[no-untyped-def]
    state = BuildState(project.root)
    rel = f"build/takes/{scene}/take-2.mp4"
    clip = make_clip(project.root / rel, 1.0, color=color, tone=900)
    t = state.lock[scene]
    t.n, t.file, t.size = 2, rel, clip.stat().st_size
    t.sha256 = hashlib.sha256(clip.read_bytes()).hexdigest()
    state.write_lock([c[0] for c in COLORS])
    state.close()


def test_one_scene_edit_re_encodes_only_the_chunks_of_that_scene(tmp_path: Path) -> None:
    project, state = four(tmp_path)
    first = compose_film(project, state, log=lambda s: None)
    pictures = chunks(project, "mp4")
    assert len(pictures) == 7  # 4 stretches + 3 crossfade windows
    swap_take(project, "b", "yellow")
    p = load_project(project.root)
    res = compose_film(p, BuildState(p.root), log=lambda s: None)
    new = chunks(project, "mp4") - pictures
    assert len(new) == 3  # the window into b, b itself, the window out of b
    assert res.reused >= 4 and not res.up_to_date
    assert first.path == res.path
    # the film joined from cached chunks is frame for frame the film made from scratch
    fresh_root = tmp_path / "fresh"
    fresh_root.mkdir()
    fresh, fresh_state = four(fresh_root)
    swap_take(fresh, "b", "yellow")
    f = load_project(fresh.root)
    scratch = compose_film(f, BuildState(f.root), log=lambda s: None)
    assert scratch.reused == 0
    assert frame_hashes(res.path) == frame_hashes(scratch.path)


def test_a_music_change_remakes_only_the_sound(tmp_path: Path) -> None:
    music_bed(tmp_path)
    project, state = four(tmp_path, edit="{music: {file: bed.wav, volume: 0.3}}")
    compose_film(project, state, log=lambda s: None)
    pictures, wavs = chunks(project, "mp4"), chunks(project, "wav")
    yaml = project.root / "storyboard.yaml"
    yaml.write_text(yaml.read_text().replace("volume: 0.3", "volume: 0.6"))
    p = load_project(project.root)
    res = compose_film(p, BuildState(p.root), log=lambda s: None)
    assert chunks(project, "mp4") == pictures  # no picture encoded
    # the music mix and its loudnorm (a film of four 1 s tones has no loudness range: loudnorm
    # works dynamically, and its result is measured again); segments and native reused
    assert len(chunks(project, "wav") - wavs) == 2
    assert len(chunks(project, "m4a")) == 2  # the sound encoded again
    # mix, measurement, loudnorm, its measurement, the AAC segment, the encoded sound
    assert res.encoded == 6, res


def test_lru_eviction_keeps_what_this_compose_used(tmp_path: Path) -> None:
    now = [1000.0]
    cache = ChunkCache(tmp_path / "chunks", clock=lambda: now[0])
    made, keys = [], [chunk_key("test", i) for i in range(4)]
    for key in keys:
        now[0] += 10
        made.append(cache.make(key, "bin", lambda p: p.write_bytes(b"x" * 1000)))
    now[0] += 10
    assert cache.get(keys[0], "bin") is not None  # the oldest becomes the most recent
    later = ChunkCache(tmp_path / "chunks", clock=lambda: now[0])
    assert later.get(keys[3], "bin") is not None  # in use by this compose
    removed = later.evict(limit=2000)
    assert removed == [made[1], made[2]]
    assert later.size() == 2000
    # even a limit of 0 keeps the chunks the current film is made of
    assert later.evict(limit=0) == [made[0]]
    assert made[3].is_file()


def test_a_killed_compose_leaves_no_chunk_that_is_reused(tmp_path: Path) -> None:
    now = [5000.0]
    cache = ChunkCache(tmp_path / "chunks", clock=lambda: now[0])

    def half_then_die(p: Path) -> None:
        p.write_bytes(b"half a chunk")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cache.make("abkey", "mp4", half_then_die)
    assert cache.get("abkey", "mp4") is None
    assert list((tmp_path / "chunks").glob("*/*")) == []
    # a process killed outright leaves its temporary file: never looked up, swept when old
    part = tmp_path / "chunks" / "ab" / f"{PART_PREFIX}x.mp4"
    part.write_bytes(b"half")
    os.utime(part, (now[0], now[0]))
    assert cache.get("abkey", "mp4") is None
    assert cache.evict(limit=10**9) == []  # young: may belong to a running compose
    now[0] += 7200
    assert cache.evict(limit=10**9) == [part]
    made = cache.make("abkey", "mp4", lambda p: p.write_bytes(b"whole"))
    assert made.read_bytes() == b"whole"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "lots",
            "STORYBOARD_CACHE_MB='lots': expected a size in MB, e.g. STORYBOARD_CACHE_MB=2048",
        ),
        ("-1", "STORYBOARD_CACHE_MB='-1': the size must not be negative"),
        ("inf", f"STORYBOARD_CACHE_MB='inf': {FINITE}"),
        ("nan", f"STORYBOARD_CACHE_MB='nan': {FINITE}"),
        ("1e309", f"STORYBOARD_CACHE_MB='1e309': {FINITE}"),
        ("1e30", "STORYBOARD_CACHE_MB='1e30': at most 1e+12 MB"),
    ],
    ids=["not-a-number", "negative", "inf", "nan", "1e309", "huge"],
)
def test_cache_limit_setting(value: str, message: str, monkeypatch) -> None:
    monkeypatch.setenv("STORYBOARD_CACHE_MB", value)
    with pytest.raises(StoryboardError) as e:
        cache_limit_bytes()
    assert str(e.value) == message
    monkeypatch.setenv("STORYBOARD_CACHE_MB", "1.5")
    assert cache_limit_bytes() == 1572864


def test_compose_evicts_down_to_the_limit(tmp_path: Path, monkeypatch) -> None:
    project, state = four(tmp_path)
    compose_film(project, state, log=lambda s: None)
    first = chunks(project, "mp4")
    swap_take(project, "b", "yellow")
    monkeypatch.setenv("STORYBOARD_CACHE_MB", "0")
    p = load_project(project.root)
    res = compose_film(p, BuildState(p.root), log=lambda s: None)
    # the 3 picture chunks that showed the old take of b; its sound, the native track, the
    # loudness measurement, loudnorm's result (this film's loudness is made dynamically) and
    # its measurement, the AAC segment and the encoded sound made from it
    assert res.evicted == 10, res
    assert len(first - chunks(project, "mp4")) == 3


def pixel_formats(path: Path) -> set[str]:
    """Every decoded frame's pixel format (showinfo), not just the stream header."""
    err = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", str(path), "-map", "0:v:0", "-vf", "showinfo"]
        + ["-f", "null", "-"],
        capture_output=True,
    ).stderr.decode()
    return set(re.findall(r" fmt:(\w+)", err))


@pytest.mark.parametrize(("fmt", "ext"), [("MP4", "mp4"), ("WEBM", "webm"), ("MOV", "mp4")])
def test_every_output_format_decodes_to_one_pixel_format(
    tmp_path: Path, fmt: str, ext: str
) -> None:
    project, state = four(
        tmp_path, edit="{captions: burn, fade_in: 0.2}", output=f"format: {fmt}", talk=True
    )
    res = compose_film(project, state, log=lambda s: None)
    parts = chunks(project, ext)
    assert len(parts) >= 7
    for part in parts:
        assert pixel_formats(part) == {"yuv420p"}, part.name
    assert pixel_formats(res.path) == {"yuv420p"}


def test_eviction_never_follows_a_symlink_out_of_the_cache(tmp_path: Path) -> None:
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "keep.txt").write_bytes(b"x" * 5000)
    cache = ChunkCache(tmp_path / "chunks")
    cache.make("abkey", "bin", lambda p: p.write_bytes(b"y" * 100))
    (tmp_path / "chunks" / "zz").symlink_to(outside, target_is_directory=True)
    (tmp_path / "chunks" / "ab" / "link.bin").symlink_to(outside / "keep.txt")
    ChunkCache(tmp_path / "chunks").evict(limit=0)
    assert (outside / "keep.txt").read_bytes() == b"x" * 5000


def test_a_bad_cache_limit_is_reported_before_anything_is_encoded(
    tmp_path: Path, monkeypatch
) -> None:
    project, state = four(tmp_path)
    monkeypatch.setenv("STORYBOARD_CACHE_MB", "lots")
    with pytest.raises(StoryboardError):
        compose_film(project, state, log=lambda s: None)
    assert not (project.build / "chunks").exists()


@pytest.mark.parametrize("value", ["0", "abc", "1e9"])
def test_a_bad_jobs_setting_is_refused_before_any_work(tmp_path: Path, monkeypatch, value) -> None:
    """Hostile F8: STORYBOARD_JOBS=0 was reported after the sound was measured and mixed."""
    project, state = four(tmp_path)
    monkeypatch.setenv("STORYBOARD_JOBS", value)
    said: list[str] = []
    with pytest.raises(StoryboardError, match="STORYBOARD_JOBS="):
        compose_film(project, state, log=said.append)
    assert said == []
    assert not chunks(project, "mp4") and not chunks(project, "wav")


def test_a_dead_composes_temporary_files_are_swept_at_once(tmp_path: Path) -> None:
    """Hostile F9: `.part-*` files of a SIGKILLed compose stayed after the next compose (they
    were swept only after an hour). A temporary file names its writer's pid: the next compose
    sweeps those whose writer is dead, young or not, and keeps a live writer's."""
    from helpers import dead_pid

    cache = ChunkCache(tmp_path / "chunks")
    seen: list[str] = []
    cache.make("abkey", "mp4", lambda p: (seen.append(p.name), p.write_bytes(b"whole")))
    prefix = part_prefix()
    assert seen[0].startswith(prefix) and prefix.startswith(f"{PART_PREFIX}{os.getpid()}-"), seen
    shard = tmp_path / "chunks" / "ab"
    gone = prefix.replace(str(os.getpid()), str(dead_pid()), 1)
    dead = [shard / f"{gone}x1.mp4", shard / f"{gone}x2.json"]
    live = shard / f"{prefix}x3.mp4"
    elsewhere = shard / f"{PART_PREFIX}{dead_pid()}-0000beef-x4.mp4"  # another machine's
    for p in [*dead, live, elsewhere]:
        p.write_bytes(b"half")
    removed = cache.evict(limit=10**9)
    assert sorted(removed) == sorted(dead)
    assert live.exists() and elsewhere.exists() and cache.get("abkey", "mp4") is not None
