"""A line inserted before others (hostile helper-47 2: paid twice).

Lines are nodes by their place (``line:SCENE/N``), so inserting one renumbered every line
after it, and each was voiced and paid for again although its words, voice and model, and so
its content key, had not changed. A line node with no take of its content now reuses another
line's take of exactly that content: copied into its own folder as a take of its own, free.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_project

import storyboard

VOICED = """
title: V
model: google:3@3
cast:
  wren: {description: an old woman, voice: {model: "xai:tts@0", voice: Eve}}
defaults: {duration: 8}
scenes:
  - id: a
    prompt: "an old woman stands"
    dialogue:
      - {who: wren, line: "First line, spoken first."}
      - {who: wren, line: "Second line, spoken second."}
"""


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNWARE_API_KEY", raising=False)
    monkeypatch.delenv("RUNWARE_BASE_URL", raising=False)


def test_inserting_a_line_voices_only_the_new_line(no_key: None, tmp_path: Path) -> None:
    p = write_project(tmp_path / "p", VOICED)
    project = storyboard.load(p)
    assert project.render(emulator_latency=0.05).ok
    first = {t.n: t for t in project.takes("line:a/1")}
    yaml = p / "storyboard.yaml"
    yaml.write_text(
        yaml.read_text().replace(
            '      - {who: wren, line: "First line',
            '      - {who: wren, line: "A new opening line."}\n'
            '      - {who: wren, line: "First line',
        )
    )
    project = storyboard.load(p)
    plan = {s.node: s for s in project.plan().sounds}
    assert [n for n, s in plan.items() if s.generate] == ["line:a/1"], plan
    again = project.render(emulator_latency=0.05)
    assert again.ok
    made = {s.scene: s.status for s in again.scenes if s.scene.startswith("line:")}
    assert made["line:a/1"] == "generated", made
    assert made["line:a/2"] != "generated" and made["line:a/3"] != "generated", made
    # line 2 now says what line 1 said: a take of its own, the same sound, nothing paid
    *_, moved = project.takes("line:a/2")  # its own take 1 said "Second line"
    assert moved.n == 2 and moved.cost == 0.0 and moved.money == "$0.00"  # free, not "would"
    assert moved.file.startswith("build/takes/") and moved.file != first[1].file
    assert (p / moved.file).read_bytes() == (p / first[1].file).read_bytes()
    assert [t.n for t in project.takes("line:a/3")] == [1]  # "Second line"'s take, copied
    # and it stays: the next render does nothing
    idle = storyboard.load(p).render(emulator_latency=0.05)
    assert all(s.status != "generated" for s in idle.scenes), idle.scenes


LIPSYNCED = """
title: V
model: google:3@3
cast:
  wren: {description: an old woman, voice: {model: "xai:tts@0", voice: Eve}}
  coast: {voice: {model: "xai:tts@0", voice: Rex}}
defaults: {duration: 8}
scenes:
  - id: a
    prompt: "an old woman stands"
    lipsync: true
    dialogue:
      - {who: wren, line: "First line, spoken first."}
      - {who: wren, line: "Second line, spoken second."}
"""


def _insert_first(p: Path, who: str, words: str) -> None:
    yaml = p / "storyboard.yaml"
    yaml.write_text(
        yaml.read_text().replace(
            '      - {who: wren, line: "First line',
            f'      - {{who: {who}, line: "{words}"}}\n      - {{who: wren, line: "First line',
        )
    )


def test_a_lip_sync_over_renumbered_lines_sends_their_audio(no_key: None, tmp_path: Path) -> None:
    """A line the picture speaks inserted first: the lip sync is made again (it has a new
    line), and the two copied lines go to the service as the audio it made (their copies'
    own identities, ``UUID@line:a/2``, are no audio of the account: HTTP 400 for ever)."""
    p = write_project(tmp_path / "p", LIPSYNCED)
    assert storyboard.load(p).render(emulator_latency=0.05).ok
    _insert_first(p, "wren", "A new opening line.")
    again = storyboard.load(p).render(emulator_latency=0.05)
    assert again.ok, [(s.scene, s.status, s.error) for s in again.scenes]
    made = {s.scene: s.status for s in again.scenes}
    assert made["lipsync:a"] == "generated" and made["line:a/1"] == "generated", made


def test_a_voice_only_line_inserted_keeps_the_lip_sync(no_key: None, tmp_path: Path) -> None:
    """A line of a voice that is not in the picture inserted first renumbers the lines the lip
    sync was made from, but not what it sends: it is kept, not bought again."""
    p = write_project(tmp_path / "p", LIPSYNCED)
    assert storyboard.load(p).render(emulator_latency=0.05).ok
    first = storyboard.load(p).takes("lipsync:a")
    _insert_first(p, "coast", "Radio check.")
    project = storyboard.load(p)
    plan = {s.node: s for s in project.plan().sounds}
    assert [n for n, s in plan.items() if s.generate] == ["line:a/1"], plan
    again = project.render(emulator_latency=0.05)
    assert again.ok, [(s.scene, s.status, s.error) for s in again.scenes]
    made = {s.scene: s.status for s in again.scenes}
    assert made["lipsync:a"] != "generated", made
    kept = storyboard.load(p).takes("lipsync:a")
    assert [t.n for t in kept] == [t.n for t in first] and kept[0].current, kept
    assert storyboard.load(p).pick("lipsync:a", 1).warnings == []  # not "another version"
    idle = storyboard.load(p).render(emulator_latency=0.05)
    assert all(s.status != "generated" for s in idle.scenes), idle.scenes
    # and back: the line taken out again, nothing is bought
    yaml = p / "storyboard.yaml"
    yaml.write_text(yaml.read_text().replace('      - {who: coast, line: "Radio check."}\n', ""))
    back = storyboard.load(p).render(emulator_latency=0.05)
    assert all(s.status != "generated" for s in back.scenes), [
        (s.scene, s.status) for s in back.scenes
    ]


def test_a_renamed_lip_synced_scene_keyless(no_key: None, tmp_path: Path) -> None:
    """The scene renamed: its lines are copied under the new name, and the lip sync sends
    them; the keyless emulator knows them by the service's UUID (hostile helper-56: it was
    told the copies' own identities, and refused the lip sync on every render)."""
    p = write_project(tmp_path / "p", LIPSYNCED)
    assert storyboard.load(p).render(emulator_latency=0.05).ok
    yaml = p / "storyboard.yaml"
    yaml.write_text(yaml.read_text().replace("  - id: a\n", "  - id: z\n"))
    again = storyboard.load(p).render(emulator_latency=0.05)
    assert again.ok, [(s.scene, s.status, s.error) for s in again.scenes]
    made = {s.scene: s.status for s in again.scenes}
    assert made["line:z/1"] != "generated" and made["line:z/2"] != "generated", made


def test_a_picked_line_keeps_its_pick_under_its_new_number(no_key: None, tmp_path: Path) -> None:
    """Take 1 of a line picked over its retake, then a line inserted before it: the line under
    its new number says take 1's sound, not the retake's (hostile helper-56: the newest take of
    those words was copied, the turned-down retake)."""
    p = write_project(tmp_path / "p", VOICED)
    assert storyboard.load(p).render(emulator_latency=0.05).ok
    project = storyboard.load(p)
    assert project.render(emulator_latency=0.05, retake=["line:a/2"]).ok
    takes = {t.n: t for t in project.takes("line:a/2")}
    assert set(takes) == {1, 2}
    project.pick("line:a/2", 1)
    _insert_first(p, "wren", "A new opening line.")
    assert storyboard.load(p).render(emulator_latency=0.05).ok
    moved = [t for t in storyboard.load(p).takes("line:a/3") if t.chosen]
    assert len(moved) == 1, moved
    assert moved[0].video_uuid == f"{takes[1].video_uuid}@line:a/3", moved  # take 1's copy


SAME_WORDS = (  # two lines that say the same words, and a voice that is not in the picture
    LIPSYNCED.replace("coast:", "radio:")
    .replace("duration: 8", "duration: 4")
    .replace("First line, spoken first.", "Same again.")
    .replace("Second line, spoken second.", "Same again.")
)


def _service(project: storyboard.Project, node: str) -> str:
    (take,) = [t for t in project.takes(node) if t.chosen]
    return take.video_uuid.partition("@")[0]


def test_two_lines_with_the_same_words_keep_their_own_sound(no_key: None, tmp_path: Path) -> None:
    """Hostile helper-58: a line inserted before two lines that say the same words swapped
    their takes (each node's own take of those words was used), so the lip sync was bought
    again; the lines now follow their places."""
    p = write_project(tmp_path / "p", SAME_WORDS)
    assert storyboard.load(p).render(emulator_latency=0.05).ok
    before = storyboard.load(p)
    first, second = _service(before, "line:a/1"), _service(before, "line:a/2")
    assert first != second
    yaml = p / "storyboard.yaml"
    yaml.write_text(
        yaml.read_text().replace(
            '      - {who: wren, line: "Same again."}\n',
            '      - {who: radio, line: "Zulu."}\n      - {who: wren, line: "Same again."}\n',
            1,
        )
    )
    again = storyboard.load(p).render(emulator_latency=0.05)
    made = {s.scene: s.status for s in again.scenes}
    assert made["lipsync:a"] != "generated" and made["line:a/1"] == "generated", made
    after = storyboard.load(p)
    assert (_service(after, "line:a/2"), _service(after, "line:a/3")) == (first, second)


def test_a_retake_in_the_cut_follows_its_line_back(no_key: None, tmp_path: Path) -> None:
    """Hostile helper-58: a line retaken under its new number (a line inserted before it),
    then the insertion undone: the line went back to its old take, not the retake the cut
    had; toggling the line above flipped the words between two recordings."""
    p = write_project(tmp_path / "p", VOICED)
    assert storyboard.load(p).render(emulator_latency=0.05).ok
    _insert_first(p, "wren", "A new opening line.")
    assert storyboard.load(p).render(emulator_latency=0.05).ok
    project = storyboard.load(p)
    assert project.render(emulator_latency=0.05, retake=["line:a/2"]).ok
    retaken = _service(storyboard.load(p), "line:a/2")
    yaml = p / "storyboard.yaml"
    yaml.write_text(
        yaml.read_text().replace('      - {who: wren, line: "A new opening line."}\n', "")
    )
    back = storyboard.load(p).render(emulator_latency=0.05)
    assert all(s.status != "generated" for s in back.scenes), back.scenes
    assert _service(storyboard.load(p), "line:a/1") == retaken
    _insert_first(p, "wren", "A new opening line.")
    assert storyboard.load(p).render(emulator_latency=0.05).ok
    assert _service(storyboard.load(p), "line:a/2") == retaken


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from storyboard.emulator import Emulator, EmulatorConfig

    with Emulator(EmulatorConfig(latency=0.05)) as e:
        monkeypatch.setenv("RUNWARE_API_KEY", "test-key")
        monkeypatch.setenv("RUNWARE_BASE_URL", e.base_url)
        yield e


def test_a_renumbered_line_whose_file_is_gone_is_fetched_again(keyed, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Hostile helper-58: the take of a line's words gone from disk and the line renumbered:
    it was voiced again, and the lip sync over it bought again; it is fetched again and
    copied in, at no cost."""
    p = write_project(tmp_path / "p", LIPSYNCED)
    assert storyboard.load(p).render(emulator_latency=0.05).ok
    (take,) = [t for t in storyboard.load(p).takes("line:a/1") if t.chosen]
    (p / take.file).unlink()
    charged = len(keyed.ledger)
    _insert_first(p, "coast", "Radio check.")
    again = storyboard.load(p).render(emulator_latency=0.05)
    assert again.ok, [(s.scene, s.status, s.error) for s in again.scenes]
    made = {s.scene: s.status for s in again.scenes}
    assert made["line:a/2"] == "re-downloaded" and made["lipsync:a"] != "generated", made
    assert len(keyed.ledger) == charged + 1  # the new line only
    assert _service(storyboard.load(p), "line:a/2") == take.video_uuid


def test_a_pick_after_a_line_is_inserted_sticks(no_key: None, tmp_path: Path) -> None:
    """Hostile helper-59: a line inserted, then (before any render) another take of a line
    picked under its new number: the render read the lock with the old numbers, took the
    pick for the old line of that number, and replaced it without a word."""
    p = write_project(tmp_path / "p", SAME_WORDS)
    assert storyboard.load(p).render(emulator_latency=0.05).ok
    assert storyboard.load(p).render(emulator_latency=0.05, retake=["line:a/2"]).ok
    yaml = p / "storyboard.yaml"
    yaml.write_text(
        yaml.read_text().replace(
            '      - {who: wren, line: "Same again."}\n',
            '      - {who: radio, line: "Zulu."}\n      - {who: wren, line: "Same again."}\n',
            1,
        )
    )
    project = storyboard.load(p)
    first = {t.n: t for t in project.takes("line:a/2")}[1]  # "Same again.", turned down
    project.pick("line:a/2", 1)
    assert storyboard.load(p).render(emulator_latency=0.05).ok
    assert _service(storyboard.load(p), "line:a/2") == first.video_uuid


def test_a_variant_with_a_line_more_takes_the_main_films_lines(
    no_key: None, tmp_path: Path
) -> None:
    """Hostile helper-59: a variant whose scene has one line more before the main film's had
    no lines in its own cut, so nothing aligned them: two lines with the same words got one
    take, and the lip sync the main film has was bought again."""
    variant = (
        "variants:\n  v:\n    scenes:\n      a:\n        dialogue:\n"
        '          - {who: radio, line: "Zulu."}\n'
        '          - {who: wren, line: "Same again."}\n'
        '          - {who: wren, line: "Same again."}\n'
    )
    p = write_project(tmp_path / "p", SAME_WORDS + variant)
    main = storyboard.load(p)
    assert main.render(emulator_latency=0.05).ok
    first, second = _service(main, "line:a/1"), _service(main, "line:a/2")
    film = storyboard.load(p).variant("v")
    done = film.render(emulator_latency=0.05)
    made = {s.scene: s.status for s in done.scenes}
    assert made["line:a/1"] == "generated" and made["lipsync:a"] != "generated", made
    again = storyboard.load(p).variant("v")
    assert (_service(again, "line:a/2"), _service(again, "line:a/3")) == (first, second)
