"""The review server: the token and Host gate, media confinement, Range, and the pick action."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from starlette.testclient import TestClient

from storyboard.generate.writer import project_writer
from storyboard.review.library import open_project
from storyboard.review.server import build_app

TOKEN = "s3cret-token"
PORT = 8123
BASE = f"http://127.0.0.1:{PORT}"


@pytest.fixture
def client(takes_project: Path) -> TestClient:
    app = build_app(open_project(takes_project), TOKEN, PORT)
    return TestClient(app, base_url=BASE)


def q(path: str) -> str:
    return path + ("&" if "?" in path else "?") + f"token={TOKEN}"


PATHS = [
    "/",
    "/static/app.js",
    "/static/app.css",
    "/api/state",
    "/api/plan",
    "/api/events",
    "/media/build/takes/a/take-1.mp4",
    "/film/captions.vtt",
    "/nowhere",
]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("token", [None, "", "wrong", TOKEN[:-1], TOKEN + "x"])
def test_every_request_without_the_token_is_refused(
    client: TestClient, path: str, token: str | None
) -> None:
    url = path if token is None else f"{path}?token={token}"
    r = client.get(url)
    assert r.status_code == 403
    assert r.text == "forbidden\n"


def test_posts_without_the_token_change_nothing(client: TestClient, takes_project: Path) -> None:
    before = (takes_project / "storyboard.lock").read_bytes()
    r = client.post("/api/pick", json={"scene": "a", "take": 2})
    assert r.status_code == 403
    assert (takes_project / "storyboard.lock").read_bytes() == before


@pytest.mark.parametrize("host", ["evil.example", f"127.0.0.1:{PORT + 1}", "127.0.0.1"])
def test_another_host_name_is_refused_even_with_the_token(client: TestClient, host: str) -> None:
    assert client.get(q("/api/state"), headers={"host": host}).status_code == 403


def test_the_token_opens_the_page_and_its_files(client: TestClient) -> None:
    r = client.get(q("/"))
    assert r.status_code == 200
    assert f"/static/app.js?token={TOKEN}" in r.text
    assert client.get("/static/app.css", headers={"x-token": TOKEN}).status_code == 200
    assert client.get(q("/static/index.html")).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/media/%2e%2e/%2e%2e/etc/passwd",
        "/media/..%2F..%2Fetc%2Fpasswd",
        "/media/%2Fetc%2Fpasswd",
        "/media/build/journal.sqlite",
        "/media/storyboard.yaml",
        "/media/storyboard.lock",
        "/media/build/.lock",
        "/media/outside.mp4",
        "/media/build/takes/a/take-9.mp4",
    ],
)
def test_media_is_served_only_from_inside_the_project(
    client: TestClient, takes_project: Path, tmp_path: Path, path: str
) -> None:
    secret = tmp_path / "secret.mp4"
    secret.write_bytes(b"not yours")
    os.symlink(secret, takes_project / "outside.mp4")  # a link leading out of the project
    r = client.get(q(path))
    assert r.status_code == 404
    assert b"not yours" not in r.content


def test_media_answers_range_requests_so_videos_seek(
    client: TestClient, takes_project: Path
) -> None:
    data = (takes_project / "build/takes/a/take-1.mp4").read_bytes()
    r = client.get(q("/media/build/takes/a/take-1.mp4"), headers={"Range": "bytes=100-199"})
    assert r.status_code == 206
    assert r.content == data[100:200]
    assert r.headers["content-range"] == f"bytes 100-199/{len(data)}"
    assert r.headers["content-type"] == "video/mp4"


def test_state_lists_scenes_takes_and_the_cut(client: TestClient) -> None:
    data = client.get(q("/api/state")).json()
    assert [s["id"] for s in data["scenes"]] == ["a", "b"]
    a, b = data["scenes"]
    assert [(t["n"], t["chosen"]) for t in a["takes"]] == [(1, True), (2, False)]
    assert a["takes"][0]["url"].startswith("/media/build/takes/a/take-1.mp4")
    assert (b["mode"], b["source"]) == ("last_frame", "a")
    assert "Scene b, the gulls over it." in b["prompt"]


def test_pick_rewrites_the_lock_under_the_writer_lock(
    client: TestClient, takes_project: Path
) -> None:
    r = client.post(q("/api/pick"), json={"scene": "a", "take": 2})
    assert r.status_code == 200
    assert r.json() == {
        "scene": "a",
        "take": 2,
        "stale": ["b"],
        "warnings": [  # the fixture's takes were made from another storyboard (key "k")
            "take 2 was made from another version of 'a' than the storyboard's now; it stays in "
            "the cut until the scene changes again"
        ],
        "kept": [],
    }
    lock = yaml.safe_load((takes_project / "storyboard.lock").read_text())
    assert lock["scenes"]["a"]["take"] == 2
    r = client.post(q("/api/pick"), json={"scene": "a", "take": 7})
    assert (r.status_code, r.json()) == (400, {"error": "a: no take 7 (takes: 1, 2)"})
    r = client.post(q("/api/pick"), json={"scene": "zz", "take": 1})
    assert r.status_code == 400
    assert "zz" in r.json()["error"]


def test_pick_while_another_writer_holds_the_project_is_refused(
    client: TestClient, takes_project: Path
) -> None:
    before = (takes_project / "storyboard.lock").read_bytes()
    with project_writer(takes_project, "render"):
        r = client.post(q("/api/pick"), json={"scene": "a", "take": 2})
    assert r.status_code == 409
    assert "another render of this project is running" in r.json()["error"]
    assert "--no-wait" not in r.json()["error"]  # a command-line flag the page has no use for
    assert (takes_project / "storyboard.lock").read_bytes() == before


def test_vtt_tracks_give_one_chapter_per_scene(client: TestClient) -> None:
    text = client.get(q("/film/chapters.vtt")).text
    assert text.startswith("WEBVTT\n")
    assert "00:00:00.000 --> 00:00:01.000\na\n" in text
    assert "00:00:01.000 --> 00:00:02.000\nb\n" in text


def test_answers_carry_no_referrer_so_the_token_is_not_handed_on(client: TestClient) -> None:
    r = client.get(q("/"))
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-frame-options"] == "DENY"


def test_a_broken_storyboard_is_shown_not_crashed_on(
    client: TestClient, takes_project: Path
) -> None:
    board = takes_project / "storyboard.yaml"
    board.write_text(board.read_text().replace("duration: 4", "duraton: 4"))
    data = client.get(q("/api/state")).json()
    assert set(data) == {"error", "root", "jobs"}
    assert data["error"] == (
        f"{board}:2: defaults.duraton: unknown key 'duraton'; did you mean 'duration'?"
    )


def test_a_render_from_the_page_over_its_budget_spends_nothing(
    client: TestClient, takes_project: Path
) -> None:
    before = (takes_project / "storyboard.lock").read_bytes()
    plan = client.get(q("/api/plan")).json()
    assert plan["generate"] == ["a", "b"] and plan["cost"] == pytest.approx(0.8)
    r = client.post(q("/api/render"), json={"budget": 0.5})
    assert r.status_code == 202
    jobs = client.app.state.jobs  # type: ignore[attr-defined]
    jobs.thread.join(timeout=60)
    assert jobs.last["ok"] is False
    assert "over the --budget of $0.50" in jobs.last["message"]
    assert client.get(q("/api/state")).json()["jobs"]["last"] == jobs.last
    assert (takes_project / "storyboard.lock").read_bytes() == before
    assert client.post(q("/api/render"), json={"budget": "lots"}).status_code == 400


@pytest.mark.usefixtures("quick_polls")  # only for speed: an emulator answering in 0.05 s
def test_render_stale_from_the_page_generates_and_composes(
    takes_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RUNWARE_API_KEY", raising=False)
    app = build_app(open_project(takes_project, draft=True), TOKEN, PORT)
    client = TestClient(app, base_url=BASE)
    plan = client.get(q("/api/plan")).json()
    assert plan["generate"] == ["a", "b"] and plan["real"] is False
    assert client.post(q("/api/render"), json={"budget": plan["cost"]}).status_code == 202
    app.state.jobs.thread.join(timeout=120)
    assert app.state.jobs.last == {
        "what": "render",
        "ok": True,
        "message": "render: a, b; spent $0 (would cost $0.80)",
    }
    data = client.get(q("/api/state")).json()
    assert [(s["id"], s["status"], s["take"]) for s in data["scenes"]] == [
        ("a", "up to date", 3),
        ("b", "up to date", 2),
    ]
    assert data["film"] is not None and len(data["film"]["chapters"]) == 2


def test_state_has_the_animatic_once_render_boards_cut_it(
    client: TestClient, takes_project: Path
) -> None:
    """hostile2 H5: the page plays the animatic (`build/NAME.animatic.mp4`, issue 17)."""
    assert client.get(q("/api/state")).json()["animatic"] is None
    clip = (takes_project / "build/takes/a/take-1.mp4").read_bytes()
    (takes_project / "build/review-test.animatic.mp4").write_bytes(clip)  # as the page sees it
    url = client.get(q("/api/state")).json()["animatic"]
    assert url.startswith("/media/build/review-test.animatic.mp4?v=")
    assert client.get(q(url)).content == clip
