"""The Runware client against httpx.MockTransport: every response shape and error."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from storyboard.errors import (
    AuthError,
    CreditsError,
    GenerationError,
    InvalidRequest,
    ProviderError,
    SafetyError,
    TaskNotFound,
    TransientError,
)
from storyboard.generate.client import PollPolicy, RetryPolicy, RunwareClient
from storyboard.generate.protocol import VideoResult, parse_envelope

KEY = "sk-secret-key-1234"
UUID = "29ac7910-ce46-402c-b27b-4557b3297cdb"
TASK = {
    "taskType": "videoInference",
    "taskUUID": UUID,
    "model": "openai:3@1",
    "positivePrompt": "a kite",
    "width": 1280,
    "height": 720,
    "duration": 8,
    "numberResults": 1,
    "includeCost": True,
    "deliveryMethod": "async",
}
SUCCESS = {
    "taskType": "videoInference",
    "taskUUID": UUID,
    "status": "success",
    "videoUUID": "df343c44-b6a2-4218-ac27-ec0e497f2b15",
    "videoURL": "https://vm.runware.ai/video/x.mp4",
    "seed": 7,
    "cost": 0.8,
    "outputs": {"videoId": "video_69c5"},
}

Reply = tuple[int, Any] | Callable[[httpx.Request], httpx.Response] | Exception


class FakeRunware:
    """A scripted server: each POST takes the next reply; records every request body."""

    def __init__(self, replies: list[Reply]):
        self.replies = list(replies)
        self.bodies: list[list[dict[str, Any]]] = []
        self.headers: list[httpx.Headers] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.bodies.append(json.loads(request.content))
            self.headers.append(request.headers)
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        if callable(reply):
            return reply(request)
        status, body = reply
        headers = {}
        if isinstance(body, tuple):
            body, headers = body
        return httpx.Response(status, json=body, headers=headers)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.now += s


def make(replies: list[Reply], **kw: Any) -> tuple[RunwareClient, FakeRunware, FakeClock]:
    fake = FakeRunware(replies)
    clock = FakeClock()
    http = httpx.AsyncClient(transport=httpx.MockTransport(fake))
    client = RunwareClient(
        http,
        api_key=KEY,
        base_url="https://api.runware.ai/v1",
        sleep=clock.sleep,
        clock=clock,
        rng=lambda: 0.5,
        poll=kw.pop(
            "poll",
            PollPolicy(
                initial_delay=2,
                interval=2,
                factor=1.5,
                max_interval=10,
                timeout=600,
                batch_window=0,
            ),
        ),
        retry=kw.pop("retry", RetryPolicy(max_retries=4, base=1, cap=30)),
        **kw,
    )
    return client, fake, clock


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def ack() -> tuple[int, Any]:
    return 200, {"data": [{"taskType": "videoInference", "taskUUID": UUID}]}


def processing() -> tuple[int, Any]:
    return 200, {"data": [{"taskType": "videoInference", "taskUUID": UUID, "status": "processing"}]}


def test_submit_then_poll_until_success() -> None:
    client, fake, clock = make([ack(), processing(), processing(), (200, {"data": [SUCCESS]})])
    (result,) = run(client.run(TASK))
    assert result == VideoResult(
        UUID, SUCCESS["videoUUID"], SUCCESS["videoURL"], "video_69c5", 0.8, 7, False
    )
    assert fake.bodies[0] == [TASK]
    assert fake.bodies[1] == [{"taskType": "getResponse", "taskUUID": UUID}]
    assert fake.headers[0]["authorization"] == f"Bearer {KEY}"
    assert fake.headers[0]["content-type"] == "application/json"
    assert clock.sleeps == [2, 2, 3.0]  # initial delay, then backoff x1.5


def test_poll_interval_is_capped() -> None:
    replies: list[Reply] = [ack()] + [processing()] * 8 + [(200, {"data": [SUCCESS]})]
    client, _, clock = make(replies)
    run(client.run(TASK))
    assert max(clock.sleeps) == 10
    assert clock.sleeps[-3:] == [10, 10, 10]


def test_results_are_matched_by_task_uuid_not_position() -> None:
    other = {**SUCCESS, "taskUUID": "11111111-1111-4111-8111-111111111111", "videoUUID": "zzz"}
    client, _, _ = make([ack(), (200, {"data": [other, SUCCESS]})])
    (result,) = run(client.run(TASK))
    assert result.video_uuid == SUCCESS["videoUUID"]


def test_several_results_accumulate_across_polls() -> None:
    second = {**SUCCESS, "videoUUID": "second", "videoURL": "https://vm.runware.ai/2.mp4"}
    task = {**TASK, "numberResults": 2}
    client, _, _ = make(
        [
            ack(),
            (200, {"data": [SUCCESS, {**processing()[1]["data"][0]}]}),
            (200, {"data": [SUCCESS, second]}),
        ]
    )
    results = run(client.run(task))
    assert {r.video_uuid for r in results} == {SUCCESS["videoUUID"], "second"}


def test_response_with_data_and_errors() -> None:
    env = parse_envelope(200, {"data": [SUCCESS], "errors": [{"code": "x", "taskUUID": "other"}]})
    assert env.items_for(UUID) == [SUCCESS]
    assert env.errors_for(UUID) == []
    assert env.errors_for("other")[0]["code"] == "x"


@pytest.mark.parametrize(
    "body",
    [
        {"error": {"code": "invalidApiKey", "message": "bad"}},
        {"errors": {"code": "invalidApiKey", "message": "bad"}},
        {"error": "bad"},
    ],
    ids=["singular-error", "errors-object", "error-string"],
)
def test_defensive_envelope_shapes(body: dict) -> None:
    assert parse_envelope(400, body).errors


def test_bare_list_and_data_object_shapes() -> None:
    assert parse_envelope(200, [SUCCESS]).data == [SUCCESS]
    assert parse_envelope(200, {"data": {"imageUUID": "u"}}).data == [{"imageUUID": "u"}]


def test_error_item_inside_data() -> None:
    item = {
        "taskType": "videoInference",
        "taskUUID": UUID,
        "status": "error",
        "error": {"code": "timeoutProvider", "message": "provider timed out"},
    }
    client, _, _ = make([ack(), (200, {"data": [item]})])
    with pytest.raises(ProviderError) as e:
        run(client.run(TASK, scene="dusk"))
    assert e.value.code == "timeoutProvider" and e.value.scene == "dusk"


@pytest.mark.parametrize(
    "status,code,exc",
    [
        (401, "invalidApiKey", AuthError),
        (403, "forbidden", AuthError),
        (402, "insufficientCredits", CreditsError),
        (400, "invalidDuration", InvalidRequest),
        (400, "contentPolicyViolation", SafetyError),
        (400, "nsfwContentDetected", SafetyError),
        (404, "taskNotFound", TaskNotFound),
        (400, "taskFailedOrNotFound", TaskNotFound),
    ],
    ids=lambda x: str(x) if not isinstance(x, type) else x.__name__,
)
def test_errors_map_to_the_exception_tree(status: int, code: str, exc: type) -> None:
    err = {
        "code": code,
        "message": f"{code} happened",
        "parameter": "duration",
        "taskType": "videoInference",
        "taskUUID": UUID,
    }
    client, fake, _ = make([(status, {"errors": [err]})])
    with pytest.raises(exc) as e:
        run(client.submit(TASK, scene="dusk"))
    assert e.value.code == code and e.value.status == status and e.value.scene == "dusk"
    assert e.value.parameter == "duration"
    assert len(fake.bodies) == 1  # not retried
    assert "scene 'dusk'" in str(e.value) and f"HTTP {status}" in str(e.value)


def test_provider_timeout_in_poll_is_a_provider_error() -> None:
    err = {
        "code": "timeoutProvider",
        "message": "The provider timed out",
        "taskUUID": UUID,
        "taskType": "videoInference",
    }
    client, _, _ = make([ack(), (200, {"errors": [err]})])
    with pytest.raises(ProviderError, match="provider timed out"):
        run(client.run(TASK))


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_transient_statuses_are_retried_with_backoff(status: int) -> None:
    client, fake, clock = make(
        [(status, {"errors": [{"code": "busy", "message": "busy"}]}), (status, None), ack()]
    )
    assert run(client.submit(TASK)) == []
    assert len(fake.bodies) == 3
    assert all(b == [TASK] for b in fake.bodies)  # same taskUUID every time
    assert clock.sleeps == [0.5, 1.0]  # full jitter (rng=0.5) of 1, 2


def test_retry_after_is_honoured() -> None:
    client, _, clock = make(
        [(429, ({"errors": [{"code": "rateLimitExceeded"}]}, {"Retry-After": "7"})), ack()]
    )
    run(client.submit(TASK))
    assert clock.sleeps == [7.0]


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("dropped"),
    ],
    ids=["connect", "read-timeout", "dropped"],
)
def test_network_errors_are_retried(exc: Exception) -> None:
    client, fake, _ = make([exc, ack()])
    run(client.submit(TASK))
    assert len(fake.bodies) == 2


def test_retries_give_up_with_a_transient_error() -> None:
    client, fake, _ = make([(503, None)] * 5)
    with pytest.raises(TransientError) as e:
        run(client.submit(TASK, scene="dusk"))
    assert e.value.status == 503 and len(fake.bodies) == 5


def test_lost_submit_response_is_resubmitted_with_same_uuid_then_conflict_means_poll() -> None:
    conflict = {
        "errors": [
            {
                "code": "conflictTaskUUID",
                "message": "exists",
                "taskUUID": UUID,
                "taskType": "videoInference",
            }
        ]
    }
    client, fake, _ = make(
        [
            httpx.RemoteProtocolError("server disconnected"),
            (400, conflict),
            (200, {"data": [SUCCESS]}),
        ]
    )
    (result,) = run(client.run(TASK))
    assert result.video_id == "video_69c5"
    assert fake.bodies[0] == fake.bodies[1] == [TASK]
    assert fake.bodies[2] == [{"taskType": "getResponse", "taskUUID": UUID}]


def test_poll_timeout_is_configurable() -> None:
    poll = PollPolicy(
        initial_delay=1, interval=1, factor=1, max_interval=1, timeout=3, batch_window=0
    )
    client, _, _ = make([ack()] + [processing()] * 10, poll=poll)
    with pytest.raises(ProviderError, match="no result after 3 s"):
        run(client.run(TASK))


def test_polls_due_together_share_one_request() -> None:
    u2 = "22222222-2222-4222-8222-222222222222"
    s2 = {**SUCCESS, "taskUUID": u2, "videoUUID": "v2"}

    def both(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        assert {t["taskUUID"] for t in body} == {UUID, u2}
        return httpx.Response(200, json={"data": [SUCCESS, s2]})

    client, fake, _ = make([both], poll=PollPolicy(initial_delay=0, batch_window=0.01))

    async def go() -> list[list[VideoResult]]:
        return list(await asyncio.gather(client.wait(UUID), client.wait(u2)))

    a, b = run(go())
    assert a[0].video_uuid == SUCCESS["videoUUID"] and b[0].video_uuid == "v2"
    assert client.stats.poll_requests == 1 and client.stats.polls == 2


def test_api_key_never_appears_in_errors() -> None:
    err = {"code": "invalidApiKey", "message": f"key {KEY} is not valid"}
    client, _, _ = make([(401, {"errors": [err]})])
    with pytest.raises(AuthError) as e:
        run(client.submit(TASK))
    assert KEY not in str(e.value) and KEY not in repr(e.value.args)


def test_missing_key_is_refused() -> None:
    with pytest.raises(GenerationError, match="RUNWARE_API_KEY"):
        RunwareClient(httpx.AsyncClient(), api_key="")


def test_upload_uses_media_storage_and_returns_the_media_uuid() -> None:
    def reply(request: httpx.Request) -> httpx.Response:
        (task,) = json.loads(request.content)
        assert task["taskType"] == "mediaStorage" and task["operation"] == "upload"
        assert task["media"].startswith("data:image/png;base64,")
        item = {"taskType": "mediaStorage", "taskUUID": task["taskUUID"], "operation": "upload",
                "mediaUUID": "m-1", "mediaURL": "https://im.runware.ai/m-1.png"}  # fmt: skip
        return httpx.Response(200, json={"data": [item]})

    client, _, _ = make([reply])
    assert run(client.upload_image(b"\x89PNG...")) == "m-1"


def test_image_upload_is_the_fallback_when_media_storage_is_unknown() -> None:
    seen: list[str] = []

    def reply(request: httpx.Request) -> httpx.Response:
        (task,) = json.loads(request.content)
        seen.append(task["taskType"])
        if task["taskType"] == "mediaStorage":
            err = {"code": "invalidTaskType", "message": "unsupported taskType",
                   "parameter": "taskType", "taskUUID": task["taskUUID"]}  # fmt: skip
            return httpx.Response(400, json={"errors": [err]})
        assert task["image"].startswith("data:image/png;base64,")
        item = {"taskType": "imageUpload", "taskUUID": task["taskUUID"], "imageUUID": "img-1"}
        return httpx.Response(200, json={"data": [item]})

    client, _, _ = make([reply, reply, reply])
    assert run(client.upload_image(b"\x89PNG...")) == "img-1"
    assert run(client.upload_image(b"\x89PNG2..")) == "img-1"
    assert seen == ["mediaStorage", "imageUpload", "imageUpload"]  # refused once, remembered


def _video_reply(
    body: bytes, length: int | None = None
) -> Callable[[httpx.Request], httpx.Response]:
    def reply(request: httpx.Request) -> httpx.Response:
        headers = {"content-length": str(length if length is not None else len(body))}
        return httpx.Response(200, stream=httpx.ByteStream(body), headers=headers)

    return reply


def test_download_is_atomic_and_hashed(tmp_path: Path) -> None:
    client, _, _ = make([_video_reply(b"x" * 1000)])
    d = run(client.download("https://vm.runware.ai/v.mp4", tmp_path / "v.mp4"))
    assert d.size == 1000 and (tmp_path / "v.mp4").read_bytes() == b"x" * 1000
    import hashlib

    assert d.sha256 == hashlib.sha256(b"x" * 1000).hexdigest()
    assert not list(tmp_path.glob(".*part"))


def test_truncated_download_is_retried(tmp_path: Path) -> None:
    client, _, _ = make([_video_reply(b"x" * 500, length=1000), _video_reply(b"y" * 1000)])
    d = run(client.download("https://vm.runware.ai/v.mp4", tmp_path / "v.mp4"))
    assert d.size == 1000 and client.stats.download_retries == 1


def test_only_https_downloads_from_the_real_api(tmp_path: Path) -> None:
    client, _, _ = make([])
    with pytest.raises(ProviderError, match="non-https"):
        run(client.download("http://127.0.0.1:9/v.mp4", tmp_path / "v.mp4"))
    with pytest.raises(ProviderError, match="non-https"):
        run(client.download("file:///etc/passwd", tmp_path / "v.mp4"))


def test_unwritable_destination_is_one_clear_error(tmp_path: Path) -> None:
    """A full disk or an unwritable folder: a message naming the file, never a traceback."""
    from storyboard.errors import StoryboardError

    (tmp_path / "blocker").write_text("a file where a folder should be")
    client, _, _ = make([_video_reply(b"x" * 100)])
    with pytest.raises(StoryboardError, match="cannot write .*take-1.mp4"):
        run(client.download("https://vm.runware.ai/v.mp4", tmp_path / "blocker" / "take-1.mp4"))


def test_a_poll_due_while_another_batch_is_in_flight_is_still_sent() -> None:
    """A waiter that joins while a getResponse request is in flight gets its own request."""
    u2 = "33333333-3333-4333-8333-333333333333"
    s2 = {**SUCCESS, "taskUUID": u2, "videoUUID": "v2"}

    async def go() -> Any:
        arrived, release = asyncio.Event(), asyncio.Event()

        async def handler(request: httpx.Request) -> httpx.Response:
            ids = [t["taskUUID"] for t in json.loads(request.content)]
            if not arrived.is_set():
                arrived.set()
                await release.wait()  # hold the first batch in flight
            items = [i for i in (SUCCESS, s2) if i["taskUUID"] in ids]
            return httpx.Response(200, json={"data": items})

        clock = FakeClock()
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        client = RunwareClient(
            http,
            api_key=KEY,
            sleep=clock.sleep,
            clock=clock,
            poll=PollPolicy(initial_delay=0, batch_window=0),
        )
        a = asyncio.create_task(client.wait(UUID))
        await arrived.wait()
        b = asyncio.create_task(client.wait(u2))
        for _ in range(5):  # let b enqueue its poll behind the in-flight batch
            await asyncio.sleep(0)
        release.set()
        return await asyncio.wait_for(asyncio.gather(a, b), timeout=5)

    a, b = run(go())
    assert a[0].video_uuid == SUCCESS["videoUUID"] and b[0].video_uuid == "v2"
