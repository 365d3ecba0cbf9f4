"""Two composes sharing one chunk cache (``compose --cache PATH``) at once (hostile5 Q2): the
one that ends first does not trim the cache under the other. A compose holds the cache while
it runs; the trim is done only when no other compose holds it, else it is left to the last one
to finish."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from storyboard.cut.chunks import ChunkCache, chunk_key


def put(cache: ChunkCache, n: int) -> Path:
    return cache.make(chunk_key("test", {"n": n}), "bin", lambda p: p.write_bytes(b"x" * 1000))


def test_a_trim_leaves_the_chunks_of_a_compose_still_running(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    a, b = ChunkCache(folder), ChunkCache(folder)
    a.hold()
    b.hold()
    mine, theirs = put(a, 1), put(b, 2)
    old = put(b, 3)
    b.used.discard(old)  # looked up by B long before: still B's, though not "used" by A
    assert a.evict(0) == []  # B still holds the cache: nothing is deleted
    assert mine.is_file() and theirs.is_file() and old.is_file()
    b.release()
    a2 = ChunkCache(folder)
    a2.hold()
    a2.used.add(mine)
    assert set(a2.evict(0)) == {theirs, old}  # nobody else holds it now: trimmed
    assert mine.is_file()


def test_a_compose_in_another_process_holds_the_cache(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    other = ChunkCache(folder)
    theirs = put(other, 1)
    code = (
        "import sys, time; from pathlib import Path; from storyboard.cut.chunks import ChunkCache;"
        f"c = ChunkCache(Path({str(folder)!r})); c.hold(); print('held', flush=True);"
        "sys.stdin.readline()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        me = ChunkCache(folder)
        me.hold()
        assert me.evict(0) == [] and theirs.is_file()
    finally:
        proc.communicate("\n", timeout=30)
    time.sleep(0.05)
    me2 = ChunkCache(folder)
    me2.hold()
    assert me2.evict(0) == [theirs]  # the other process has ended: its hold went with it


def test_a_cache_never_held_trims_as_before(tmp_path: Path) -> None:
    cache = ChunkCache(tmp_path / "chunks")
    p = put(cache, 1)
    cache.used.clear()
    assert cache.evict(0) == [p]


def test_a_forged_chunk_with_a_matching_record_does_not_make_a_short_film(tmp_path: Path) -> None:
    """hostile5 Q8: a chunk and its record both replaced (a forgery the record cannot catch)
    made a film short of frames, and nothing said so. The joined picture's frames are counted:
    a film that is not the cut's length is refused, and none is put in place."""
    import hashlib
    import os

    import pytest
    from test_film_key import reload, three

    from storyboard.cut import chunks
    from storyboard.cut.compose import compose_film
    from storyboard.errors import ComposeError

    project, state = three(tmp_path)
    first = compose_film(project, state, log=lambda s: None)
    pictures = sorted(
        (p for p in (project.build / "chunks").rglob("*.mp4")), key=lambda p: p.stat().st_size
    )
    forged = pictures[-1]
    other = pictures[0]  # a real chunk of another length, with a record made to match it
    data = other.read_bytes()
    forged.write_bytes(data)
    chunks._write_record(forged, (len(data), hashlib.sha256(data).hexdigest()))
    first.path.unlink()
    with pytest.raises(ComposeError, match="frames") as e:
        compose_film(*reload(project), log=lambda s: None)
    assert "compose --force" in str(e.value)
    assert not first.path.exists()
    assert not any(n.startswith(".compose-") for n in os.listdir(project.build))


@pytest.mark.parametrize("kind", ["folder", "fifo", "symlink", "dangling"])
def test_an_in_use_file_that_is_not_a_file_is_replaced_and_the_trim_goes_on(
    tmp_path: Path, kind: str
) -> None:
    """hostile6 R4: a `.in-use` that was a folder, FIFO or link stopped every trim, silently."""
    import os

    folder = tmp_path / "chunks"
    cache = ChunkCache(folder)
    old = put(cache, 1)
    spot = folder / ".in-use"
    outside = tmp_path / "outside"
    outside.write_text("keep")
    if kind == "folder":
        spot.mkdir()
        (spot / "x").write_text("x")
    elif kind == "fifo":
        os.mkfifo(spot)
    elif kind == "symlink":
        spot.symlink_to(outside)
    else:
        spot.symlink_to(tmp_path / "nowhere")
    said: list[str] = []
    again = ChunkCache(folder, log=said.append)
    again.hold()
    assert again.evict(0) == [old]
    assert any(".in-use" in line for line in said), said
    assert spot.is_file() and not spot.is_symlink()
    assert outside.read_text() == "keep"
