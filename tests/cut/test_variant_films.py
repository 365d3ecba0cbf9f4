"""Done-when of issue 20: one storyboard, four films (16:9 main, a 9:16 reframe of the same
takes, a 9:16 generated again, a second language), rendered and composed; shared takes are
charged once, each film has its size and its captions their language."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import write_project

import storyboard
from storyboard.cut.executors import start_local_ray
from storyboard.emulator import Emulator, EmulatorConfig
from storyboard.media.ffmpeg import ffmpeg_exe
from storyboard.media.probe import probe

FILMS = """
title: Tide
size: 1280x720
vars: {hello: Good morning}  # a template variable, set again by the French film
output: {size: 320x180, fps: 10}
edit: {loudness: off}
defaults: {duration: 4}
scenes:
  - {id: harbour, prompt: "A harbour at dawn, gulls circling."}
  - id: baker
    prompt: "The baker opens the shop and says {{ hello }}."
    dialogue: [{who: Baker, line: "Good morning!"}]
  - {id: storm, prompt: "A storm over the open sea.", transition: crossfade}
variants:
  vertical: {size: 180x320, reframe: crop}
  native: {size: 720x1280, output: {size: 180x320}}
  french:
    vars: {hello: Bonjour}
    scenes:
      baker: {dialogue: [{who: Boulanger, line: "Bonjour !"}]}
"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list]]:
    root = write_project(tmp_path_factory.mktemp("films") / "tide", FILMS)
    with Emulator(EmulatorConfig(latency=0.05, draft=True)) as emu:
        project = storyboard.load(root, api_key="k", base_url=emu.base_url)
        for name in ["main", *project.variants]:
            project.render(variant=name).raise_for_failures()
        charges = list(emu.ledger_json()["charges"])
    films = project.compose_variants("all")
    yield root, [charges, films]


def frames_digest(path: Path) -> list[str]:
    """The hash of every decoded frame (raw RGB), in order."""
    w, h = probe(path).width, probe(path).height
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True,
        check=True,
    ).stdout
    n = w * h * 3
    return [hashlib.sha256(raw[i : i + n]).hexdigest()[:16] for i in range(0, len(raw), n)]


def test_four_films_plan_render_and_compose(rendered: tuple[Path, list]) -> None:
    root, (charges, films) = rendered
    project = storyboard.load(root)
    assert project.variants == ["vertical", "native", "french"]
    assert [f.film.name for f in films] == [
        "tide.mp4",
        "tide.vertical.mp4",
        "tide.native.mp4",
        "tide.french.mp4",
    ]
    sizes = [(probe(f.film).width, probe(f.film).height) for f in films]
    assert sizes == [(320, 180), (180, 320), (180, 320), (320, 180)]
    assert films[1].route == "full" and "conforming" in films[1].why  # the crop
    # each film's lock is its own; the reframe's takes are the main film's
    main_lock = (root / "storyboard.lock").read_text()
    assert (root / "storyboard.vertical.lock").read_text().split("scenes:")[1] == (
        main_lock.split("scenes:")[1]
    )
    for name in ["main", *project.variants]:
        film = project.status(draft=True, variant=name).film  # the emulator made --draft takes
        assert film is not None and film.up_to_date, (name, film)
    again = project.compose_variants("all")
    assert all(f.up_to_date for f in again)  # nothing encoded the second time


def test_shared_takes_are_charged_once(rendered: tuple[Path, list]) -> None:
    root, (charges, _) = rendered
    prompts = Counter(c["prompt"] for c in charges)
    # main 3 + native 3 (another size) + french's baker (another prompt); the reframe: nothing
    assert len(charges) == 7, charges
    assert all(n <= 2 for n in prompts.values())  # twice only: main's size and native's
    assert prompts["The baker opens the shop and says Bonjour."] == 1
    plan = storyboard.load(root).plan_variants("all", draft=True)
    assert [f.variant for f in plan.films] == ["main", "vertical", "native", "french"]
    assert plan.films[1].shared == {"harbour": "main", "baker": "main", "storm": "main"}
    assert plan.films[3].shared == {"harbour": "main", "storm": "main"}
    assert plan.cost == 0  # everything is made


def test_captions_are_in_the_films_language(rendered: tuple[Path, list]) -> None:
    _, (_, films) = rendered
    by_name = {f.film.name: f.captions.read_text() for f in films if f.captions}
    assert "Baker: Good morning!" in by_name["tide.mp4"]
    assert "Boulanger: Bonjour !" in by_name["tide.french.mp4"]
    assert "Good morning" not in by_name["tide.french.mp4"]
    assert "Baker: Good morning!" in by_name["tide.vertical.mp4"]


def test_the_reframe_crops_the_main_films_picture(rendered: tuple[Path, list]) -> None:
    _, (_, films) = rendered
    main, vertical = films[0].film, films[1].film
    assert frames_digest(main) != frames_digest(vertical)
    assert len(frames_digest(vertical)) == len(frames_digest(main))


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """A small Ray instance on loopback (2 CPUs, no dashboard), stopped after the test."""
    ray = pytest.importorskip(
        "ray", reason="Ray is not installed (pip install -e '.[ray]'; CI installs it)"
    )
    session = start_local_ray(2)
    try:
        yield
    finally:
        ray.shutdown()
        shutil.rmtree(session, ignore_errors=True)


def test_films_composed_on_ray_are_the_local_films_frame_by_frame(
    rendered: tuple[Path, list], local_ray: None, tmp_path: Path
) -> None:
    root, (_, rendered_films) = rendered
    project = storyboard.load(root)
    # the same composes made here, each chunk encoded afresh: x264's output depends on its
    # thread count, which follows how many chunks a compose encodes (not in a chunk's key), so
    # a film whose chunks came from several composes is compared with one made the same way
    local = project.compose_variants("all", cache=tmp_path / "here", force=True)
    assert [f.film for f in local] == [f.film for f in rendered_films]
    before = {f.film.name: frames_digest(f.film) for f in local}
    captions = {f.film.name: f.captions.read_text() for f in local if f.captions}
    # a fresh cache: every chunk is encoded again, each by a Ray task
    on_ray = project.compose_variants("all", on="ray", cache=tmp_path / "chunks", force=True)
    assert [f.film for f in on_ray] == [f.film for f in local]
    assert on_ray[1].encoded > 0 and on_ray[1].route == "full"
    for f in on_ray:
        assert frames_digest(f.film) == before[f.film.name], f.film.name
        if f.captions:
            assert f.captions.read_text() == captions[f.film.name]
    assert not list((tmp_path / "chunks").rglob(".part-*"))  # no half-written chunk left


def test_a_worker_that_dies_mid_chunk_loses_nothing(
    rendered: tuple[Path, list], local_ray: None, tmp_path: Path
) -> None:
    from storyboard.board.spec import load_project
    from storyboard.cut.chunkjob import copy_job
    from storyboard.cut.executors import RayExecutor
    from storyboard.cut.export import lock_timeline
    from storyboard.cut.picture import RemoteChunk, chunk_codec_args, make_chunk
    from storyboard.generate.state import BuildState

    root, _ = rendered
    spec = load_project(root)
    state = BuildState(root)
    try:
        tl = lock_timeline(spec, state.lock)
    finally:
        state.close()
    job = copy_job(tl, 0, 0, 10, root, chunk_codec_args("MP4", 95), 1)
    marker = tmp_path / "died-once"

    def dies_once(chunk: RemoteChunk) -> Path:  # nested: Ray sends it by value to the worker
        import os

        from storyboard.cut.chunks import ChunkCache

        if not marker.exists():
            marker.touch()

            def half(part: Path) -> None:
                part.write_bytes(b"half a chunk")
                os._exit(1)  # the worker dies mid-chunk

            ChunkCache(Path(chunk.folder)).make(chunk.key, chunk.ext, half)
        return make_chunk(chunk)

    key = "ab" * 20
    made = RayExecutor().map(dies_once, [RemoteChunk(job, str(tmp_path / "ray"), key, "mp4")])
    assert marker.exists()  # the first attempt did die; Ray ran the task again
    here = make_chunk(RemoteChunk(job, str(tmp_path / "here"), key, "mp4"))
    assert made[0].read_bytes() == here.read_bytes()  # the chunk is whole
    left = list((tmp_path / "ray").rglob(".part-*"))
    assert [p.read_bytes() for p in left] == [b"half a chunk"]  # kept aside, never used
