"""The Runware REST client: submit, poll, upload, download — over an injected ``httpx.AsyncClient``.

* Every request is a ``POST`` of a JSON array of tasks with ``Authorization: Bearer KEY``.
* Transient failures (429, 5xx, connection errors, read timeouts) are retried with exponential
  backoff and full jitter, honouring ``Retry-After``.
* Never pay twice: a retried submit reuses its ``taskUUID``; ``conflictTaskUUID`` means the server
  already has the task, so we poll it.
* Polls of many tasks that fall due together are sent as one request.
* The API key never appears in a message, a log line or a file.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import math
import os
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from storyboard.errors import (
    GenerationError,
    ProviderError,
    StoryboardError,
    TaskNotFound,
    TransientError,
)
from storyboard.files import part_prefix_for, sweep_dead_parts, write_error

from .policy import PollPolicy, RetryPolicy, _is_loopback, _retry_after, base_url_problem
from .protocol import (
    CONFLICT,
    DEFAULT_BASE_URL,
    TRANSIENT_STATUSES,
    Envelope,
    VideoResult,
    error_from,
    get_response_task,
    is_finished,
    parse_envelope,
)
from .uploads import Uploads

Sleep = Callable[[float], Awaitable[None]]


@dataclass
class Stats:
    """Counters for benches and tests."""

    requests: int = 0
    submits: int = 0
    polls: int = 0
    poll_requests: int = 0
    retries: int = 0
    downloads: int = 0
    download_retries: int = 0


@dataclass(frozen=True)
class Download:
    path: Path
    size: int
    sha256: str


@dataclass
class _Waiter:
    task_uuid: str
    future: asyncio.Future[Envelope]
    scene: str | None = None


class RunwareClient(Uploads):
    """Async client for Runware's REST API (or the local emulator, which speaks the same)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        retry: RetryPolicy | None = None,
        poll: PollPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
        allow_loopback_http: bool = False,
    ):
        if not api_key:
            raise GenerationError("no API key: set RUNWARE_API_KEY", code="invalidApiKey")
        why = base_url_problem(base_url)
        if why is not None:
            raise GenerationError(why, code="insecureBaseURL")
        self._http = http
        self._key = api_key
        self.base_url = base_url
        self.retry = retry or RetryPolicy()
        self.poll_policy = poll or PollPolicy()
        self._sleep = sleep
        self._clock = clock
        self._rng = rng
        self._allow_loopback_http = allow_loopback_http
        self._no_media_storage = False  # set once the service refused a mediaStorage task
        self.stats = Stats()
        # told ``(scene, "waiting N s (why)")`` before each retry wait of a scene's request
        self.on_wait: Callable[[str, str], None] | None = None
        self._pending: list[_Waiter] = []
        self._flush: asyncio.Task[None] | None = None
        self._started_lock = asyncio.Lock()
        self._started: tuple[float | None] | None = None  # asked once: (answer,)

    # -- transport -----------------------------------------------------------------------------

    async def post(
        self,
        tasks: list[dict[str, Any]],
        *,
        scene: str | None = None,
        waiting: tuple[str, ...] = (),
    ) -> Envelope:
        """POST one array of tasks, retrying transient failures. Returns the parsed envelope.

        Raises the mapped :class:`GenerationError` for a whole-request failure (401, 402, ...).
        Per-task errors are left in the envelope for the caller to match by ``taskUUID``.
        Each retry wait is reported through :attr:`on_wait` for ``scene`` (or the ``waiting``
        scenes of a shared request).
        """
        headers = {"Authorization": f"Bearer {self._key}", "Content-Type": "application/json"}
        body = json.dumps(tasks).encode()
        attempt = 0
        waited = 0.0
        while True:
            retry_after: float | None = None
            failure: GenerationError
            self.stats.requests += 1
            try:
                resp = await self._http.post(self.base_url, content=body, headers=headers)
            except httpx.TransportError as e:  # connect errors, timeouts, dropped connections
                failure = TransientError(
                    f"network error talking to {self._host()}: {type(e).__name__}",
                    scene=scene,
                    code="connection",
                )
            else:
                env = self._parse(resp)
                if resp.status_code < 400 or (
                    env.data and resp.status_code not in TRANSIENT_STATUSES
                ):
                    return env
                err = (
                    env.errors[0]
                    if env.errors
                    else {"code": f"http{resp.status_code}", "message": resp.reason_phrase}
                )
                if any(e.get("code") == CONFLICT for e in env.errors) and not env.data:
                    return env  # the caller decides what a conflict means
                if (
                    env.errors
                    and all(e.get("taskUUID") for e in env.errors)
                    and resp.status_code not in TRANSIENT_STATUSES
                    and resp.status_code not in (401, 402, 403)
                ):
                    return env  # errors about single tasks: the caller matches them by taskUUID
                failure = error_from(err, resp.status_code, scene=scene, secret=self._key)
                if resp.status_code in TRANSIENT_STATUSES:
                    failure = TransientError(
                        failure.message,
                        code=failure.code,
                        status=resp.status_code,
                        scene=scene,
                        parameter=failure.parameter,
                    )
                    retry_after = _retry_after(resp)
            if not failure.retryable:
                raise failure
            if attempt >= self.retry.max_retries:
                if failure.status == 429:
                    failure.message += (
                        f" (still rate limited after {attempt + 1} attempts over {waited:.0f} s;"
                        " render again later)"
                    )
                raise failure
            self.stats.retries += 1
            delay = self.retry.delay(attempt, retry_after, self._rng)
            self._report_wait(waiting or ((scene,) if scene else ()), delay, failure)
            await self._sleep(delay)
            waited += delay
            attempt += 1

    def _report_wait(self, scenes: tuple[str, ...], delay: float, why: GenerationError) -> None:
        if self.on_wait is None:
            return
        reason = (
            "rate limited"
            if why.status == 429
            else f"HTTP {why.status}"
            if why.status
            else "network error"
        )
        for s in scenes:
            self.on_wait(s, f"waiting {delay:.0f} s ({reason})")

    def _parse(self, resp: httpx.Response) -> Envelope:
        try:
            body = resp.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        return parse_envelope(resp.status_code, body)

    def _host(self) -> str:
        return urlsplit(self.base_url).netloc or self.base_url

    # -- tasks ---------------------------------------------------------------------------------

    async def submit(self, task: dict[str, Any], *, scene: str | None = None) -> list[VideoResult]:
        """Submit one task (idempotent: same ``taskUUID`` on every retry).

        Returns results already present in the acknowledgment (usually none). A
        ``conflictTaskUUID`` answer means the server already has this task: not an error.
        """
        self.stats.submits += 1
        env = await self.post([task], scene=scene)
        uid = task["taskUUID"]
        for err in env.errors_for(uid):
            if err.get("code") == CONFLICT:
                continue
            exc = error_from(err, env.status, scene=scene, secret=self._key)
            # the service refused this very task: it was not accepted, so nothing was charged
            exc.final = err.get("taskUUID") == uid and not exc.retryable
            raise exc
        return [VideoResult.from_item(i) for i in env.items_for(uid) if is_finished(i)]

    async def emulator_started(self) -> float | None:
        """When the emulator answering at a loopback ``base_url`` started (its
        ``/_emulator/hello``), asked once; None for anything else (the service, a proxy, no
        answer). An emulator knows no task sent before it started."""
        async with self._started_lock:
            if self._started is None:
                self._started = (await self._ask_started(),)
        return self._started[0]

    async def _ask_started(self) -> float | None:
        parts = urlsplit(self.base_url)
        try:
            if parts.scheme != "http" or not _is_loopback(parts.hostname):
                return None
            url = f"http://{parts.netloc}/_emulator/hello"
            r = await self._http.get(url, timeout=3.0)
            body = r.json() if r.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None
        if not isinstance(body, dict) or body.get("emulator") != "storyboard":
            return None
        started = body.get("started")
        if isinstance(started, bool) or not isinstance(started, (int, float)):
            return None
        try:  # an integer too big for a float (hostile helper-49) is no answer either
            when = float(started)
        except OverflowError:
            return None
        return when if math.isfinite(when) else None

    async def wait(
        self,
        task_uuid: str,
        *,
        number_results: int = 1,
        scene: str | None = None,
        submitted_at: float | None = None,
        on_status: Callable[[str], None] | None = None,
        unknown_is_final: bool = False,
    ) -> list[VideoResult]:
        """Poll ``getResponse`` until ``number_results`` generations succeeded or one failed.

        Only the service's answer about this task is ``final`` (an error result, or "not found"
        for longer than ``not_found_grace``, or at once when ``unknown_is_final``: asked of an
        emulator that started after the task was sent); a failed poll or a timeout is not.
        """
        pol = self.poll_policy
        start = submitted_at if submitted_at is not None else self._clock()
        results: dict[str, VideoResult] = {}
        delay = pol.initial_delay
        interval = pol.interval
        unknown_since: float | None = None
        while True:
            await self._sleep(delay)
            env = await self._poll_batched(task_uuid, scene)
            for err in env.errors_for(task_uuid):
                exc = error_from(err, env.status, scene=scene, secret=self._key)
                exc.task_uuid = task_uuid
                if isinstance(exc, TaskNotFound):
                    now = self._clock()
                    unknown_since = now if unknown_since is None else unknown_since
                    if not unknown_is_final and now - unknown_since < pol.not_found_grace:
                        break  # not yet visible, or a glitch: ask again
                exc.final = err.get("taskUUID") == task_uuid and not exc.retryable
                raise exc
            else:
                unknown_since = None
            for item in env.items_for(task_uuid):
                if is_finished(item):
                    r = VideoResult.from_item(item)
                    results[r.video_uuid] = r
                elif on_status is not None:
                    on_status(str(item.get("status") or "processing"))
            if len(results) >= number_results:
                return list(results.values())
            if self._clock() - start > pol.timeout:
                raise ProviderError(
                    f"no result after {pol.timeout:g} s (the task is kept in the "
                    "journal; render again to keep waiting)",
                    code="timeout",
                    task_uuid=task_uuid,
                    scene=scene,
                )
            delay = interval
            interval = min(pol.max_interval, interval * pol.factor)

    async def run(self, task: dict[str, Any], *, scene: str | None = None) -> list[VideoResult]:
        """Submit then wait: the whole life of one task."""
        early = await self.submit(task, scene=scene)
        n = int(task.get("numberResults", 1))
        if len(early) >= n:
            return early
        return await self.wait(task["taskUUID"], number_results=n, scene=scene)

    async def _poll_batched(self, task_uuid: str, scene: str | None) -> Envelope:
        """Join the next getResponse request; polls due within ``batch_window`` share it."""
        loop = asyncio.get_running_loop()
        waiter = _Waiter(task_uuid, loop.create_future(), scene)
        self._pending.append(waiter)
        self.stats.polls += 1
        if self._flush is None or self._flush.done():
            self._flush = asyncio.create_task(self._flush_polls())
        return await waiter.future

    async def _flush_polls(self) -> None:
        """Send the pending polls, a batch at a time, until none is left.

        Polls that fall due while a batch is in flight go out in the next batch.
        """
        while self._pending:
            await asyncio.sleep(self.poll_policy.batch_window)
            batch, self._pending = self._pending, []
            uuids = list(dict.fromkeys(w.task_uuid for w in batch))
            scenes = {w.scene for w in batch}
            self.stats.poll_requests += 1
            try:
                env = await self.post(
                    [get_response_task(u) for u in uuids],
                    scene=next(iter(scenes)) if len(scenes) == 1 else None,
                    waiting=tuple(sorted(s for s in scenes if s)),
                )
            except asyncio.CancelledError:
                for w in batch + self._pending:
                    w.future.cancel()
                raise
            except Exception as e:  # noqa: BLE001 - handed to this batch's waiters
                for w in batch:
                    if not w.future.done():
                        w.future.set_exception(_rescope(e, w.task_uuid, w.scene))
                continue
            for w in batch:
                if not w.future.done():
                    w.future.set_result(env)

    # -- images and files ----------------------------------------------------------------------

    def check_url(self, url: str) -> None:
        """Only https, except plain http to a loopback emulator when allowed."""
        parts = urlsplit(url)
        if parts.scheme == "https":
            return
        if parts.scheme == "http" and self._allow_loopback_http and _is_loopback(parts.hostname):
            return
        raise ProviderError(f"refusing to download from a non-https URL: {url}", code="insecureURL")

    async def download(
        self,
        url: str,
        dest: Path,
        *,
        scene: str | None = None,
        max_attempts: int = 5,
        sha256: str | None = None,
    ) -> Download:
        """Stream ``url`` into ``dest`` atomically (temp file, fsync, rename); retry truncation.

        Each download writes its own uniquely named temp file, so two downloads of one take
        never mix their bytes. With ``sha256``, bytes that do not match are never renamed into
        place (``dest`` keeps what it had).
        """
        self.check_url(url)
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoryboardError(f"cannot write {dest}: {e.strerror or e}") from None
        sweep_dead_parts(dest.parent, dest.name)  # what a killed download left
        attempt = 0
        while True:
            self.stats.downloads += 1
            tmp: Path | None = None
            try:
                fd, name = tempfile.mkstemp(
                    prefix=part_prefix_for(dest.name), suffix=".part", dir=dest.parent
                )
                tmp = Path(name)
                d = await self._download_once(url, fd, tmp)
                if sha256 is not None and d.sha256 != sha256:
                    raise ProviderError(
                        f"the bytes downloaded from {url} do not match the expected sha256 "
                        f"({d.sha256[:12]}... instead of {sha256[:12]}...); {dest.name} was "
                        "left as it was",
                        scene=scene,
                        code="checksumMismatch",
                    )
                os.replace(tmp, dest)
                tmp = None
                return Download(dest, d.size, d.sha256)
            except (httpx.TransportError, _Truncated, _BadStatus) as e:
                status = e.status if isinstance(e, _BadStatus) else None
                if isinstance(e, _BadStatus) and status not in TRANSIENT_STATUSES:
                    raise ProviderError(
                        f"download failed: HTTP {status} for {url}",
                        status=status,
                        scene=scene,
                        code="downloadFailed",
                    ) from None
                attempt += 1
                if attempt >= max_attempts:
                    raise TransientError(
                        f"download of {url} failed {attempt} times: {e}",
                        scene=scene,
                        code="downloadFailed",
                    ) from None
                self.stats.download_retries += 1
                await self._sleep(self.retry.delay(attempt - 1, None, self._rng))
            except OSError as e:
                raise write_error(dest, e) from None
            finally:
                if tmp is not None:
                    tmp.unlink(missing_ok=True)

    async def _download_once(self, url: str, fd: int, tmp: Path) -> Download:
        digest = hashlib.sha256()
        size = 0
        with open(fd, "wb") as fh:
            async with self._http.stream("GET", url) as resp:
                if resp.status_code != 200:
                    raise _BadStatus(resp.status_code)
                expected = resp.headers.get("content-length")
                async for chunk in resp.aiter_raw(1 << 16):
                    fh.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        if expected is not None and int(expected) != size:
            raise _Truncated(f"got {size} of {expected} bytes")
        if size == 0:
            raise _Truncated("empty body")
        return Download(tmp, size, digest.hexdigest())


class _Truncated(Exception):
    pass


class _BadStatus(Exception):
    def __init__(self, status: int):
        super().__init__(f"HTTP {status}")
        self.status = status


def _rescope(e: BaseException, task_uuid: str, scene: str | None) -> BaseException:
    """A copy of a failed batch's error for one of its waiters: its own task and scene."""
    if not isinstance(e, GenerationError):
        return e
    own = copy.copy(e)
    own.task_uuid, own.scene, own.final = task_uuid, scene, False
    return own
