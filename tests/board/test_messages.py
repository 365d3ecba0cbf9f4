"""Every schema field, given wrong values, answers in our words (never pydantic's)."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import wav_bytes
from pydantic import BaseModel

from storyboard.board.messages import describe, message
from storyboard.board.schema import Storyboard
from storyboard.board.spec import _validate as validate_schema
from storyboard.board.spec import load_project
from storyboard.board.yamlsrc import Located
from storyboard.errors import SpecError

PYDANTIC_WORDS = re.compile(
    r"Input should|Value error|Field required|Extra inputs|String should|List should|"
    r"should be a valid|instance of|\[type=|validation error|Assertion failed|unable to "
    r"(parse|interpret)|fractional part|Dictionary should|Tuple should"
)
BAD_VALUES: list[Any] = [
    "x",
    "",
    -1000,
    10**9,
    2.5,
    True,
    None,
    [1],
    {"k": 1},
    float("inf"),
    float("nan"),
]
BASE: dict[str, Any] = {
    "title": "T",
    "scenes": [
        {
            "id": "a",
            "prompt": "xx",
            "duration": 8,
            "dialogue": [{"who": "A", "line": "Hi."}],
            "continuity": {"mode": "cut"},
            "trim": {"in": 0, "out": 2},
            "transition": {"type": "cut", "duration": 0.5},
        }
    ],
    "defaults": {},
    "edit": {"music": {"file": "a.mp3"}, "transition": {"type": "cut"}},
    "output": {},
}


def _model(ann: Any) -> type[BaseModel] | None:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in getattr(ann, "__args__", ()) or ():
        m = _model(arg)
        if m is not None:
            return m
    return None


def _field_paths(model: type[BaseModel], base: tuple) -> list[tuple]:
    out = []
    for name, f in model.model_fields.items():
        key = f.alias or name
        path = (*base, key)
        out.append(path)
        inner = _model(f.annotation)
        if inner is not None:
            item = (*path, 0) if "list" in str(f.annotation) else path
            out += _field_paths(inner, item)
    return out


def _set(data: Any, path: tuple, value: Any) -> None:
    for part in path[:-1]:
        if isinstance(data, dict):
            data = data.setdefault(part, {})
        else:
            data = data[part]
    data[path[-1]] = value


def test_the_sweep_covers_every_field() -> None:
    paths = _field_paths(Storyboard, ())
    assert ("scenes", 0, "dialogue", 0, "line") in paths
    assert ("edit", "music", "duck") in paths
    assert ("defaults", "trim", "in") in paths
    assert len(paths) > 60


def test_every_field_answers_wrong_values_in_our_words() -> None:
    # the schema step alone (parsing YAML 900 times would only test the YAML parser)
    bad: list[str] = []
    checked = 0
    for path in _field_paths(Storyboard, ()):
        for value in BAD_VALUES:
            data = copy.deepcopy(BASE)
            _set(data, path, value)
            board, problems = validate_schema("storyboard.yaml", Located(data), data)
            checked += board is None
            for p in problems:
                if PYDANTIC_WORDS.search(p.message) or not p.where:
                    bad.append(f"{path} = {value!r}: {p}")
    assert not bad, "\n".join(bad)
    assert checked > 300


def test_a_wrong_value_in_a_file_is_reported_at_its_line(tmp_path: Path) -> None:
    data = copy.deepcopy(BASE)
    _set(data, ("scenes", 0, "trim", "in"), "x")
    (tmp_path / "a.mp3").write_bytes(wav_bytes())
    (tmp_path / "storyboard.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(SpecError) as e:
        load_project(tmp_path)
    [p] = e.value.problems
    assert (p.where, p.message) == ("scenes[0].trim.in", "expected a number of at least 0, got 'x'")
    assert p.line is not None


def test_unknown_error_types_still_read_plainly() -> None:
    err = {"type": "url_parsing", "loc": ("x",), "msg": "Input should be a valid URL", "input": 3}
    assert message(("x",), err) == "3 is not accepted here (url parsing)"
    assert describe(None) == "nothing (the value is empty)"
