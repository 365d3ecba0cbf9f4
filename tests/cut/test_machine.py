"""The picture's pool is sized to the machine: CPUs (affinity, cgroup quota), memory, and the
user's cap; each chunk is encoded from plain data by a top-level function."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.cut.machine import (
    available_memory,
    cgroup_cpu_quota,
    cgroup_memory_left,
    chunk_memory,
    jobs_cap,
    plan_pool,
)
from storyboard.errors import StoryboardError

GiB = 2**30


def test_sixteen_cpus_are_filled_by_sixteen_chunks_without_oversubscribing() -> None:
    p = plan_pool(1280, 720, chunks=37, cpus=16, memory=100 * GiB)
    assert (p.workers, p.threads) == (16, 1)
    assert p.workers * p.threads <= 16


def test_few_chunks_get_the_spare_cpus_as_encoder_threads() -> None:
    p = plan_pool(1280, 720, chunks=3, cpus=16, memory=100 * GiB)
    assert p.workers == 3 and p.threads == 5  # 15 of 16 CPUs, never more


def test_two_cpus_two_chunks_at_once() -> None:
    p = plan_pool(1280, 720, chunks=20, cpus=2, memory=8 * GiB)
    assert (p.workers, p.threads) == (2, 1)


def test_the_users_cap_wins() -> None:
    p = plan_pool(1280, 720, chunks=20, cpus=16, memory=100 * GiB, cap=4)
    assert p.workers * p.threads <= 4 and p.workers == 4


def test_little_memory_means_fewer_chunks_at_once() -> None:
    room = 3 * chunk_memory(1280, 720, 1) * 2  # the encoders may take half of what is free
    p = plan_pool(1280, 720, chunks=20, cpus=16, memory=room)
    assert p.workers == 3
    assert plan_pool(1280, 720, chunks=20, cpus=16, memory=1).workers == 1


@pytest.mark.parametrize("raw", ["0", "-2", "two", "1.5", "1_0", "\uff11", "+2", "0x2"])
def test_a_bad_cap_is_one_message(raw: str) -> None:
    with pytest.raises(StoryboardError, match=r"STORYBOARD_JOBS='.*': expected a whole number"):
        jobs_cap({"STORYBOARD_JOBS": raw})


def test_an_absurd_cap_is_refused() -> None:
    """Hostile F8: 99999999999999999999 CPUs was taken silently."""
    with pytest.raises(StoryboardError, match=r"STORYBOARD_JOBS='99999999999999999999': at most"):
        jobs_cap({"STORYBOARD_JOBS": "99999999999999999999"})
    assert jobs_cap({"STORYBOARD_JOBS": "1024"}) == 1024
    for raw in ("99999999999999999999999", "1" * 5000, "1025"):  # hostile5 Q9: not "1 or more"
        with pytest.raises(StoryboardError, match="at most 1024"):
            jobs_cap({"STORYBOARD_JOBS": raw})
    assert jobs_cap({"STORYBOARD_JOBS": "0002"}) == 2


def test_cap_unset_or_set() -> None:
    assert jobs_cap({}) is None
    assert jobs_cap({"STORYBOARD_JOBS": " 3 "}) == 3


def test_cgroup_v2_limits_are_read(tmp_path: Path) -> None:
    (tmp_path / "cpu.max").write_text("250000 100000\n")
    (tmp_path / "memory.max").write_text(str(4 * GiB))
    (tmp_path / "memory.current").write_text(str(1 * GiB))
    assert cgroup_cpu_quota(tmp_path) == 2.5
    assert cgroup_memory_left(tmp_path) == 3 * GiB
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal: 100 kB\nMemAvailable: 8388608 kB\n")  # 8 GiB
    assert available_memory(meminfo, tmp_path) == 3 * GiB  # the tighter of the two


def test_unlimited_cgroup(tmp_path: Path) -> None:
    (tmp_path / "cpu.max").write_text("max 100000\n")
    (tmp_path / "memory.max").write_text("max\n")
    assert cgroup_cpu_quota(tmp_path) is None
    assert cgroup_memory_left(tmp_path) is None


def test_cgroup_v1_quota(tmp_path: Path) -> None:
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("400000")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000")
    assert cgroup_cpu_quota(tmp_path) == 4.0
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1")
    assert cgroup_cpu_quota(tmp_path) is None


def test_an_edit_gives_its_few_chunks_the_cpus_as_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool is sized to the chunks a compose encodes, not to the film's: an edit's two
    chunks on 8 CPUs are encoded with 4 x264 threads each, not 1 each beside 6 idle CPUs."""
    import dataclasses
    import hashlib

    from test_compose import make_clip
    from test_film_key import reload, three

    from storyboard.cut import machine
    from storyboard.cut.compose import compose_film

    monkeypatch.setattr(machine, "usable_cpus", lambda: 8)
    monkeypatch.setattr(machine, "available_memory", lambda: 64 * GiB)
    project, state = three(tmp_path)
    lines: list[str] = []
    compose_film(project, state, log=lines.append)
    first = next(line for line in lines if line.endswith(" free)"))
    n, m = int(first.split()[1]), int(first.split()[3])  # chunks, and those encoded (not copied)
    assert f"{n} chunks, {m} to encode, {min(8, m)} chunk(s) at once" in first, first
    # the last scene given another take: its crossfade and its own stretch are encoded
    p, st = reload(project)
    clip = make_clip(p.root / "build/takes/c/take-2.mp4", 1.0, color="white")
    st.lock["c"] = dataclasses.replace(
        st.lock["c"],
        n=2,
        file="build/takes/c/take-2.mp4",
        size=clip.stat().st_size,
        sha256=hashlib.sha256(clip.read_bytes()).hexdigest(),
    )
    st.write_lock(["a", "b", "c"])
    lines.clear()
    compose_film(*reload(project), log=lines.append)
    again = next(line for line in lines if line.endswith(" free)"))
    assert f"{n} chunks, 2 to encode, 2 chunk(s) at once x 4 encoder thread(s)" in again, again


def test_chunks_whose_records_are_gone_are_counted_as_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hostile (round 7) break 2: the pool was sized by which entries exist, so entries that
    failed their check were all encoded one after another by a pool sized for none."""
    from test_film_key import edit_yaml, reload, three

    from storyboard.cut import machine
    from storyboard.cut.compose import compose_film

    monkeypatch.setattr(machine, "usable_cpus", lambda: 8)
    monkeypatch.setattr(machine, "available_memory", lambda: 64 * GiB)
    project, state = three(tmp_path, edit="{loudness: -16}")
    first = compose_film(project, state, log=lambda s: None)
    for record in (project.build / "chunks").glob("*/*.mp4.sum"):
        record.unlink()
    edit_yaml(project, "loudness: -16", "loudness: -15")
    lines: list[str] = []
    again = compose_film(*reload(project), log=lines.append)
    line = next(line for line in lines if line.endswith(" free)"))
    n, m = int(line.split()[1]), int(line.split()[3])  # chunks, and those encoded (not copied)
    assert f"{n} chunks, {m} to encode, {min(8, m)} chunk(s) at once" in line, line
    assert m > 0 and again.frames_encoded == first.frames_encoded  # all of them encoded again


def test_the_longest_encodes_go_to_the_pool_first() -> None:
    """An edit's three encodes in film order put the longest last, alone on the pool at the
    end; longest first (a blended frame counts twice), then what is copied or cached."""
    from storyboard.cut.picture import encode_order

    chunks = [
        ("gop", 0, 60, 0),  # copied
        ("copy", 60, 77, 0),  # a 17-frame partial GOP to encode
        ("composite", 77, 93, -1),  # a 16-frame crossfade: 32
        ("copy", 93, 138, 1),  # 45 frames to encode
        ("copy", 138, 300, 1),  # cached
    ]
    pending = [False, True, True, True, False]
    assert encode_order(chunks, pending) == [3, 2, 1, 0, 4]
    assert encode_order(chunks, [False] * 5) == [0, 1, 2, 3, 4]
