"""The standalone emulator under hostile request bodies: one HTTP 400 (413: too large) with a
reason in Runware's error shape, never a dropped connection, a traceback or a hang."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from storyboard.emulator import Emulator, EmulatorConfig


@pytest.fixture(scope="module")
def emu() -> Any:
    with Emulator(EmulatorConfig(latency=0.0, draft=True)) as e:
        yield e


def raw_post(emu: Emulator, path: str, body: bytes, length: str | None = "auto") -> tuple[int, Any]:
    """One POST over a plain socket (so any Content-Length can be sent); (status, JSON)."""
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    if length == "auto":
        length = str(len(body))
    if length is not None:
        head += f"Content-Length: {length}\r\n"
    with socket.create_connection(("127.0.0.1", emu.port), timeout=5) as s:
        s.sendall(head.encode() + b"Connection: close\r\n\r\n" + body)
        data = b""
        while True:
            try:
                piece = s.recv(65536)
            except TimeoutError:
                raise AssertionError(f"no answer within 5 s: {data[:200]!r}") from None
            if not piece:
                break
            data += piece
    assert data, "the connection was dropped without an answer"
    status = int(data.split(b" ", 2)[1])
    return status, json.loads(data.split(b"\r\n\r\n", 1)[1] or b"null")


CASES = [
    ("deep-tasks", "/v1", b"[" * 50_000 + b"]" * 50_000, None, 400, "nested more than 64 deep"),
    ("deep-faults", "/_emulator/faults", b"[" * 5000 + b"]" * 5000, None, 400, "nested more than"),
    ("faults-not-json", "/_emulator/faults", b"{kind: drop}", None, 400, "not valid JSON"),
    ("faults-unknown-key", "/_emulator/faults", b'{"kind": "drop", "when": 1}', None, 400, "unknown field 'when'"),  # noqa: E501
    ("faults-bad-kind", "/_emulator/faults", b'{"kind": "explode"}', None, 400, "unknown fault kind 'explode'"),  # noqa: E501
    ("faults-delay-text", "/_emulator/faults", b'{"kind": "latency", "delay": "x"}', None, 400, "'delay' must be a number"),  # noqa: E501
    ("faults-delay-huge", "/_emulator/faults", b'{"kind": "latency", "delay": 1e9}', None, 400, "'delay' must be"),  # noqa: E501
    ("faults-times-true", "/_emulator/faults", b'{"kind": "drop", "times": true}', None, 400, "'times' must be"),  # noqa: E501
    ("faults-number", "/_emulator/faults", b"5", None, 400, "a fault is a JSON object"),
    ("length-abc", "/v1", b"[]", "abc", 400, "Content-Length"),
    ("length-negative", "/v1", b"[]", "-1", 400, "Content-Length"),
    ("length-huge", "/v1", b"[]", str(10**12), 413, "at most"),
    ("nul-in-task", "/v1", b'[{"taskType": "videoInference\\u0000"}]', None, 400, "NUL"),
    ("nan-in-task", "/v1", b'[{"taskType": "videoInference", "duration": NaN}]', None, 400, "NaN"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "body", "length", "status", "reason"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_a_hostile_body_is_answered_with_its_reason(
    emu: Emulator, path: str, body: bytes, length: str | None, status: int, reason: str
) -> None:
    got, answer = raw_post(emu, path, body, "auto" if length is None else length)
    assert got == status, answer
    message = answer["errors"][0]["message"]
    assert reason in message, message
    assert raw_post(emu, "/_emulator/faults", b"[]")[0] == 200  # still serving


def test_a_good_fault_body_still_adds_the_fault(emu: Emulator) -> None:
    got, answer = raw_post(emu, "/_emulator/faults", b'{"kind": "latency", "delay": 0.5}')
    assert got == 200 and answer["faults"][-1]["delay"] == 0.5
    emu.faults.clear()


def test_times_always_is_accepted_as_the_readme_writes_it(emu: Emulator) -> None:
    """Hostile helper-37: `times=always` (README; the --fault form takes it) was refused in
    the JSON body: "'times' must be a number of 0 or more"."""
    got, answer = raw_post(emu, "/_emulator/faults", b'{"kind": "cut", "times": "always"}')
    assert got == 200 and answer["faults"][-1]["times"] is None, answer
    got, answer = raw_post(emu, "/_emulator/faults", b'{"kind": "cut", "times": "often"}')
    assert got == 400
    emu.faults.clear()
