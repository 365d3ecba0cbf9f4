"""A scene renamed (hostile helper-61), its spoken lines copied under the new name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import stand_in, write_project

import storyboard
from storyboard.emulator import Emulator

SAME_WORDS = """
title: V
model: google:3@3
cast:
  wren: {description: an old woman, voice: {model: "xai:tts@0", voice: Eve}}
  radio: {voice: {model: "xai:tts@0", voice: Rex}}
defaults: {duration: 4}
scenes:
  - id: a
    prompt: "an old woman stands"
    dialogue:
      - {who: wren, line: "Same again."}
      - {who: wren, line: "Same again."}
"""


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNWARE_API_KEY", raising=False)
    monkeypatch.delenv("RUNWARE_BASE_URL", raising=False)


def _render(p: Path, **kw: object) -> None:
    done = storyboard.load(p).render(emulator_latency=0.05, draft=True, **kw)  # type: ignore[arg-type]
    assert done.ok, [(s.scene, s.status, s.error) for s in done.scenes]


def _service(p: Path, node: str) -> str:
    (take,) = [t for t in storyboard.load(p).takes(node, draft=True) if t.chosen]
    return take.video_uuid.partition("@")[0]


def _edit(p: Path, old: str, new: str) -> None:
    y = p / "storyboard.yaml"
    text = y.read_text()
    assert old in text
    y.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize("insert", [False, True], ids=["renamed", "renamed-and-line-inserted"])
def test_renamed_scene_keeps_each_lines_own_take(
    no_key: None, tmp_path: Path, insert: bool
) -> None:
    """Two lines with the same words, the first retaken (its retake in the cut), the second
    on its take 1; then the scene renamed (and a voice-only line inserted above them). Each
    line should keep the take its words had in the cut, as a renumbering does (README: "two
    lines that say the same words keep their own takes"). Found: both lines under the new
    name get the first line's retake (the newest take of those words in the cut): the second
    line's own recording is dropped from the cut without a word."""
    p = write_project(tmp_path / "p", SAME_WORDS)
    _render(p)
    _render(p, retake=["line:a/1"])
    first, second = _service(p, "line:a/1"), _service(p, "line:a/2")
    assert first != second
    _edit(p, "  - id: a\n", "  - id: z\n")
    n = 1
    if insert:
        _edit(p, "    dialogue:\n", '    dialogue:\n      - {who: radio, line: "Zulu."}\n')
        n = 2
    _render(p)
    got = (_service(p, f"line:z/{n}"), _service(p, f"line:z/{n + 1}"))
    assert got == (first, second), "the second line now says the first line's recording"


PAIR = """
title: V
model: google:3@3
cast:
  wren: {description: an old woman, voice: {model: "xai:tts@0", voice: Eve}}
defaults: {duration: 4}
scenes:
  - id: a
    prompt: "an old woman stands"
    dialogue:
      - {who: wren, line: "First line."}
      - {who: wren, line: "Second line."}
"""


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    with stand_in(monkeypatch, key="k") as e:
        yield e


def test_renamed_scene_fetches_a_missing_line_take_instead_of_paying_again(
    keyed,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    """With a key: rendered, then the paid take of line 1 deleted from disk (its URL is in
    the journal), then the scene renamed. A renumbered line in the same state is fetched again
    for nothing (test_line_insert.py); the renamed scene's line is voiced and paid for again:
    `plan` lists line:z/1 as generate and the service charges "First line." twice. README:
    a missing take is "downloaded again from its URL, not bought again: ... any paid take of
    the same content a render would use instead" (here line:a/1's take, which the render
    copies into line:z/1 when its file is there)."""
    p = write_project(tmp_path / "p", PAIR)
    assert storyboard.load(p).render(emulator_latency=0.05).ok
    (take,) = [t for t in storyboard.load(p).takes("line:a/1") if t.chosen]
    (p / take.file).unlink()
    _edit(p, "  - id: a\n", "  - id: z\n")
    plan = storyboard.load(p).plan()
    assert not any(s.generate for s in plan.sounds), [(s.node, s.generate) for s in plan.sounds]
    done = storyboard.load(p).render(emulator_latency=0.05)
    assert done.ok
    voiced = [x["prompt"] for x in keyed.ledger if x["taskType"] == "audioInference"]
    assert voiced.count("First line.") == 1, voiced
