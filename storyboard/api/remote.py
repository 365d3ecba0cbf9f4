"""Composing several films as Ray tasks (``--on ray``): the driver's side.

The driver holds the project's writer lock for the whole batch, checks every chosen take
against its hash (and, with a real key, that none is a placeholder), then sends one compose job
per film; each job's chunk encodes are Ray tasks of their own. The chunk cache is trimmed once,
after every film is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from storyboard.errors import ComposeError
from storyboard.files import shell_arg
from storyboard.generate.staleness import film_nodes, require_real_takes
from storyboard.generate.state import BuildState

from .events import CallbackProgress
from .results import ComposeResult

if TYPE_CHECKING:
    from storyboard.cut.executors import RayExecutor

    from .project import Project


def compose_remote(
    films: list[Project],
    executor: RayExecutor,
    cache: str | Path | None,
    force: bool,
    wait: bool,
    progress: CallbackProgress,
) -> list[ComposeResult]:
    """Compose ``films`` as Ray tasks; results in the films' order."""
    from storyboard.cut.cachefolder import admit_cache_folder
    from storyboard.cut.chunks import ChunkCache, cache_limit_bytes
    from storyboard.cut.machine import jobs_cap
    from storyboard.cut.remote import ComposeJob, compose_job
    from storyboard.generate.staleness import cut_lock

    limit = cache_limit_bytes()  # a bad setting is reported before anything runs
    jobs_cap()
    main = films[0]
    folder = main.root / "build" / "chunks"
    if cache is not None:  # a cache folder, never a folder of anything else (hostile H8)
        folder = admit_cache_folder(Path(cache), main.root)
    jobs = []
    with main._state("compose", wait, progress):
        for film in films:
            state = BuildState(film.root, variant=film._spec.variant)
            try:
                for scene in film.scenes:
                    take = state.lock.get(scene)
                    if take is not None and not state.file_ok(take):
                        raise ComposeError(
                            f"{film.variant_name}: scene {scene!r}: take {take.n} file "
                            f"{take.file} is missing or does not match its sha256; run "
                            f"`storyboard render {shell_arg(film.root)} --variant "
                            f"{film.variant_name}`"
                        )
                plan = film._compiled()
                lock, _ = cut_lock(plan, state)
                if film.real:
                    require_real_takes(state, lock, film_nodes(plan))
            finally:
                state.close()
            jobs.append(ComposeJob(film._spec, lock, folder, force, executor.chunk_runner()))
        progress.log(f"composing {len(jobs)} films on Ray ({executor.where()})")
        try:
            done = executor.map(compose_job, jobs)
        finally:
            executor.close()
        used = set().union(*(d.result.used for d in done))
        trim = ChunkCache(folder)
        trim.used = used
        trim.evict(limit)
    out = []
    for film, d in zip(films, done, strict=True):
        progress.log(f"== {film.variant_name}")
        for line in d.logs:
            progress.log(line)
        r = d.result
        out.append(ComposeResult.of(r))
    return out
