"""The chunk cache deletes only what it wrote, and ``--cache PATH`` must be a cache folder
(hostile finding H8: the trim deleted the user's own files under PATH; ``--cache .`` deleted
the project's assets, journal and film; a PATH that was a file became a folder)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from storyboard.cut.cachefolder import TAG, admit_cache_folder
from storyboard.cut.chunks import ChunkCache, chunk_key
from storyboard.errors import StoryboardError


def _entry(cache: ChunkCache, name: str, data: bytes = b"x" * 100) -> Path:
    key = chunk_key("picture", name)
    return cache.make(key, "mp4", lambda dest: dest.write_bytes(data))


def _old(p: Path) -> None:
    os.utime(p, (1_000_000, 1_000_000))


def test_the_trim_deletes_only_entries_the_cache_wrote(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    cache = ChunkCache(folder)
    made = _entry(cache, "one")
    mine = {
        folder / "photos" / "holiday.jpg": b"precious",
        folder / "ab" / "x.mp4": b"precious",  # a folder named like a shard
        folder / made.parent.name / "notes.txt": b"precious",  # inside a real shard
        folder / made.parent.name / ("f" * 40 + ".mp4"): b"precious",  # a key's shape, wrong shard
        folder / "top.txt": b"precious",
    }
    for p, data in mine.items():
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        _old(p)
    removed = ChunkCache(folder).evict(limit=0)
    assert removed == [made]
    for p, data in mine.items():
        assert p.read_bytes() == data, p


def test_a_path_that_is_a_file_is_refused_and_kept(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("precious")
    with pytest.raises(StoryboardError, match="notes.txt.*not a folder"):
        admit_cache_folder(notes, tmp_path / "project")
    assert notes.read_text() == "precious"


@pytest.mark.parametrize("where", [".", "..", "build", "build/takes", "assets"])
def test_the_project_or_a_folder_of_it_is_refused(tmp_path: Path, where: str) -> None:
    root = tmp_path / "project"
    (root / "build" / "takes").mkdir(parents=True)
    (root / "assets").mkdir()
    (root / "storyboard.yaml").write_text("title: x\n")
    with pytest.raises(StoryboardError, match="--cache"):
        admit_cache_folder(root / where, root)
    assert not (root / where / TAG).exists()


def test_a_folder_of_other_files_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    (folder / "photos").mkdir(parents=True)
    (folder / "photos" / "holiday.jpg").write_text("precious")
    with pytest.raises(StoryboardError, match="not a storyboard chunk cache"):
        admit_cache_folder(folder, tmp_path / "project")
    assert not (folder / TAG).exists()


def test_a_new_an_empty_or_an_earlier_cache_folder_is_taken_and_tagged(tmp_path: Path) -> None:
    root = tmp_path / "project"
    new, empty, earlier = tmp_path / "new" / "chunks", tmp_path / "empty", tmp_path / "earlier"
    empty.mkdir()
    _entry(ChunkCache(earlier), "one")  # a cache made before the tag existed: shards only
    (earlier / TAG).unlink(missing_ok=True)
    for folder in (new, empty, earlier):
        admit_cache_folder(folder, root)
        assert (folder / TAG).read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
        admit_cache_folder(folder, root)  # and again: it is a cache now


def test_the_projects_own_cache_is_always_taken(tmp_path: Path) -> None:
    root = tmp_path / "project"
    admit_cache_folder(root / "build" / "chunks", root)
    assert (root / "build" / "chunks" / TAG).is_file()
