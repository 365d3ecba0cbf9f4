"""`render --retake LINE --keep-downstream` over renumbered lines (hostile helpers 61 and 64:
once, and the same command a second time)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_project

import storyboard

LIPSYNCED = """
title: V
model: google:3@3
cast:
  wren: {description: an old woman, voice: {model: "xai:tts@0", voice: Eve}}
  coast: {voice: {model: "xai:tts@0", voice: Rex}}
defaults: {duration: 4}
scenes:
  - id: a
    prompt: "an old woman stands"
    lipsync: true
    dialogue:
      - {who: wren, line: "First line."}
      - {who: wren, line: "Second line."}
"""


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNWARE_API_KEY", raising=False)
    monkeypatch.delenv("RUNWARE_BASE_URL", raising=False)


def _generated(p: Path, **kw: object) -> set[str]:
    done = storyboard.load(p).render(emulator_latency=0.05, draft=True, **kw)  # type: ignore[arg-type]
    assert done.ok, [(s.scene, s.status, s.error) for s in done.scenes]
    return {s.scene for s in done.scenes if s.status == "generated"}


def test_keep_downstream_keeps_a_lip_sync_whose_lines_were_only_renumbered(
    no_key: None, tmp_path: Path
) -> None:
    """Without renumbering, `--retake line:a/2 --keep-downstream` keeps the lip sync (plan:
    lipsync:a not generated). After a radio line (a voice not in the picture) is inserted
    above and rendered, the lip sync is kept as the README says (same clip, same audio), but
    `--retake line:a/3 --keep-downstream` (the same line, renumbered) buys the lip sync again:
    the kept lip sync's key was hashed with the lines' old numbers, so keep_downstream's
    `lock.key == lock_key` check fails. It should keep it, as before the renumbering."""
    p = write_project(tmp_path / "p", LIPSYNCED)
    _generated(p)
    plain = storyboard.load(p).plan(draft=True, retake=["line:a/2"], keep_downstream=True)
    assert {s.node for s in plain.sounds if s.generate} == {"line:a/2"}  # holds
    y = p / "storyboard.yaml"
    y.write_text(
        y.read_text().replace(
            "    dialogue:\n", '    dialogue:\n      - {who: coast, line: "Radio."}\n'
        )
    )
    assert "lipsync:a" not in _generated(p)  # holds: kept across the renumbering
    plan = storyboard.load(p).plan(draft=True, retake=["line:a/3"], keep_downstream=True)
    assert {s.node for s in plan.sounds if s.generate} == {"line:a/3"}, plan.sounds
    assert _generated(p, retake=["line:a/3"], keep_downstream=True) == {"line:a/3"}


def test_second_keep_downstream_retake_keeps_the_renumbered_lip_sync(
    no_key: None, tmp_path: Path
) -> None:
    """A radio line inserted above two lip-synced lines and rendered (lip sync kept), then
    `render --retake line:a/3 --keep-downstream` twice. The first keeps the lip sync; the
    second buys it again ($0.09 would-cost): the first keep rewrote the lock's lip sync
    `source_take` to the lines' new numbers but kept its key (hashed with the old numbers), so
    neither `lock.key == lock_key` nor `renumbered_same` (no rename left) holds any more.
    The same command twice must keep it twice, as it does without renumbering."""
    p = write_project(tmp_path / "p", LIPSYNCED)
    _generated(p)
    y = p / "storyboard.yaml"
    y.write_text(
        y.read_text().replace(
            "    dialogue:\n", '    dialogue:\n      - {who: coast, line: "Radio."}\n'
        )
    )
    assert "lipsync:a" not in _generated(p)
    assert _generated(p, retake=["line:a/3"], keep_downstream=True) == {"line:a/3"}
    plan = storyboard.load(p).plan(draft=True, retake=["line:a/3"], keep_downstream=True)
    assert {s.node for s in plan.sounds if s.generate} == {"line:a/3"}, plan.sounds
    assert _generated(p, retake=["line:a/3"], keep_downstream=True) == {"line:a/3"}
