"""Captions from hostile dialogue: no injected cues, every cue ends after it starts; and the
warnings a user gets when a trim or a transition is shortened to fit."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_project

from storyboard.board.spec import load_project
from storyboard.cut.timeline import build_timeline, parse_srt, srt
from storyboard.errors import SpecError
from storyboard.generate.state import Take


def take(scene: str, file: str) -> Take:
    return Take(scene, 1, "k", None, "t", "v", None, None, file, 1, "0" * 64, 0.0, 4.0)


def timeline(tmp: Path, scenes: str, lengths: dict[str, float] | None = None):
    write_project(tmp / "p", "title: T\nscenes:\n" + scenes)
    project = load_project(tmp / "p")
    ids = [s.id for s in project.board.scenes]
    lock = {i: take(i, f"build/takes/{i}/take-1.mp4") for i in ids}
    lens = {lock[i].file: (lengths or {}).get(i, 4.0) for i in ids}
    return build_timeline(project, lock, lens)


HOSTILE = [
    ("newline-and-cue", "Hi.\n\n2\n00:00:00,000 --> 00:59:00,000\nI am an injected cue"),
    ("arrow", "a --> b"),
    ("blank-lines", "one\n\n\n\ntwo"),
    ("unicode-line-separators", "one\u2028two\u2029three\rfour"),  # U+0085: refused
]


def test_control_characters_never_reach_a_caption(tmp_path: Path) -> None:
    """A bell, a NUL or an escape in a line is refused when the storyboard is read (hostile
    finding H6), so no caption can carry one."""
    line = "bell\x07 and nul\x00 and esc\x1b[31m"
    scene = "  - {id: a, prompt: x y, duration: 4, dialogue: [{who: Ada, line: %s}]}\n"
    with pytest.raises(SpecError, match=r"dialogue\[0\]\.line: contains a control character"):
        timeline(tmp_path, scene % _json(line))


@pytest.mark.parametrize("line", [h[1] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_dialogue_cannot_inject_cues(tmp_path: Path, line: str) -> None:
    scene = "  - {id: a, prompt: x y, duration: 4, dialogue: [{who: Ada, line: %s}]}\n"
    scene += "  - {id: b, prompt: x y, duration: 4, dialogue: [{who: Bo, line: fine}]}\n"
    tl = timeline(tmp_path, scene % _json(line))
    text = srt(tl.captions)
    cues = parse_srt(text)
    assert len(cues) == 2
    assert [c.text.split(":")[0] for c in cues] == ["Ada", "Bo"]
    assert text.count("-->") == 2
    blocks = text.strip().split("\n\n")
    assert [b.splitlines()[0] for b in blocks] == ["1", "2"]
    assert all(len(b.splitlines()) == 3 for b in blocks)
    assert all(ch.isprintable() for c in tl.captions for ch in c.text)


def test_many_lines_in_a_short_scene_still_end_after_they_start(tmp_path: Path) -> None:
    lines = ", ".join(f"{{who: A, line: '{i}'}}" for i in range(400))
    tl = timeline(tmp_path, f"  - {{id: a, prompt: x y, duration: 4, dialogue: [{lines}]}}\n")
    caps = tl.captions
    assert caps and all(c.end > c.start for c in caps)
    assert all(a.end <= b.start for a, b in zip(caps, caps[1:], strict=False))
    assert all(c.end <= tl.duration for c in caps)
    shown = " ".join(c.text for c in caps)
    assert "A: 0" in shown and "A: 399" in shown  # nothing is dropped
    # each cue is on screen long enough to read
    assert min(c.end - c.start for c in caps) >= 0.3
    again = parse_srt(srt(caps))
    assert all(c.end > c.start for c in again)


def test_no_caption_runs_past_the_end_of_the_film(tmp_path: Path) -> None:
    """Hostile fix-44 P2: a narration line longer than the last scene (trimmed to 2 s) had a
    cue ending at 8.22 s in a 6.00 s film. A cue ends at the film's end at the latest, and
    a line that starts after the end has none."""
    write_project(
        tmp_path / "p",
        "title: T\nmodel: bytedance:seedance@2.5\n"
        "narrator: {model: 'xai:tts@0', voice: Sal}\n"
        "scenes:\n"
        "  - {id: a, prompt: x y, duration: 4}\n"
        "  - id: b\n    prompt: x y\n    duration: 4\n    trim: {in: 1, out: 3}\n"
        "    narration: [The lamp was lit at dusk and it burned all night long., "
        "And then the boat came home.]\n",
    )
    project = load_project(tmp_path / "p")
    lock = {i: take(i, f"build/takes/{i}/take-1.mp4") for i in ("a", "b")}
    lens = {t.file: 4.0 for t in lock.values()}
    tl = build_timeline(project, lock, lens, {"line:b/1": 4.5, "line:b/2": 2.0})
    assert tl.duration == pytest.approx(6.0)
    assert [c.text for c in tl.captions] == [
        "The lamp was lit at dusk and it burned all night long."
    ]
    assert all(c.start < c.end <= tl.duration for c in tl.captions), tl.captions
    assert tl.captions[0].end == pytest.approx(6.0)
    assert all(c.end <= 6.0 for c in parse_srt(srt(tl.captions)))


def test_clamped_trim_and_transition_warn(tmp_path: Path) -> None:
    tl = timeline(
        tmp_path,
        "  - {id: a, prompt: x y, duration: 4, trim: [0, 9]}\n"
        "  - {id: b, prompt: x y, duration: 4, transition: {type: crossfade, duration: 3}}\n"
        "  - {id: c, prompt: x y, duration: 4}\n",
        {"a": 4.0, "b": 4.0, "c": 4.0},
    )
    assert tl.warnings == [
        "scene 'a': trim.out 9 s is past the end of its 4.00 s clip; cut at 4.00 s",
        "scene 'b': crossfade of 3 s shortened to 2.00 s (half the shorter clip)",
    ]


def test_first_scene_transition_is_ignored_with_a_warning(tmp_path: Path) -> None:
    tl = timeline(tmp_path, "  - {id: a, prompt: x y, duration: 4, transition: fade}\n")
    assert tl.warnings == ["scene 'a': the first scene has nothing to fade from; it starts cut"]


def test_no_warnings_when_nothing_is_clamped(tmp_path: Path) -> None:
    tl = timeline(
        tmp_path,
        "  - {id: a, prompt: x y, duration: 4, trim: [0, 3]}\n"
        "  - {id: b, prompt: x y, duration: 4, transition: crossfade}\n",
    )
    assert tl.warnings == []


def _json(s: str) -> str:
    import json

    return json.dumps(s)


@pytest.mark.parametrize(
    ("loop", "start", "expected", "warned"),
    [(True, 2.5, 0.5, True), (False, 2.5, 0.0, True), (True, 1.5, 1.5, False)],
    ids=["looped", "not-looped", "inside"],
)
def test_music_start_past_the_end_is_clamped_with_a_warning(
    tmp_path: Path, loop: bool, start: float, expected: float, warned: bool
) -> None:
    from storyboard.cut.audio import music_start
    from storyboard.media.ffmpeg import run_ffmpeg

    root = write_project(
        tmp_path / "p",
        f"title: T\nedit: {{music: {{file: bed.wav, start: {start:g}, loop: {str(loop).lower()}}}}}"
        "\nscenes:\n  - {id: a, prompt: x y, duration: 4}\n",
    )
    run_ffmpeg(["-f", "lavfi", "-i", "sine=d=2", str(root / "bed.wav")], what="bed")
    edit = load_project(root).board.edit
    logged: list[str] = []
    clamped = music_start(edit, root / "bed.wav", logged.append)
    assert clamped.music is not None and clamped.music.start == pytest.approx(expected)
    if warned:
        assert logged == [
            f"warning: music.start {start:g} s is past the end of bed.wav (2.00 s); "
            f"the music starts at {expected:.2f} s"
        ]
    else:
        assert logged == [] and clamped is edit
