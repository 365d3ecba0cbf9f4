"""files.py's defensive readers rule by rule: ``parse_json`` (UTF-8, finite numbers, no NUL, no
key twice, bounded depth, one message naming what was read) and ``https_url_problem`` (a host of
letters, digits, dots and dashes; no space or control character). For mutation testing."""

from __future__ import annotations

from typing import Any

import pytest

from storyboard.errors import StoryboardError
from storyboard.files import https_url_problem, parse_json


@pytest.mark.parametrize(
    ("raw", "data"),
    [
        (b'{"a": [1, 2.5, "x"], "b": {"c": null}}', {"a": [1, 2.5, "x"], "b": {"c": None}}),
        ('{"caf\u00e9": "th\u00e9"}', {"caf\u00e9": "th\u00e9"}),
        ("[[1]]", [[1]]),
        ("1e308", 1e308),
        ('"a"', "a"),
    ],
)
def test_good_json_is_read_as_it_is(raw: bytes | str, data: Any) -> None:
    assert parse_json(raw, "f.json", max_depth=2) == data


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b'{"a": "\xff"}', "not UTF-8 text"),
        ("[NaN]", "NaN is not a number JSON allows"),
        ('{"a": Infinity}', "Infinity is not a number JSON allows"),
        ("-Infinity", "-Infinity is not a number JSON allows"),
        ("[1e309]", "a number too large to be finite"),
        ('{"budget": 1, "budget": 50}', "the key 'budget' is given twice"),
        ('{"a": {"b": 1, "b": 2}}', "the key 'b' is given twice"),
        ('{"a\\u0000": 1}', "a NUL character in a key"),
        ('["a\\u0000"]', "a NUL character in a string"),
        ('{"a": "b\\u0000"}', "a NUL character in a string"),
        ("[[[1]]]", "nested more than 2 deep"),
        ('{"a": {"b": {}}}', "nested more than 2 deep"),
        ('[{"a": []}]', "nested more than 2 deep"),
        ("[" * 100_000 + "]" * 100_000, "nested more than 2 deep"),
    ],
)
def test_bad_json_is_one_message_naming_what_was_read(raw: bytes | str, why: str) -> None:
    with pytest.raises(StoryboardError) as e:
        parse_json(raw, "f.json", max_depth=2)
    assert str(e.value) == f"f.json: {why}"


def test_json_that_does_not_parse_says_why() -> None:
    with pytest.raises(StoryboardError) as e:
        parse_json("{oops", "f.json")
    assert str(e.value).startswith("f.json: not valid JSON (Expecting property name")


def test_the_default_depth_is_64() -> None:
    assert parse_json("[" * 64 + "]" * 64, "f.json") == parse_json("[" * 64 + "]" * 64, "x")
    with pytest.raises(StoryboardError, match="nested more than 64 deep"):
        parse_json("[" * 65 + "]" * 65, "f.json")


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/a.png",
        "https://EXAMPLE.com/a.png",
        "https://a/x.png",
        "https://cdn-1.example.co.uk:8443/a%20b.png?x=1",
    ],
)
def test_a_usable_https_url(url: str) -> None:
    assert https_url_problem(url) is None


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://example.com/a b.png", "it holds a space or a control character"),
        ("https://example.com/a\tb.png", "it holds a space or a control character"),
        ("https://example.com/a\x1fb.png", "it holds a space or a control character"),
        ("https://example.com/a\x7fb.png", "it holds a space or a control character"),
        ("https:///a.png", "it names no usable host"),
        ("https://ex_ample.com/a.png", "it names no usable host"),
        ("https://-example.com/a.png", "it names no usable host"),
        ("https://example.com-/a.png", "it names no usable host"),
        ("https://ex\u00e4mple.com/a.png", "it names no usable host"),
        ("https://[::1]/a.png", "it names no usable host"),
        ("https://[oops/a.png", "it names no usable host"),
    ],
)
def test_an_unusable_https_url_says_why(url: str, why: str) -> None:
    assert https_url_problem(url) == why
