"""cut/filmkey.py rule by rule, without composing: each part of the film's key names its own
reason, and the film file on disk is judged by size, mtime and content (for mutation testing)."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from helpers import write_project

from storyboard.board.spec import Project, load_project
from storyboard.cut import filmkey
from storyboard.cut.filmkey import film_status, music_hash, write_stamp

BOARD = """
title: Key
edit: {loudness: 'off', music: {file: bed.wav, volume: 0.3}}
output: {fps: 10, size: 64x36}
scenes:
  - {id: a, prompt: 'Scene a.', duration: 4}
  - {id: b, prompt: 'Scene b.', duration: 4, transition: {type: crossfade, duration: 0.3}}
"""


@dataclass
class T:
    n: int = 1
    file: str = "build/takes/x/take-1.mp4"
    sha256: str = "0" * 64
    size: int = 100
    duration: float | None = 4.0
    offset: float = 0.0


TAKES = {"a": T(sha256="a" * 64), "b": T(sha256="b" * 64)}


def wav(level: int) -> bytes:
    """A tenth of a second of 8 kHz mono sound at ``level`` (a real sound file, tiny)."""
    import io
    import wave

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(level.to_bytes(2, "little", signed=True) * 800)
    return buf.getvalue()


MUSIC, OTHER_MUSIC = wav(1000), wav(-1000)


@pytest.fixture
def made(tmp_path: Path) -> Project:
    """A project whose film (a stand-in file) and film.json were written with TAKES."""
    p = write_project(tmp_path / "p", BOARD, {"bed.wav": MUSIC})
    project = load_project(p)
    dest = project.build / "key.mp4"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(b"the film")
    (project.build / "key.srt").write_text("1\n")
    st = film_status(project, TAKES, dest)
    write_stamp(project, st, dest, ["build/key.srt"])
    return project


def status(project: Project, takes: dict[str, T] | None = None) -> list[str]:
    again = load_project(project.root)
    return film_status(again, takes or TAKES, again.build / "key.mp4").reasons


def edit(project: Project, old: str, new: str) -> None:
    f = project.root / "storyboard.yaml"
    text = f.read_text()
    assert old in text
    f.write_text(text.replace(old, new))


def test_no_film_no_record(tmp_path: Path) -> None:
    project = load_project(write_project(tmp_path / "p", BOARD, {"bed.wav": MUSIC}))
    dest = project.build / "key.mp4"
    assert film_status(project, TAKES, dest).reasons == ["film missing"]
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(b"someone else's film")
    st = film_status(project, TAKES, dest)
    assert st.reasons == ["never composed here"] and not st.up_to_date


def test_the_film_just_recorded_is_up_to_date(made: Project) -> None:
    assert status(made) == []
    again = load_project(made.root)
    st = film_status(again, TAKES, again.build / "key.mp4")
    assert st.up_to_date and len(st.key) == 32


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"a": T(sha256="c" * 64)}, "take of 'a' changed"),
        ({"a": T(sha256="a" * 64, size=101)}, "take of 'a' changed"),
        ({"a": T(sha256="a" * 64, offset=1.5)}, "take of 'a' changed"),
        ({"b": T(sha256="d" * 64)}, "take of 'b' changed"),
    ],
)
def test_a_take_that_changed_is_named(made: Project, change: dict[str, T], reason: str) -> None:
    assert status(made, {**TAKES, **change}) == [reason]


def test_a_take_number_alone_changes_nothing(made: Project) -> None:
    assert status(made, {**TAKES, "a": replace(TAKES["a"], n=7, file="elsewhere.mp4")}) == []


@pytest.mark.parametrize(
    ("old", "new", "reasons"),
    [
        ("'Scene a.', duration: 4}", "'Scene a.', duration: 4, trim: [0.1, 0.9]}", ["a"]),
        ("{type: crossfade, duration: 0.3}", "{type: crossfade, duration: 0.5}", ["b"]),
        (
            "'Scene b.', duration: 4,",
            "'Scene b.', duration: 4, dialogue: [{who: Ann, line: Hi}],",
            ["b"],
        ),
    ],
    ids=["trim", "transition", "dialogue"],
)
def test_the_cut_of_a_scene_is_named(made: Project, old: str, new: str, reasons: list[str]) -> None:
    edit(made, old, new)
    assert status(made) == [f"trim, transition or dialogue of '{s}' changed" for s in reasons]


def test_a_prompt_is_not_part_of_the_film(made: Project) -> None:
    edit(made, "'Scene a.'", "'Scene a, rewritten.'")
    assert status(made) == []


def test_order_music_edit_output_and_title_are_named(made: Project) -> None:
    edit(made, "volume: 0.3", "volume: 0.5")
    assert status(made) == ["music changed"]
    edit(made, "volume: 0.5", "volume: 0.3")
    (made.root / "bed.wav").write_bytes(OTHER_MUSIC)
    assert status(made) == ["music changed"]
    (made.root / "bed.wav").write_bytes(MUSIC)
    assert status(made) == []
    edit(made, "loudness: 'off'", "loudness: -20")
    assert status(made) == ["edit settings changed"]
    edit(made, "loudness: -20", "loudness: 'off'")
    edit(made, "fps: 10", "fps: 12")
    assert status(made) == ["output settings changed"]
    edit(made, "fps: 12", "fps: 10")
    edit(made, "title: Key", "title: Other")
    reasons = status(made)
    assert "output settings changed" in reasons
    edit(made, "title: Other", "title: Key")
    assert status(made) == []


def test_scenes_reordered_are_named(made: Project) -> None:
    text = (made.root / "storyboard.yaml").read_text()
    a = "  - {id: a, prompt: 'Scene a.', duration: 4}\n"
    (made.root / "storyboard.yaml").write_text(text.replace(a, "") + a)
    assert status(made)[0] == "scenes added, removed or reordered"


def test_a_new_compose_version_is_named(made: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(filmkey, "COMPOSE_VERSION", "99")
    assert status(made) == ["compose code changed"]


def test_the_film_file_is_judged_by_size_mtime_and_content(made: Project) -> None:
    film = made.build / "key.mp4"
    st = film.stat()
    os.utime(film, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    assert status(made) == []  # touched, same bytes: still the film
    film.write_bytes(b"the filM")  # same size, other bytes
    assert status(made) == ["film file changed on disk"]
    film.write_bytes(b"the film, longer")
    assert status(made) == ["film file changed on disk"]
    film.unlink()
    assert status(made) == ["film missing"]


def test_a_missing_companion_is_named(made: Project) -> None:
    (made.build / "key.srt").unlink()
    assert status(made) == ["build/key.srt missing"]


def test_music_hash(made: Project) -> None:
    import hashlib

    assert music_hash(made) == hashlib.sha256(MUSIC).hexdigest()
    (made.root / "bed.wav").unlink()
    assert music_hash(made) is None
    edit(made, "edit: {loudness: 'off', music: {file: bed.wav, volume: 0.3}}", "")
    assert music_hash(load_project(made.root)) is None


def test_a_scene_without_a_take_has_no_take_part(made: Project) -> None:
    assert status(made, {"a": TAKES["a"]}) == ["take of 'b' changed"]


def test_the_sound_of_a_scene_is_part_of_its_cut(made: Project) -> None:
    edit(made, "'Scene a.', duration: 4}", "'Scene a.', duration: 4, native_audio: mute}")
    assert status(made) == ["trim, transition or dialogue of 'a' changed"]


def test_a_generated_music_take_is_part_of_the_music(made: Project) -> None:
    with_music = {**TAKES, "music": T(sha256="e" * 64)}
    assert status(made, with_music) == ["music changed"]
    again = load_project(made.root)
    dest = again.build / "key.mp4"
    write_stamp(again, film_status(again, with_music, dest), dest, ["build/key.srt"])
    assert status(made, with_music) == []
    assert status(made, {**TAKES, "music": T(sha256="f" * 64)}) == ["music changed"]


def test_a_placed_sound_file_is_judged_by_its_content(made: Project) -> None:
    (made.root / "door.wav").write_bytes(wav(500))
    edit(made, "'Scene a.', duration: 4}", "'Scene a.', duration: 4, sounds: [{file: door.wav}]}")
    again = load_project(made.root)
    dest = again.build / "key.mp4"
    write_stamp(again, film_status(again, TAKES, dest), dest, ["build/key.srt"])
    assert status(made) == []
    (made.root / "door.wav").write_bytes(wav(-500))  # same name, same size, other sound
    assert status(made) == ["trim, transition or dialogue of 'a' changed"]


def restamp(project: Project, takes: dict[str, T] | None = None) -> None:
    """Record the film again as made from the storyboard now (and ``takes``)."""
    again = load_project(project.root)
    dest = again.build / "key.mp4"
    write_stamp(again, film_status(again, takes or TAKES, dest), dest, ["build/key.srt"])


def test_music_and_sounds_that_leave_the_project_are_never_read(made: Project) -> None:
    (made.root / "door.wav").write_bytes(wav(500))
    edit(made, "'Scene a.', duration: 4}", "'Scene a.', duration: 4, sounds: [{file: door.wav}]}")
    loaded = load_project(made.root)  # checked while both are inside the project
    outside = made.root.parent / "elsewhere.wav"
    outside.write_bytes(OTHER_MUSIC)
    for name in ("bed.wav", "door.wav"):  # then swapped for links out of it
        (made.root / name).unlink()
        (made.root / name).symlink_to(outside)
    assert music_hash(loaded) is None
    parts = filmkey.film_parts(loaded, TAKES)
    outside.write_bytes(MUSIC)  # what lies outside is not part of the film
    assert filmkey.film_parts(loaded, TAKES) == parts


def test_a_generated_sound_is_judged_by_its_take(made: Project) -> None:
    edit(made, "'Scene a.', duration: 4}", "'Scene a.', duration: 4, sounds: [{prompt: A door}]}")
    sfx = {**TAKES, "sfx:a/1": T(sha256="5" * 64)}
    restamp(made, sfx)
    assert status(made, sfx) == []
    assert status(made, {**sfx, "sfx:a/1": T(sha256="6" * 64)}) == [
        "trim, transition or dialogue of 'a' changed"
    ]


def test_each_placed_sound_file_counts(made: Project) -> None:
    (made.root / "one.wav").write_bytes(wav(100))
    (made.root / "two.wav").write_bytes(wav(200))
    both = "sounds: [{file: one.wav}, {file: two.wav, at: 1}]"
    edit(made, "'Scene a.', duration: 4}", f"'Scene a.', duration: 4, {both}}}")
    restamp(made)
    (made.root / "one.wav").write_bytes(wav(-100))  # the first of two, same size
    assert status(made) == ["trim, transition or dialogue of 'a' changed"]


def test_every_changed_scene_is_named_after_a_new_one(made: Project) -> None:
    edit(made, "scenes:\n", "scenes:\n  - {id: new, prompt: 'New.', duration: 4}\n")
    takes = {**TAKES, "b": T(sha256="d" * 64)}
    assert status(made, takes) == ["scenes added, removed or reordered", "take of 'b' changed"]


def test_a_key_edited_by_hand_is_stale_for_no_named_reason(made: Project) -> None:
    import json

    stamp = filmkey.stamp_path(made)
    data = json.loads(stamp.read_bytes())
    stamp.write_text(json.dumps({**data, "key": "0" * 32}))
    assert status(made) == ["storyboard changed"]


def test_the_film_is_the_file_recorded(made: Project, tmp_path: Path) -> None:
    film = made.build / "key.mp4"
    copy = made.build / "copy.mp4"
    copy.write_bytes(film.read_bytes())
    os.utime(copy, ns=(film.stat().st_atime_ns, film.stat().st_mtime_ns))
    again = load_project(made.root)
    assert film_status(again, TAKES, copy).reasons == ["film file changed on disk"]
    # a film outside the project is recorded by its full path
    out, out_copy = tmp_path / "out.mp4", tmp_path / "out-copy.mp4"
    out.write_bytes(b"the film")
    write_stamp(again, film_status(again, TAKES, out), out, [])
    out_copy.write_bytes(out.read_bytes())
    os.utime(out_copy, ns=(out.stat().st_atime_ns, out.stat().st_mtime_ns))
    assert film_status(again, TAKES, out).reasons == []
    assert film_status(again, TAKES, out_copy).reasons == ["film file changed on disk"]


def test_a_film_that_cannot_be_read_or_seen_is_not_the_film(
    made: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    film = made.build / "key.mp4"
    data = __import__("json").loads(filmkey.stamp_path(made).read_bytes())
    assert filmkey._same_file(film, data)
    assert not filmkey._same_file(made.build / "gone.mp4", data)  # gone between look and stat
    st = film.stat()
    os.utime(film, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))  # content is read

    def film_unreadable(path: Path, read: Any = filmkey.file_sha256) -> str:
        if path == film:
            raise PermissionError(13, "Permission denied", str(path))
        return str(read(path))

    monkeypatch.setattr(filmkey, "file_sha256", film_unreadable)
    assert status(made) == ["film file changed on disk"]


def test_a_film_record_up_to_its_size_limit_is_read(
    made: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    size = filmkey.stamp_path(made).stat().st_size
    monkeypatch.setattr(filmkey, "MAX_STAMP_BYTES", size)
    assert status(made) == []
    monkeypatch.setattr(filmkey, "MAX_STAMP_BYTES", size - 1)
    assert status(made) == ["build/film.json is damaged"]


DAMAGED = {
    "a list": [1],
    "size as text": {"size": "8"},
    "extras not a list": {"extras": 5},
    "an extra not text": {"extras": [1]},
    "parts not a mapping": {"parts": []},
    "scenes not a mapping": {"parts": {"scenes": [], "order": []}},
    "order not a list": {"parts": {"scenes": {}, "order": "ab"}},
    "a scene part not a mapping": {"parts": {"scenes": {"a": "x"}, "order": []}},
    "a take not text": {"parts": {"scenes": {"a": {"take": 5}}, "order": []}},
}


@pytest.mark.parametrize("damage", list(DAMAGED), ids=list(DAMAGED))
def test_a_hand_edited_film_record_is_damaged_never_trusted(made: Project, damage: str) -> None:
    import json

    stamp = filmkey.stamp_path(made)
    data = json.loads(stamp.read_bytes())
    bad = DAMAGED[damage]
    stamp.write_text(json.dumps(bad if isinstance(bad, list) else {**data, **bad}))
    assert status(made) == ["build/film.json is damaged"]


def test_the_animatic_has_its_own_film_record(made: Project) -> None:
    assert filmkey.stamp_path(made) == made.build / "film.json"
    made.stamp_name = "animatic.json"  # type: ignore[attr-defined]
    assert filmkey.stamp_path(made) == made.build / "animatic.json"


def test_only_a_crop_and_its_focus_change_the_output_part(made: Project) -> None:
    """Variants (issue 20): a film padded to another size keeps the main film's output part;
    a crop, and where it is centred, are part of it."""

    def reasons(reframe: str, focus: tuple[float, float] = (0.5, 0.5)) -> list[str]:
        again = load_project(made.root)
        again.reframe, again.focus = reframe, focus
        return film_status(again, TAKES, again.build / "key.mp4").reasons

    assert reasons("pad") == [] and reasons("pad", (0.2, 0.5)) == []
    assert reasons("crop") == ["output settings changed"]
    again = load_project(made.root)
    again.reframe, again.focus = "crop", (0.5, 0.5)
    dest = again.build / "key.mp4"
    write_stamp(again, film_status(again, TAKES, dest), dest, ["build/key.srt"])
    assert reasons("crop") == [] and reasons("pad") == ["output settings changed"]
    assert reasons("crop", (0.2, 0.5)) == ["output settings changed"]
