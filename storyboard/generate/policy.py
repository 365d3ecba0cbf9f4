"""How the client waits: retry and poll policies, a server's ``Retry-After``, loopback hosts."""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for the annotation: start-up does not pay for httpx
    import httpx


@dataclass
class RetryPolicy:
    """Backoff for transient failures: ``base * 2**attempt`` capped, with full jitter.

    A server's ``Retry-After`` is honoured up to ``max_retry_after`` seconds per wait (a huge
    value or a far HTTP-date waits that long, then retries); after ``max_retries`` retries the
    request gives up.
    """

    max_retries: int = 6
    base: float = 1.0
    cap: float = 30.0
    max_retry_after: float = 60.0

    def delay(self, attempt: int, retry_after: float | None, rng: Callable[[], float]) -> float:
        """Seconds to wait before retry number ``attempt + 1``."""
        if retry_after is not None and math.isfinite(retry_after):
            return min(max(retry_after, 0.0), self.max_retry_after)
        return rng() * min(self.cap, self.base * (2**attempt))


@dataclass
class PollPolicy:
    """When to ask ``getResponse``: an initial delay, then a growing interval with a cap."""

    initial_delay: float = 2.0
    interval: float = 2.0
    factor: float = 1.5
    max_interval: float = 10.0
    timeout: float = 30 * 60.0  # per task, from its submission
    batch_window: float = 0.05  # polls falling due within this window share one request
    not_found_grace: float = 30.0  # "task not found" counts only after this long (seconds)


def _retry_after(resp: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP-date); None if absent or garbage."""
    value = resp.headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return seconds if math.isfinite(seconds) else None


def _is_loopback(host: str | None) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def base_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be the Runware endpoint, or None: one judgement for ``render``,
    ``status`` and the client (hostile F11). https anywhere, plain http only to loopback."""
    from urllib.parse import urlsplit

    if not url.isprintable() or url != url.strip():  # urlsplit drops tabs and line ends
        return (
            f"refusing RUNWARE_BASE_URL {url!r}: it holds spaces or control characters "
            "(a line end from a .env file?)"
        )
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as e:
        return f"refusing RUNWARE_BASE_URL {url}: not a URL ({e})"
    if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(host)):
        return (
            f"refusing RUNWARE_BASE_URL {url}: the API key would travel in clear text; "
            "use https (plain http only to 127.0.0.0/8, ::1 or localhost)"
        )
    if not host:
        return f"refusing RUNWARE_BASE_URL {url}: it names no host (e.g. https://api.runware.ai/v1)"
    if not _host_name(host):  # hostile helper-42: `exa mple.com` was sent tasks, journaled
        return f"refusing RUNWARE_BASE_URL {url}: {host!r} is not a host name or an IP address"
    if "@" in parts.netloc:  # httpx would send it as Basic auth, not the key (helper-46)
        return (
            f"refusing RUNWARE_BASE_URL {url}: it names a user (user@host); the API key goes "
            "in RUNWARE_API_KEY"
        )
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0 or parts.netloc.endswith(":"):
        return f"refusing RUNWARE_BASE_URL {url}: its port is not a TCP port (1-65535)"
    return None


_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")


def _host_name(host: str) -> bool:
    """A DNS name (an international one in its IDNA form) or an IP address."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return len(ascii_host) <= 253 and _HOST_NAME.fullmatch(ascii_host.lower()) is not None
