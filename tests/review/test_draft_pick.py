"""The review page in --draft mode judges a pick the way it shows the takes (hostile F6):
picking the --draft take already in the cut is no "other version", and nothing goes stale."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_project
from starlette.testclient import TestClient

import storyboard as sb
from storyboard.cli.main import main
from storyboard.review.library import open_project
from storyboard.review.server import build_app

TOKEN, PORT = "t0ken", 8124
BOARD = """\
title: D
model: google:3@3
defaults: {duration: 4}
scenes:
  - {id: a, prompt: A kite over the sea.}
  - {id: b, prompt: The kite lands., continuity: last_frame}
"""


@pytest.fixture
def drafted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("RUNWARE_API_KEY", raising=False)
    p = write_project(tmp_path / "p", BOARD)
    fast = ["--emulator-latency", "0.05"]  # only for speed
    assert main(["render", str(p), "--draft", "--no-compose", "--quiet", *fast]) == 0
    return p


def test_the_page_picks_the_draft_take_in_the_cut_without_a_false_warning(drafted: Path) -> None:
    client = TestClient(build_app(open_project(drafted, draft=True), TOKEN, PORT),
                        base_url=f"http://127.0.0.1:{PORT}")  # fmt: skip
    r = client.post(f"/api/pick?token={TOKEN}", json={"scene": "a", "take": 1})
    assert r.status_code == 200, r.text
    assert r.json() == {"scene": "a", "take": 1, "stale": [], "warnings": [], "kept": ["b"]}


def test_the_api_pick_takes_draft(drafted: Path) -> None:
    done = sb.load(drafted).pick("a", 1, draft=True)
    assert (done.stale, done.warnings) == ([], [])


def test_the_cli_pick_takes_draft(drafted: Path, capsys) -> None:
    capsys.readouterr()
    assert main(["pick", str(drafted), "a", "1", "--draft"]) == 0
    assert "warning" not in capsys.readouterr().err
