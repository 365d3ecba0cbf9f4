"""A take's probe record (build/media/KEY.json) is kept with a digest of its fields and of the
file it describes: a record changed after it was written, or one without the digest, is
probed again, never trusted (hostile H30: a record saying 2 s cut a 4 s scene to 2 s)."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from helpers import write_project

import storyboard
from storyboard.emulator import Emulator, EmulatorConfig
from storyboard.media import probe
from storyboard.media.ffmpeg import ffmpeg_exe

pytestmark = pytest.mark.usefixtures("quick_polls")  # only for speed: see conftest

LIES = {"duration": 0.5, "video_seconds": 0.5, "picture_end": 0.5, "has_audio": False}


def clip(path: Path, seconds: float = 1.0) -> Path:
    """A tiny H.264 + AAC clip of ``seconds`` at 24 fps."""
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i",
         f"testsrc=size=64x36:rate=24:d={seconds}", "-f", "lavfi", "-i", f"sine=d={seconds}",
         "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", str(path)],
        check=True,
    )  # fmt: skip
    return path


@pytest.fixture
def probes(monkeypatch: pytest.MonkeyPatch) -> list[list[Path]]:
    """Every ``probe_many`` call's files (a record trusted is no call)."""
    calls: list[list[Path]] = []
    real = probe.probe_many

    def counted(paths: list[Path]) -> dict[Path, probe.ClipInfo]:
        calls.append(list(paths))
        return real(paths)

    monkeypatch.setattr(probe, "probe_many", counted)
    return calls


def record(cache: Path, key: str) -> dict[str, object]:
    data = json.loads((cache / f"{key}.json").read_text())
    assert isinstance(data, dict)
    return data


def test_an_intact_record_is_trusted(tmp_path: Path, probes: list[list[Path]]) -> None:
    mp4, cache = clip(tmp_path / "a.mp4"), tmp_path / "media"
    first = probe.probe_cached([(mp4, "k-1")], cache)[mp4]
    again = probe.probe_cached([(mp4, "k-1")], cache)[mp4]
    assert first == again and first.has_audio and first.duration == pytest.approx(1.0, abs=0.1)
    assert probes == [[mp4]]


def test_a_record_changed_after_it_was_written_is_probed_again(
    tmp_path: Path, probes: list[list[Path]]
) -> None:
    mp4, cache = clip(tmp_path / "a.mp4"), tmp_path / "media"
    true = probe.probe_cached([(mp4, "k-1")], cache)[mp4]
    (cache / "k-1.json").write_text(json.dumps(record(cache, "k-1") | LIES))
    assert probe.probe_cached([(mp4, "k-1")], cache)[mp4] == true
    assert len(probes) == 2
    assert probe.probe_cached([(mp4, "k-1")], cache)[mp4] == true  # written again, whole
    assert len(probes) == 2


def test_a_record_moved_to_another_file_is_probed_again(
    tmp_path: Path, probes: list[list[Path]]
) -> None:
    """The digest covers the file it describes: a 1 s clip's record is no 3 s clip's."""
    short, long = clip(tmp_path / "short.mp4", 1.0), clip(tmp_path / "long.mp4", 3.0)
    cache = tmp_path / "media"
    probe.probe_cached([(short, "s-1")], cache)
    (cache / "l-3.json").write_text((cache / "s-1.json").read_text())
    got = probe.probe_cached([(long, "l-3")], cache)[long]
    assert got.duration == pytest.approx(3.0, abs=0.1)
    assert len(probes) == 2


def test_an_older_record_without_its_digest_is_probed_again_once(
    tmp_path: Path, probes: list[list[Path]]
) -> None:
    mp4, cache = clip(tmp_path / "a.mp4"), tmp_path / "media"
    true = probe.probe_cached([(mp4, "k-1")], cache)[mp4]
    older = {k: v for k, v in record(cache, "k-1").items() if k != "digest"}
    (cache / "k-1.json").write_text(json.dumps(older | LIES))
    assert probe.probe_cached([(mp4, "k-1")], cache)[mp4] == true
    assert probe.probe_cached([(mp4, "k-1")], cache)[mp4] == true
    assert len(probes) == 2
    assert "digest" in record(cache, "k-1")


def test_fresh_probes_again_and_keeps_what_it_found(
    tmp_path: Path, probes: list[list[Path]]
) -> None:
    """``compose --force``: the chosen takes are probed again, whatever their records say."""
    mp4, cache = clip(tmp_path / "a.mp4"), tmp_path / "media"
    true = probe.probe_cached([(mp4, "k-1")], cache)[mp4]
    before = record(cache, "k-1")
    assert probe.probe_cached([(mp4, "k-1")], cache, fresh=True)[mp4] == true
    assert len(probes) == 2 and record(cache, "k-1") == before


FILM = """
title: Probed
model: bytedance:2@1
defaults: {duration: 2}
output: {size: 320x180, fps: 10}
scenes:
  - {id: one, prompt: "A harbour at dawn."}
  - {id: two, prompt: "A boat leaves."}
"""


@pytest.mark.parametrize("forged", [False, True], ids=["edited", "digest-made-again"])
def test_a_lying_record_does_not_cut_the_film(tmp_path: Path, forged: bool) -> None:
    """The repro of H30: a take's record saying it is short, has no sound. An edited record is
    probed again by any compose; ``compose --force`` probes the takes whatever they say."""
    with Emulator(EmulatorConfig(latency=0.05, draft=True)) as emu:
        project = storyboard.load(
            write_project(tmp_path / "p", FILM), api_key="k", base_url=emu.base_url
        )
        assert project.render(draft=True).ok
    true = project.compose()
    take = project.takes("one")[0].path
    key = probe.media_key(hashlib.sha256(take.read_bytes()).hexdigest(), take.stat().st_size)
    media = tmp_path / "p" / "build" / "media"
    lie = {k: v for k, v in record(media, key).items() if k != "digest"} | LIES
    digest = probe.record_digest(key, lie) if forged else record(media, key).get("digest")
    tampered = json.dumps(lie | ({"digest": digest} if digest else {}))
    (media / f"{key}.json").write_text(tampered)
    if not forged:  # any compose that reads the record: here, the film gone
        true.film.unlink()
        assert project.compose().frames == true.frames
        (media / f"{key}.json").write_text(tampered)
    again = project.compose(force=True)
    assert (again.up_to_date, again.frames) == (False, true.frames)
    assert probe.probe_many([again.film])[again.film].duration == pytest.approx(4.0, abs=0.15)


@pytest.mark.parametrize("tamper", ["keyframes", "no-digest", "moved"])
def test_a_gop_layout_record_changed_after_it_was_written_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tamper: str
) -> None:
    """helper-33's note on H30: the GOP layout records (KEY.layout-3.json: keyframes, packets)
    were trusted as they were; a keyframe that is not one would have a copy cut a GOP there."""
    from storyboard.media import gop

    mp4, cache = clip(tmp_path / "a.mp4", 2.0), tmp_path / "media"
    key = "k" * 32 + "-1"
    truth = gop.layouts_cached([(mp4, key)], cache)[mp4]
    assert truth is not None
    f = cache / f"{key}.layout-3.json"
    data = json.loads(f.read_text())
    if tamper == "keyframes":
        data["keyframes"] = [0, 5]
        data["key_packets"] = [0, 5]
    elif tamper == "no-digest":
        del data["digest"]
    f.write_text(json.dumps(data))
    if tamper == "moved":
        other = "o" * 32 + "-1"
        f.rename(cache / f"{other}.layout-3.json")
        key = other
    reads: list[Path] = []
    real = gop.stream_layout
    monkeypatch.setattr(gop, "stream_layout", lambda p: reads.append(p) or real(p))
    assert gop.layouts_cached([(mp4, key)], cache)[mp4] == truth
    assert reads == [mp4]
    assert gop.layouts_cached([(mp4, key)], cache)[mp4] == truth  # written anew: trusted
    assert reads == [mp4]
    assert gop.layouts_cached([(mp4, key)], cache, fresh=True)[mp4] == truth
    assert reads == [mp4, mp4]


def test_a_clip_without_a_picture_is_named(tmp_path: Path) -> None:
    """A sound-only MP4 where a take goes (swapped by hand): the message names the file
    (hostile helper-57: "cannot read the clips: Error parsing options for output file -.")."""
    good = clip(tmp_path / "good.mp4")
    sound = tmp_path / "sound.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "sine=d=1", "-c:a", "aac"]
        + [str(sound)],
        check=True,
    )
    with pytest.raises(storyboard.StoryboardError, match=r"sound\.mp4: no picture"):
        probe.probe_many([good, sound])
    assert probe.probe_many([good])[good].has_audio


def test_a_gap_in_the_sounds_timestamps_is_not_its_length(tmp_path: Path) -> None:
    """Hostile helper-58: the sound's length was its packets times the longest one, and the
    packet before a gap in the timestamps lasts the gap: "copied audio would drift +81520
    ms" for a 2 s take."""
    sound = tmp_path / "gap.m4a"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "sine=d=2:r=48000"]
        + ["-c:a", "aac", "-bsf:a", "setts=ts=if(gte(N\\,40)\\,TS+24000\\,TS)", str(sound)],
        check=True,
    )
    take = tmp_path / "take.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x36:rate=24:d=2"]
        + ["-i", str(sound), "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset"]
        + ["ultrafast", "-c:a", "copy", str(take)],
        check=True,
    )
    info = probe.probe_many([take])[take]
    # 2 s of sound over 2.5 s of timestamps: the gap is time it takes (a copied join would
    # put the next take's sound that much late), not 47 s more
    assert info.audio_seconds is not None and abs(info.audio_seconds - 2.5) < 0.05, info
