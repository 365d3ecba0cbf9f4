"""The review API under hostile bodies: each is one 400 (413: too large) with its reason,
nothing is started, nothing answers 500, and a huge body is never read whole."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.testclient import TestClient

from storyboard.review.bodies import MAX_BODY, BadRequest, read_json
from storyboard.review.library import open_project
from storyboard.review.server import build_app

TOKEN = "s3cret-token"
PORT = 8123
BASE = f"http://127.0.0.1:{PORT}"


@pytest.fixture
def client(takes_project: Path) -> TestClient:
    return TestClient(build_app(open_project(takes_project), TOKEN, PORT), base_url=BASE)


def post(client: TestClient, path: str, raw: bytes | str, **headers: str):  # type: ignore[no-untyped-def]  # noqa: E501
    return client.post(
        f"{path}?token={TOKEN}",
        content=raw,
        headers={"content-type": "application/json", **headers},
    )


RENDER = [
    ("retake-a-string", '{"retake": "ab", "budget": 1}', "render: 'retake' must be a list of scene ids"),  # noqa: E501
    ("retake-a-number", '{"retake": 5, "budget": 1}', "render: 'retake' must be a list of scene ids"),  # noqa: E501
    ("retake-unknown", '{"retake": ["zz"], "budget": 1}', "render: no scene 'zz' in the storyboard"),  # noqa: E501
    ("retake-unknown-task", '{"retake": ["cast:zz"], "budget": 1}', "render: no task 'cast:zz' in the storyboard (a scene id, cast:NAME, board:SCENE, line:SCENE/N, sfx:SCENE/N, music or lipsync:SCENE)"),  # noqa: E501
    ("retake-unknown-board", '{"retake": ["board:zz"], "budget": 1}', "render: no task 'board:zz' in the storyboard (a scene id, cast:NAME, board:SCENE, line:SCENE/N, sfx:SCENE/N, music or lipsync:SCENE)"),  # noqa: E501
    ("retake-nul", '{"retake": ["a\\u0000"], "budget": 1}', "the request body: a NUL character in a string"),  # noqa: E501
    ("no-budget", '{"retake": ["a"]}', "render: 'budget' (US dollars, the most this render may spend) is required"),  # noqa: E501
    ("budget-true", '{"budget": true}', "render: 'budget' must be a number of US dollars"),
    ("budget-nan", '{"budget": NaN}', "the request body: NaN is not a number JSON allows"),
    ("budget-inf", '{"budget": 1e309}', "the request body: a number too large to be finite"),
    ("budget-zero", '{"budget": 0}', "render: 'budget' must be above $0 and finite, got 0"),
    ("budget-negative", '{"budget": -2}', "render: 'budget' must be above $0 and finite, got -2"),
    ("deep", "[" * 30_000 + "]" * 30_000, "the request body: nested more than 64 deep"),
    ("deep-object", '{"a":' * 70 + "1" + "}" * 70, "the request body: nested more than 64 deep"),
    ("not-json", "{budget: 1}", "the request body: not valid JSON"),
    ("a-list", "[1]", "the request body must be a JSON object"),
    ("not-utf8", b'{"budget": "\xff"}', "the request body: not UTF-8 text"),
    ("duplicate-key", '{"budget": 1, "retake": ["a"], "budget": 50}', "the request body: the key 'budget' is given twice"),  # noqa: E501
]  # fmt: skip


@pytest.mark.parametrize(("raw", "reason"), [c[1:] for c in RENDER], ids=[c[0] for c in RENDER])
def test_a_bad_render_body_is_a_400_with_its_reason(
    client: TestClient, raw: str | bytes, reason: str
) -> None:
    r = post(client, "/api/render", raw)
    assert r.status_code == 400, r.text
    assert r.json()["error"].startswith(reason)
    assert client.app.state.jobs.current is None  # type: ignore[attr-defined]
    assert client.app.state.jobs.thread is None  # type: ignore[attr-defined]


PICK = [
    ("take-true", {"scene": "a", "take": True}),
    ("take-float", {"scene": "a", "take": 1.0}),
    ("take-text", {"scene": "a", "take": "1"}),
    ("take-zero", {"scene": "a", "take": 0}),
    ("scene-number", {"scene": 5, "take": 1}),
    ("scene-unknown", {"scene": "zz", "take": 1}),
    ("task-unknown", {"scene": "cast:zz", "take": 1}),
]


@pytest.mark.parametrize("data", [c[1] for c in PICK], ids=[c[0] for c in PICK])
def test_a_bad_pick_body_is_a_400(client: TestClient, takes_project: Path, data: dict) -> None:
    before = (takes_project / "storyboard.lock").read_bytes()
    r = post(client, "/api/pick", json.dumps(data))
    assert r.status_code == 400
    assert r.json()["error"].startswith(
        ("pick: 'take' must be", "pick: 'scene' must be", "pick: no scene 'zz'", "pick: no task")
    )
    assert (takes_project / "storyboard.lock").read_bytes() == before


def test_a_body_over_the_cap_is_refused_unread(client: TestClient) -> None:
    r = post(client, "/api/render", b"{" + b" " * (MAX_BODY + 10) + b"}")
    assert r.status_code == 413
    assert r.json()["error"] == f"the request body may be at most {MAX_BODY} bytes"
    for length in ("abc", "-1"):
        r = post(client, "/api/pick", b"{}", **{"content-length": length})
        assert r.status_code in (400, 413) or r.status_code < 500


def test_a_streamed_body_stops_being_read_at_the_cap() -> None:
    """300 MB sent without a length: the reader stops after the cap, not at the end."""
    asked = [0]

    async def receive() -> dict:
        asked[0] += 1
        return {"type": "http.request", "body": b" " * 65536, "more_body": asked[0] < 4800}

    scope = {"type": "http", "method": "POST", "headers": [], "path": "/", "query_string": b""}
    with pytest.raises(BadRequest) as e:
        asyncio.run(read_json(Request(scope, receive)))
    assert e.value.status == 413
    assert asked[0] <= 2


def test_a_nul_in_a_media_path_is_not_found(client: TestClient) -> None:
    for path in ("/media/build%00x.mp4", "/media/build/takes/a/take-1.mp4%00.png"):
        r = client.get(f"{path}?token={TOKEN}")
        assert r.status_code == 404


def test_plan_with_an_unknown_retake_is_a_400(client: TestClient) -> None:
    r = client.get(f"/api/plan?retake=zz&token={TOKEN}")
    assert r.status_code == 400
    assert r.json()["error"] == "render: no scene 'zz' in the storyboard"


def test_a_good_body_still_starts_a_capped_render(client: TestClient) -> None:
    r = post(client, "/api/render", '{"retake": ["a", "a"], "budget": 0.01}')
    assert r.status_code == 202 and r.json() == {"started": "retake a"}
    jobs = client.app.state.jobs  # type: ignore[attr-defined]
    jobs.thread.join(timeout=60)
    assert "over the --budget of $0.01" in jobs.last["message"]


def test_plan_and_pick_name_boards_too(client: TestClient, takes_project: Path) -> None:
    """Issue 17: a board (and a cast sheet) is a retake and pick target as a scene is."""
    stale = client.get(f"/api/plan?token={TOKEN}").json()["generate"]
    assert stale == ["a", "b"]  # the fixture's takes were made from other content
    r = client.get(f"/api/plan?retake=board:a&token={TOKEN}")
    assert r.status_code == 200, r.text
    assert r.json()["generate"] == ["board:a", *stale]  # no clip starts from it
    r = client.get(f"/api/plan?retake=clip:b&token={TOKEN}")
    assert r.status_code == 200 and r.json()["generate"] == stale
    before = (takes_project / "storyboard.lock").read_bytes()
    r = post(client, "/api/pick", json.dumps({"scene": "board:a", "take": 1}))
    assert r.status_code == 400  # a known board with no take yet: the API's own message
    assert r.json()["error"] == "board:a: no take 1 (takes: none)"
    assert (takes_project / "storyboard.lock").read_bytes() == before
