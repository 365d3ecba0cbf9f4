"""The example film speaks (issue 18): on the emulator, each voiced line of
``projects/lighthouse`` is heard where its caption starts (within 0.1 s), the narrator, the
radio, the generated music and the switch's effect are in the film, and its loudness is on
target."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import REPO
from speechsignal import speech_spans

import storyboard
from storyboard.cut.audio import integrated_loudness
from storyboard.cut.timeline import parse_srt


@pytest.fixture(scope="module")
def film(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, storyboard.Project]:
    dest = tmp_path_factory.mktemp("example") / "lighthouse"
    shutil.copytree(
        REPO / "projects" / "lighthouse", dest, ignore=shutil.ignore_patterns("build", "*.lock")
    )
    board = dest / "storyboard.yaml"
    text = board.read_text(encoding="utf-8")
    board.write_text(text.replace("\noutput:\n", "\noutput:\n  size: 320x180\n  fps: 10\n"))
    project = storyboard.load(dest, api_key=None)
    project.render(draft=True, emulator_latency=0.1).raise_for_failures()  # 0.1 s: for speed
    return project.compose().film, project


def test_the_example_plans_its_voices_music_and_effect(
    film: tuple[Path, storyboard.Project],
) -> None:
    _, project = film
    sounds = {s.node: s for s in storyboard.load(project.root).plan(draft=True).sounds}
    assert {s.what for s in sounds.values()} == {"voice", "music", "effect"}
    voices = {s.voice for s in sounds.values() if s.what == "voice"}
    assert voices == {"Eve", "Rex", "Sal"}  # two characters and the narrator


def test_each_line_is_heard_where_its_caption_starts(
    film: tuple[Path, storyboard.Project],
) -> None:
    path, _ = film
    captions = parse_srt(path.with_suffix(".srt").read_text())
    assert len(captions) == 4
    spans = speech_spans(path)
    assert len(spans) == len(captions), (spans, captions)
    for (start, _), cap in zip(spans, captions, strict=True):
        assert start == pytest.approx(cap.start, abs=0.1), cap.text
    assert integrated_loudness(path) == pytest.approx(-16, abs=1.0)
