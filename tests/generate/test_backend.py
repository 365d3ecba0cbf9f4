"""generate/backend.py: which service a render talks to and what its takes are recorded as
(provenance). Fast: no render; a loopback endpoint is a tiny local server."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from storyboard.errors import StoryboardError
from storyboard.generate.backend import BackendOptions, open_client
from storyboard.generate.client import PollPolicy, RetryPolicy
from storyboard.generate.protocol import DEFAULT_BASE_URL


@contextmanager
def answering(status: int, body: bytes) -> Iterator[str]:
    """A loopback server answering every GET with ``status`` and ``body``; yields its /v1 URL."""
    asked: list[str] = []

    class H(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            asked.append(self.path)
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
    assert set(asked) <= {"/_emulator/hello"}


def test_without_a_key_the_emulator_makes_placeholders() -> None:
    assert BackendOptions().maker == "emulator"
    assert BackendOptions(emulator_draft=True).maker == "draft"
    assert BackendOptions().made_by == "emulator"
    assert BackendOptions(emulator_draft=True).made_by == "draft"
    assert not BackendOptions().real_service
    # a base URL without a key changes nothing: there is no service to send it to
    assert BackendOptions(base_url="https://api.runware.ai/v1").maker == "emulator"


def test_a_key_for_a_remote_endpoint_makes_real_takes_without_asking_it() -> None:
    opts = BackendOptions(api_key="k")
    assert opts.maker == "runware"
    assert opts.real_service
    assert opts.made_by == f"runware {DEFAULT_BASE_URL}"
    other = BackendOptions(api_key="k", base_url="https://proxy.example.com/v1")
    assert other.maker == "runware" and other.real_service
    assert other.made_by == "runware https://proxy.example.com/v1"


@pytest.mark.parametrize(
    ("status", "body", "maker"),
    [
        (200, b'{"emulator": "storyboard", "draft": false}', "emulator"),
        (200, b'{"emulator": "storyboard", "draft": true}', "draft"),
        (200, b'{"emulator": "something else"}', "runware"),
        (200, b"[1, 2]", "runware"),
        (200, b"not json", "runware"),
        (404, b'{"emulator": "storyboard"}', "runware"),
    ],
    ids=["emulator", "draft", "other-json", "json-list", "not-json", "404"],
)
def test_a_key_for_a_loopback_endpoint_asks_what_answers(
    status: int, body: bytes, maker: str
) -> None:
    with answering(status, body) as url:
        opts = BackendOptions(api_key="k", base_url=url)
        assert not opts.real_service  # loopback is never the remote service
        assert opts.maker == maker
        assert opts.made_by == f"{maker} {url}"
    assert opts.maker == maker  # asked once, remembered (the server is gone now)


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNWARE_API_KEY", "key-1")
    monkeypatch.setenv("RUNWARE_BASE_URL", "https://x.test/v1")
    opts = BackendOptions.from_env()
    assert (opts.api_key, opts.base_url) == ("key-1", "https://x.test/v1")
    monkeypatch.setenv("RUNWARE_API_KEY", "")
    monkeypatch.delenv("RUNWARE_BASE_URL")
    opts = BackendOptions.from_env()
    assert (opts.api_key, opts.base_url) == (None, None)


def test_open_client_with_a_key_talks_to_its_endpoint() -> None:
    async def go(opts: BackendOptions) -> tuple[str, Any, Any]:
        async with open_client(opts) as c:
            return c.base_url, c.retry, c.poll_policy

    url, retry, poll = asyncio.run(go(BackendOptions(api_key="k")))
    assert url == DEFAULT_BASE_URL
    assert retry == RetryPolicy() and poll == PollPolicy()  # the real service's pace
    loop = "http://127.0.0.1:9/v1"
    url, retry, poll = asyncio.run(go(BackendOptions(api_key="k", base_url=loop)))
    assert url == loop
    assert retry.base == 0.1 and poll.interval == 0.25  # a local emulator is polled briskly
    mine = PollPolicy(interval=7.0)
    url, retry, poll = asyncio.run(go(BackendOptions(api_key="k", base_url=loop, poll=mine)))
    assert poll == mine


def test_open_client_without_a_key_needs_a_local_service() -> None:
    async def go(opts: BackendOptions, local: Any = None, log: Any = None) -> str:
        async with open_client(opts, log=log, local=local) as c:
            return c.base_url

    with pytest.raises(StoryboardError) as e:
        asyncio.run(go(BackendOptions()))
    assert str(e.value) == "no RUNWARE_API_KEY is set and no local service was given"

    started: list[BackendOptions] = []

    @contextmanager
    def local(opts: BackendOptions) -> Iterator[str]:
        started.append(opts)
        yield "http://127.0.0.1:5/v1"

    said: list[str] = []
    opts = BackendOptions()
    assert asyncio.run(go(opts, local, said.append)) == "http://127.0.0.1:5/v1"
    assert started == [opts]
    assert said == [
        "no RUNWARE_API_KEY: using the local Runware emulator at http://127.0.0.1:5/v1 "
        "(placeholder clips, no cost)"
    ]


def test_the_loopback_question_never_goes_through_a_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as s:  # a proxy that is not there: going through it fails
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(var, dead)
    for var in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)
    with answering(200, b'{"emulator": "storyboard", "draft": true}') as url:
        assert BackendOptions(api_key="k", base_url=url).maker == "draft"


def test_a_silent_loopback_endpoint_is_given_up_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """One that accepts and never answers cannot be confirmed as a proxy: a placeholder maker,
    decided within the question's timeout (3 s), never a hang."""
    import socket
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        url = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
        t0 = time.monotonic()
        assert BackendOptions(api_key="k", base_url=url).maker == "emulator"
        assert time.monotonic() - t0 < 10


def test_an_oversized_hello_is_not_read_whole() -> None:
    """At most 64 KiB of the answer is read: a bigger one is not the emulator's hello."""
    big = b'{"emulator": "storyboard", "pad": "' + b"x" * 70_000 + b'"}'
    with answering(200, big) as url:
        assert BackendOptions(api_key="k", base_url=url).maker == "runware"


def test_without_a_key_the_url_is_not_judged() -> None:
    """Keyless, the built-in emulator is used: RUNWARE_BASE_URL is not read, so not refused."""
    keyless = BackendOptions(base_url="ftp://nowhere")
    keyless.check()
    assert keyless.maker == "emulator"
    with pytest.raises(StoryboardError, match="^insecureBaseURL: "):
        BackendOptions(api_key="k", base_url="ftp://nowhere").check()


def test_a_url_that_does_not_parse_is_never_loopback() -> None:
    assert BackendOptions(api_key="k", base_url="http://[oops/v1").real_service
