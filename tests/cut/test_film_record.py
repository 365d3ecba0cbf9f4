"""A hand-edited ``build/film.json`` of any shape: the film is composed again (stale, with a
reason), never a traceback; the review page's state still answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from test_chunks import four

from storyboard.board.spec import load_project
from storyboard.cut.compose import compose_film, film_state
from storyboard.generate.state import BuildState
from storyboard.review.library import open_project
from storyboard.review.server import build_app

BAD = [
    ("parts-text", '{"parts": "x"}'),
    ("extras-numbers", '{"extras": [5]}'),
    ("scenes-text", '{"key": 5, "parts": {"scenes": "x", "order": 3}}'),
    ("scene-text", '{"key": "k", "parts": {"scenes": {"a": "x"}}}'),
    ("size-text", '{"key": "k", "file": 5, "size": "big", "mtime_ns": [], "sha256": 1}'),
    ("a-list", "[1, 2]"),
    ("a-string", '"film"'),
    ("deep", "[" * 5000 + "]" * 5000),
    ("nan", '{"size": NaN}'),
    ("binary", "\udcff"),
]


@pytest.mark.parametrize("text", [c[1] for c in BAD], ids=[c[0] for c in BAD])
def test_a_damaged_film_record_means_compose_again(tmp_path: Path, text: str) -> None:
    project, state = four(tmp_path)
    compose_film(project, state, log=lambda s: None)
    record = project.build / "film.json"
    record.write_bytes(text.encode("utf-8", "surrogateescape"))
    p = load_project(project.root)
    st = film_state(p, BuildState(p.root).lock)
    assert not st.up_to_date and st.reasons == ["build/film.json is damaged"]
    res = compose_film(p, BuildState(p.root), log=lambda s: None)
    assert not res.up_to_date
    assert isinstance(json.loads(record.read_text())["parts"], dict)
    app = build_app(open_project(p.root), "t", 8123)
    record.write_bytes(text.encode("utf-8", "surrogateescape"))
    r = TestClient(app, base_url="http://127.0.0.1:8123").get("/api/state?token=t")
    assert r.status_code == 200
