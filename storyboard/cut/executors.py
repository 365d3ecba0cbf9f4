"""Where the CPU work of composing runs: local processes (the default) or Ray tasks.

One choice, made by ``--on``: ``None`` runs every compose here, as it always has (its chunk
encodes in the compose's own pool); ``ray`` starts a small Ray instance on this machine
(loopback only, no dashboard) and ``ray://HOST:PORT`` connects to an existing cluster. On Ray,
each film's compose is a task and each chunk encode inside it is a task of its own, retried by
Ray when a worker dies (a half-written chunk keeps its temporary name and is never used).
Generation never runs here. Ray is an optional extra: without it, ``--on ray`` says how to
install it.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from storyboard.errors import StoryboardError
from storyboard.files import owned_tempdir, sweep_stale

from .picture import ChunkRunner, RemoteChunk

T = TypeVar("T")
R = TypeVar("R")

INSTALL = "pip install -e '.[ray]'  (or: pip install 'ray[client]>=2.9')"
RETRIES = 3  # a chunk or compose whose worker died is run again, up to this many times
OBJECT_STORE = 80 * 1024 * 1024  # a local instance only passes small jobs and paths around
CLASS_PREFIX = re.compile(r"\A(?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:Error|Exception): ")
ADDRESS = re.compile(r"\Aray://[A-Za-z0-9.\-\[\]:]+:[0-9]{1,5}\Z")


def executor_for(on: str | None) -> Executor:
    """The executor ``--on`` names; one clear message for a bad name or a missing Ray."""
    if on is None or on == "local":
        return Executor()
    if on != "ray" and not ADDRESS.match(on):
        raise StoryboardError(
            f"--on: expected `ray` (a local Ray instance) or `ray://HOST:PORT` (an existing "
            f"cluster), got {on!r}"
        )
    try:
        import ray  # noqa: F401
    except ImportError:
        raise StoryboardError(
            f"--on {on}: Ray is not installed; install the optional extra: {INSTALL}"
        ) from None
    if on != "ray":
        _, port = _host_port(on)
        if not 0 < port < 65536:
            raise StoryboardError(f"--on {on}: port {port} is not a TCP port (1 to 65535)")
    return RayExecutor(address=None if on == "ray" else on)


def reachable(on: str | None, timeout: float = 5.0) -> None:
    """Before anything is spent: a ``ray://HOST:PORT`` cluster's Ray Client can be used from
    here (its ``grpcio``, Ray's ``client`` extra) and its port answers; else one message
    (hostile helper-41: the clips were bought, then the compose could not reach it)."""
    executor_for(on)
    if on is None or not on.startswith("ray://"):
        return
    try:
        import grpc  # noqa: F401  (what Ray Client speaks)
    except ImportError:
        raise StoryboardError(
            f"--on {on}: Ray Client is not installed (Ray's `client` extra); install the "
            f"optional extra again: {INSTALL}"
        ) from None
    import socket

    try:
        socket.create_connection(_host_port(on), timeout=timeout).close()
    except OSError as e:
        raise StoryboardError(
            f"--on {on}: cannot reach the cluster ({e.strerror or e}); nothing was spent"
        ) from None


def _host_port(address: str) -> tuple[str, int]:
    """``ray://HOST:PORT`` (checked by :data:`ADDRESS`) as a host and a port number."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    return host.strip("[]"), int(port)


@dataclass
class Executor:
    """Runs independent jobs here (threads; each job may start its own processes)."""

    local: bool = True

    def map(self, fn: Callable[[T], R], jobs: Sequence[T], workers: int = 2) -> list[R]:
        """``fn`` over ``jobs``, results in order; the first error is raised."""
        from concurrent.futures import ThreadPoolExecutor

        if len(jobs) <= 1:
            return [fn(j) for j in jobs]
        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(fn, jobs))


@dataclass
class RayExecutor(Executor):
    """Runs jobs as Ray tasks: on a local instance (``address`` None) or a cluster."""

    address: str | None = None
    local: bool = False
    num_cpus: int | None = None  # a local instance's size (default: this machine's cores)
    started: bool = field(default=False, repr=False)
    session: Path | None = field(default=None, repr=False)  # a local instance's own folder

    def connect(self) -> None:
        """Join the cluster, or start a local instance (loopback only, no dashboard)."""
        import ray

        if ray.is_initialized():
            return
        try:
            if self.address is None:
                self.session = start_local_ray(self.num_cpus or os.cpu_count() or 2)
                self.started = True
            else:
                ray.init(address=self.address, log_to_driver=False, configure_logging=False)
        except Exception as e:  # Ray raises many kinds; each is one message here
            where = self.address or "a local Ray instance"
            raise StoryboardError(f"--on: cannot start or reach {where}: {e}") from None

    def map(self, fn: Callable[[T], R], jobs: Sequence[T], workers: int = 0) -> list[R]:
        """``fn`` over ``jobs`` as Ray tasks (retried when a worker dies), results in order."""
        import ray

        self.connect()
        remote = ray.remote(num_cpus=1, max_retries=RETRIES, retry_exceptions=False)(fn)
        refs = [remote.remote(j) for j in jobs]
        try:
            return list(ray.get(refs))
        except ray.exceptions.RayTaskError as e:
            cause: Any = e.as_instanceof_cause()
            if isinstance(cause, StoryboardError):
                raise StoryboardError(_plain(cause)) from None
            raise StoryboardError(f"a Ray task failed: {_plain(e)}") from None
        except ray.exceptions.RayError as e:
            raise StoryboardError(f"a Ray task failed: {e}") from None

    def where(self) -> str:
        """Where the tasks run, in words."""
        return self.address or "a local instance"

    def chunk_runner(self) -> ChunkRunner:
        """Chunk encodes as Ray tasks (used from inside a compose task)."""
        return _RayChunks(self.address)

    def close(self) -> None:
        """Stop the local instance this executor started (a cluster is left running)."""
        import ray

        if self.started and ray.is_initialized():
            ray.shutdown()
        self.started = False
        if self.session is not None:
            shutil.rmtree(self.session, ignore_errors=True)
            self.session = None


@dataclass
class _RayChunks:
    """A picklable chunk runner: ``make_chunk`` over the jobs as Ray tasks."""

    address: str | None

    def __call__(self, fn: Callable[[RemoteChunk], Path], jobs: list[RemoteChunk]) -> list[Path]:
        return RayExecutor(address=self.address).map(fn, jobs)


def ray_temp_dir() -> str:
    """Where local instances keep their sessions: the temporary folder, or ``/tmp`` when that
    is too deep for the Unix sockets Ray makes there (107 bytes at most)."""
    import tempfile

    tmp = tempfile.gettempdir()
    return tmp if len(tmp) <= 40 else "/tmp"


def sweep_dead_sessions(base: Path) -> list[Path]:
    """Remove the session folders of local instances whose driver is gone (a ``kill -9``),
    and stop the Ray processes still running for them: its agents and workers outlive the
    driver for a minute or more and ignore SIGTERM (hostile helper-45). A process is stopped
    only when its command line names a removed folder (``sb-ray-PID-RANDOM``: this tool's)."""
    removed = sweep_stale("sb-ray-", base)
    if not removed:
        return removed
    try:
        import psutil  # comes with Ray (on the path once ray is imported)
    except ImportError:
        return removed
    names = [str(p) for p in removed]
    for proc in psutil.process_iter(["cmdline", "uids"]):
        try:
            if proc.info["uids"] is not None and proc.info["uids"].real != os.getuid():
                continue
            line = " ".join(proc.info["cmdline"] or [])
            if any(n in line for n in names):
                proc.kill()
        except (psutil.Error, OSError):
            continue
    return removed


def start_local_ray(num_cpus: int, object_store: int = OBJECT_STORE) -> Path:
    """Start a new Ray instance in this process that listens on loopback only; returns the
    folder of its session (logs, sockets), which the caller removes after ``ray.shutdown()``.

    Ray replaces a node address of 127.0.0.1 by the machine's routable one, and its servers
    then listen on every interface; with ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` (Ray's own
    switch for single-machine use, ``ray._private.ray_constants``) the node address stays
    loopback and so do the GCS, raylet and worker servers. The variable is set for this
    process and the Ray processes it starts; it is Ray's, read nowhere else.

    It starts quietly: Ray's driver-side logger is set to ERROR (``ray.init``'s
    ``configure_logging`` and ``logging_level``), so its start-up notices (the token banner,
    "Token authentication is enabled for this Ray cluster...", on every run) are not printed
    and its errors are; its workers' output stays in the session's logs (``log_to_driver``).
    """
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    import ray
    from ray._private import ray_constants  # read at import: set here if Ray came in earlier

    ray_constants.ENABLE_RAY_CLUSTER = False
    base = Path(ray_temp_dir())
    sweep_dead_sessions(base)  # what killed runs left
    session = owned_tempdir("sb-ray-", base)
    try:
        ray.init(
            address="local",  # a new instance: never one another process started
            num_cpus=num_cpus,
            object_store_memory=object_store,
            include_dashboard=False,
            _temp_dir=str(session),
            _node_ip_address="127.0.0.1",
            log_to_driver=False,
            configure_logging=True,  # Ray's "ray" logger, at ERROR: its start-up notices go,
            logging_level=logging.ERROR,  # its errors stay (a failed start is raised anyway)
        )
    except BaseException:
        shutil.rmtree(session, ignore_errors=True)
        raise
    return session


def _plain(e: BaseException) -> str:
    """An error's own message, without Ray's traceback decoration."""
    text = str(e)
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return type(e).__name__
    return CLASS_PREFIX.sub("", lines[-1].strip(), count=1)  # Ray's `pkg.mod.Error: ` (H16)
