"""A damaged chunk cache never makes a wrong film: every entry is proven on read.

For each damage (swapped with another entry, truncated, garbage, replaced by a symlink,
missing) on a picture chunk and on a sound step, a compose gives the film a clean compose
gives (decoded frames and audio length), says in one line what it threw away, and reads or
deletes nothing outside the project.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from test_chunks import chunks, four, frame_hashes
from test_compose import decoded_seconds

from storyboard.board.spec import load_project
from storyboard.cut.chunks import ChunkCache
from storyboard.cut.compose import compose_film
from storyboard.generate.state import BuildState

DAMAGES = ["swapped", "swapped-with-record", "truncated", "garbage", "symlink", "missing"]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], float]:
    """One composed project (full path: crossfades) and its film's frames and audio length."""
    root = tmp_path_factory.mktemp("clean")
    project, state = four(root)
    res = compose_film(project, state, log=lambda s: None)
    return project.root, frame_hashes(res.path), decoded_seconds(res.path)[1]


def entries(root: Path, ext: str) -> list[Path]:
    return sorted(p for p in (root / "build" / "chunks").glob(f"*/*.{ext}"))


def sidecar(entry: Path) -> Path:
    return entry.with_name(entry.name + ".sum")


def damage(kind: str, victim: Path, other: Path, outside: Path) -> None:
    if kind == "swapped":
        victim.write_bytes(other.read_bytes())
    elif kind == "swapped-with-record":  # the whole entry: chunk and its record together
        for a, b in ((victim, other), (sidecar(victim), sidecar(other))):
            data_a, data_b = a.read_bytes(), b.read_bytes()
            a.write_bytes(data_b)
            b.write_bytes(data_a)
    elif kind == "truncated":
        data = victim.read_bytes()
        victim.write_bytes(data[: len(data) // 3])
    elif kind == "garbage":
        victim.write_bytes(os.urandom(victim.stat().st_size))
    elif kind == "symlink":
        shutil.copyfile(other, outside)
        victim.unlink()
        victim.symlink_to(outside)
    else:
        victim.unlink()


@pytest.mark.parametrize("kind", DAMAGES)
@pytest.mark.parametrize("what", ["picture", "sound"])
def test_a_damaged_entry_is_thrown_away_and_made_again(
    clean: tuple[Path, list[str], float], tmp_path: Path, kind: str, what: str
) -> None:
    src, frames, audio_seconds = clean
    root = tmp_path / "p"
    shutil.copytree(src, root, symlinks=True)
    outside_dir = tmp_path / "outside"
    outside_dir.mkdir()
    outside = outside_dir / "elsewhere.bin"
    ext = "mp4" if what == "picture" else "wav"
    found = entries(root, ext)
    assert len(found) >= 2
    victim, other = found[0], found[-1]
    damage(kind, victim, other, outside)
    before_outside = outside.read_bytes() if outside.exists() else None
    project = load_project(root)
    (project.build / "test-film.mp4").unlink()
    lines: list[str] = []
    res = compose_film(project, BuildState(root), log=lines.append)
    assert frame_hashes(res.path) == frames
    assert decoded_seconds(res.path)[1] == pytest.approx(audio_seconds, abs=1e-3)
    said = [line for line in lines if "chunk cache" in line]
    if kind == "missing":
        assert said == []
    elif kind == "swapped-with-record":  # both entries are caught, each by its own key
        assert len(said) == 2, lines
        assert {victim.name, other.name} == {
            name for line in said for name in (victim.name, other.name) if name in line
        }
        assert all("another entry" in line for line in said), said
    else:
        assert len(said) == 1, lines
        assert victim.name in said[0] and "made again" in said[0]
    assert victim.is_file() and not victim.is_symlink()
    # nothing outside the project was deleted or changed
    if before_outside is not None:
        assert outside.read_bytes() == before_outside


def test_a_symlinked_cache_folder_is_never_followed(tmp_path: Path, monkeypatch) -> None:
    photos = tmp_path / "photos"
    (photos / "ab").mkdir(parents=True)
    for i in range(3):
        (photos / "ab" / f"img{i}.jpg").write_bytes(b"x" * 4000)
        (photos / f"top{i}.jpg").write_bytes(b"y" * 4000)
    project, state = four(tmp_path)
    project.build.mkdir(parents=True, exist_ok=True)
    (project.build / "chunks").symlink_to(photos, target_is_directory=True)
    monkeypatch.setenv("STORYBOARD_CACHE_MB", "0")
    lines: list[str] = []
    res = compose_film(project, state, log=lines.append)
    assert sorted(p.name for p in photos.rglob("*")) == sorted(
        ["ab"] + [f"img{i}.jpg" for i in range(3)] + [f"top{i}.jpg" for i in range(3)]
    )
    assert not (project.build / "chunks").is_symlink()
    assert (project.build / "chunks").is_dir() and res.encoded > 0
    assert any("symlink" in line for line in lines), lines


def test_force_reads_nothing_from_the_cache(tmp_path: Path) -> None:
    project, state = four(tmp_path)
    first = compose_film(project, state, log=lambda s: None)
    made = {p: p.stat().st_ino for p in chunks(project, "mp4") | chunks(project, "wav")}
    again = compose_film(
        load_project(project.root), BuildState(project.root), force=True, log=lambda s: None
    )
    assert again.reused == 0 and again.encoded == first.encoded
    assert all(p.stat().st_ino != ino for p, ino in made.items())  # every entry rewritten


def test_an_entry_without_its_record_is_not_trusted(tmp_path: Path) -> None:
    cache = ChunkCache(tmp_path / "chunks", log=lambda s: None)
    p = cache.make("abkey", "bin", lambda t: t.write_bytes(b"whole"))
    assert cache.get("abkey", "bin") == p
    p.write_bytes(b"other")  # same size, other content
    assert cache.get("abkey", "bin") is None and not p.exists()
    again = cache.make("abkey", "bin", lambda t: t.write_bytes(b"whole"))
    for sidecar in again.parent.iterdir():
        if sidecar != again:
            sidecar.unlink()
    assert cache.get("abkey", "bin") is None


def test_a_cache_it_may_not_mark_still_hits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only cache (a mount, a shared folder): a chunk it has is used, though it cannot
    be marked as recently used (hostile helper-57: every hit became a miss, and the compose
    failed writing what it already had); one evicted meanwhile is a miss."""
    import errno
    import os

    from storyboard.cut import chunks

    cache = ChunkCache(tmp_path / "chunks", log=lambda s: None)
    p = cache.make("abkey", "bin", lambda t: t.write_bytes(b"whole"))

    def utime(error: int):  # type: ignore[no-untyped-def]
        def fail(*a, **k):  # type: ignore[no-untyped-def]
            raise OSError(error, os.strerror(error))

        return fail

    monkeypatch.setattr(chunks.os, "utime", utime(errno.EROFS))
    assert cache.get("abkey", "bin") == p
    monkeypatch.setattr(chunks.os, "utime", utime(errno.ENOENT))
    assert cache.get("abkey", "bin") is None
