"""Choosing the backend: the real Runware API when ``RUNWARE_API_KEY`` is set, else the emulator."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from storyboard.errors import StoryboardError

from .protocol import DEFAULT_BASE_URL
from .state import DRAFT, EMULATOR, RUNWARE

if TYPE_CHECKING:  # httpx and the client are imported when a service is reached (start-up)
    from .client import PollPolicy, RetryPolicy, RunwareClient


@dataclass
class BackendOptions:
    """What ``render`` needs to reach a generation service."""

    api_key: str | None = None
    base_url: str | None = None
    emulator_latency: float = 2.0
    emulator_draft: bool = False
    poll: PollPolicy | None = None
    retry: RetryPolicy | None = None
    http_timeout: float = 60.0  # seconds without an answer before a request is retried

    _loopback_maker: str | None = field(default=None, repr=False, compare=False)

    @property
    def maker(self) -> str:
        """The provenance class of what this backend makes: ``runware``, ``emulator``, ``draft``.

        A key for a loopback endpoint is either a local proxy to Runware or a standalone
        emulator: the endpoint is asked (``/_emulator/hello``). What cannot be confirmed as a
        proxy (an emulator, or nothing answering) counts as placeholder, so a placeholder can
        never pass for a real take."""
        if not self.api_key:
            return DRAFT if self.emulator_draft else EMULATOR
        self.check()  # status judges the URL as render does (hostile F11)
        base = self.base_url or DEFAULT_BASE_URL
        if not _is_loopback_url(base):
            return RUNWARE
        if self._loopback_maker is None:
            self._loopback_maker = _ask_loopback(base)
        return self._loopback_maker

    def check(self) -> None:
        """Raise one :class:`StoryboardError` when a key is set and ``base_url`` cannot be used."""
        from .policy import base_url_problem

        why = base_url_problem(self.base_url or DEFAULT_BASE_URL) if self.api_key else None
        if why is not None:
            raise StoryboardError(f"insecureBaseURL: {why}")

    @property
    def real_service(self) -> bool:
        """A key for a remote endpoint (not a local emulator or proxy on loopback)."""
        return bool(self.api_key) and not _is_loopback_url(self.base_url or DEFAULT_BASE_URL)

    @property
    def made_by(self) -> str:
        """What a take made by this backend records: the maker, and the endpoint when real."""
        if self.api_key:
            return f"{self.maker} {self.base_url or DEFAULT_BASE_URL}"
        return self.maker

    @classmethod
    def from_env(cls) -> BackendOptions:
        return cls(
            api_key=os.environ.get("RUNWARE_API_KEY") or None,
            base_url=os.environ.get("RUNWARE_BASE_URL") or None,
        )


LocalService = Callable[[BackendOptions], AbstractContextManager[str]]
"""Starts a Runware-compatible service for a keyless render; yields its base URL (the API
passes one that runs the emulator: generation never imports the emulator itself)."""


@asynccontextmanager
async def open_client(
    opts: BackendOptions, log: object = None, local: LocalService | None = None
) -> AsyncIterator[RunwareClient]:
    """Yield a client for the real API, or (without a key) for the service ``local`` starts."""
    import httpx

    from .client import PollPolicy, RetryPolicy, RunwareClient

    timeout = httpx.Timeout(opts.http_timeout, connect=min(15.0, opts.http_timeout))
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=16)
    fast = PollPolicy(
        initial_delay=min(1.0, max(0.05, opts.emulator_latency * 0.5)),
        interval=0.25,
        factor=1.3,
        max_interval=1.0,
    )
    if opts.api_key:
        base_url = opts.base_url or DEFAULT_BASE_URL
        loopback = _is_loopback_url(base_url)  # a standalone emulator: poll it briskly
        async with httpx.AsyncClient(timeout=timeout, limits=limits) as http:
            yield RunwareClient(
                http,
                api_key=opts.api_key,
                base_url=base_url,
                retry=opts.retry or (RetryPolicy(base=0.1) if loopback else None),
                poll=opts.poll or (fast if loopback else None),
                allow_loopback_http=loopback,
            )
        return
    if local is None:
        raise StoryboardError("no RUNWARE_API_KEY is set and no local service was given")
    with local(opts) as emulator_url:
        if callable(log):
            log(
                f"no RUNWARE_API_KEY: using the local Runware emulator at {emulator_url} "
                "(placeholder clips, no cost)"
            )
        async with httpx.AsyncClient(timeout=timeout, limits=limits) as http:
            yield RunwareClient(
                http,
                api_key=secrets.token_hex(8),
                base_url=emulator_url,
                poll=opts.poll or fast,
                retry=opts.retry or RetryPolicy(base=0.1),
                allow_loopback_http=True,
            )


def _is_loopback_url(url: str) -> bool:
    from urllib.parse import urlsplit

    from .policy import _is_loopback

    try:
        return _is_loopback(urlsplit(url).hostname)
    except ValueError:  # not a URL: never loopback (check() says why)
        return False


def _ask_loopback(base_url: str) -> str:
    """What answers at a loopback ``base_url``: our emulator (``emulator``/``draft``), or a
    proxy (``runware``: it answers, but not as the emulator). Unreachable: ``emulator``."""
    import json
    import urllib.error
    import urllib.request
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    url = f"{parts.scheme}://{parts.netloc}/_emulator/hello"
    # urllib, not httpx: a no-op render against a local endpoint then never imports httpx
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy
    try:
        with opener.open(url, timeout=3.0) as r:
            raw = r.read(65536)
    except urllib.error.HTTPError:
        return RUNWARE  # it answers, but not as the emulator
    except (OSError, ValueError):
        return EMULATOR
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("emulator") == "storyboard":
        return DRAFT if body.get("draft") else EMULATOR
    return RUNWARE
