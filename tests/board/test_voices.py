"""The storyboard's sound fields (issue 18): voices, narration, sounds, music prompts, lip sync."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import wav_bytes, write_project

import storyboard.board.voices as voices_mod
from storyboard.board.audio_models import audio_catalogue
from storyboard.board.spec import load_project
from storyboard.board.voices import sound_warnings, voices
from storyboard.errors import SpecError

BASE = """
title: Sound
narrator: {model: xai:tts@0, voice: Eve}
scenes:
  - id: a
    prompt: "A keeper climbs the stairs of the lighthouse."
    duration: 4
    dialogue:
      - {who: Wren, line: "Forty-one years.", at: 1.5}
    narration:
      - "The light has not missed a night."
      - {line: "Until tonight.", at: 3}
    native_audio: duck
    sounds:
      - {file: assets/door.wav, at: 2.0, volume: 0.8}
      - {prompt: "a door slams", at: 0.5}
    lipsync: true
edit:
  music: {prompt: "slow strings under a storm"}
"""


def load(tmp: Path, text: str, files: dict | None = None):  # noqa: ANN201
    return load_project(write_project(tmp / "p", text, files or {"assets/door.wav": wav_bytes()}))


def errors(tmp: Path, text: str, files: dict | None = None) -> list[str]:
    with pytest.raises(SpecError) as e:
        load(tmp, text, files)
    return [str(p) for p in e.value.problems]


def test_every_sound_field_loads(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    p = load(tmp_path, BASE)
    s = p.board.scenes[0]
    assert s.dialogue[0].at == 1.5
    assert [n.line for n in s.narration] == ["The light has not missed a night.", "Until tonight."]
    assert s.narration[1].at == 3 and s.native_audio == "duck"
    assert s.sounds[0].file == "assets/door.wav" and s.sounds[1].prompt == "a door slams"
    assert s.lipsync is not None and s.lipsync.model is None
    assert p.board.edit.music is not None and p.board.edit.music.prompt
    assert voices(p)["narrator"].voice == "Eve"
    assert sound_warnings(p) == [
        "p/storyboard.yaml:16: scenes[0].lipsync: warning: nobody in the picture speaks in this "
        "scene (the narrator and cast members who are only a voice are never lip-synced): "
        "nothing to lip-sync"
    ]


def test_an_unlisted_voice_is_a_warning_at_its_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    partly = BASE.replace("{model: xai:tts@0, voice: Eve}", "{model: inworld:tts@2, voice: Zed}")
    w = sound_warnings(load(tmp_path, partly))[0]
    assert w.startswith("p/storyboard.yaml:2: narrator.voice: warning: voice 'Zed' is not in")
    assert "Loretta, Darlene" in w and "only partly published" in w
    # a model whose source lists every voice: an error (hostile helper-56: the warning said
    # the lists are partly published, and the service refuses the voice)
    assert errors(tmp_path, BASE.replace("voice: Eve", "voice: Evelyn")) == [
        "p/storyboard.yaml:2: narrator.voice: voice 'Evelyn' is not one of xai:tts@0's voices "
        "(Eve, Ara, Leo, Rex, Sal)"
    ]
    lower = load(tmp_path, BASE.replace("voice: Eve", "voice: eve"))
    assert voices(lower)["narrator"].voice == "Eve"  # the catalogue's spelling is sent


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            ("model: xai:tts@0", "model: xai:tts@9"),
            "p/storyboard.yaml:2: narrator.model: unknown speech model 'xai:tts@9'",
        ),
        (
            ("model: xai:tts@0", "model: minimax:music@2.6"),
            "p/storyboard.yaml:2: narrator.model: minimax:music@2.6 is a music model",
        ),
        (
            ("voice: Eve}", "voice: Eve, language: en}"),
            "p/storyboard.yaml:2: narrator.language: xai:tts@0 takes no language",
        ),
        (
            ('{prompt: "a door slams", at: 0.5}', '{prompt: "x", model: xai:tts@0}'),
            "p/storyboard.yaml:15: scenes[0].sounds[1].model: xai:tts@0 is a speech model",
        ),
        (
            ("assets/door.wav", "../door.wav"),
            "p/storyboard.yaml:14: scenes[0].sounds[0].file: '../door.wav' is outside",
        ),
        (
            ("assets/door.wav", "assets/none.wav"),
            "p/storyboard.yaml:14: scenes[0].sounds[0].file: sound file not found",
        ),
        (
            ('{prompt: "slow strings under a storm"}', "{prompt: x, file: m.mp3}"),
            "p/storyboard.yaml:18: edit.music: music needs exactly one of 'file' or 'prompt'",
        ),
        (
            ('{prompt: "a door slams", at: 0.5}', "{at: 0.5}"),
            "p/storyboard.yaml:15: scenes[0].sounds[1]: a sound needs exactly one",
        ),
        (
            ("native_audio: duck", "native_audio: loud"),
            "p/storyboard.yaml:12: scenes[0].native_audio:",
        ),
        (
            ("at: 1.5}", "at: -1}"),
            "p/storyboard.yaml:8: scenes[0].dialogue[0].at:",
        ),
        (
            ("narrator: {model: xai:tts@0, voice: Eve}\n", ""),
            "p/storyboard.yaml:8: scenes[0].narration: narration needs a storyboard-level",
        ),
    ],
    ids=[
        "unknown-model",
        "wrong-kind",
        "language",
        "effect-kind",
        "outside",
        "missing",
        "music-both",
        "sound-neither",
        "native",
        "negative-at",
        "no-narrator",
    ],
)
def test_bad_sound_fields_are_one_message_at_file_line(
    tmp_path: Path, monkeypatch, change: tuple[str, str], expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    found = errors(tmp_path, BASE.replace(*change))
    assert any(e.startswith(expected) for e in found), found


def test_lipsync_without_a_lipsync_model_in_the_catalogue_is_an_error(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    cat = {k: v for k, v in audio_catalogue().items() if v.kind != "lipsync"}
    monkeypatch.setattr(voices_mod, "audio_catalogue", lambda: cat)
    monkeypatch.setattr(
        voices_mod,
        "default_model",
        lambda kind: next((p for p in cat.values() if p.kind == kind), None),
    )
    monkeypatch.setattr(
        voices_mod, "of_kind", lambda kind: [p for p in cat.values() if p.kind == kind]
    )
    found = errors(tmp_path, BASE)
    assert found == [
        "p/storyboard.yaml:16: scenes[0].lipsync: lip sync needs a lip-sync model: the model "
        "catalogue has no lipsync model"
    ]


TYPO = """
title: Typo
cast:
  wren: {description: an old woman, voice: {model: xai:tts@0, voice: Eve}}
scenes:
  - id: a
    prompt: "A keeper climbs the stairs."
    duration: 4
    dialogue:
      - {who: Wrne, line: "Forty-one years."}
      - {who: A Stranger, line: "Who goes there?"}
      - {who: WREN, line: "Only me."}
"""


def test_a_who_close_to_a_voiced_name_is_a_warning(tmp_path: Path, monkeypatch) -> None:
    """Hostile helper-56: `who: Wrne` for the voiced `wren` left the line silent and in the
    prompt with no word; a speaker outside the cast on purpose stays quiet."""
    monkeypatch.chdir(tmp_path)
    unvoiced = (
        "nobody voices the line: it is a caption only (and speech in the prompt where a "
        "template writes the dialogue)"
    )
    assert sound_warnings(load(tmp_path, TYPO)) == [
        "p/storyboard.yaml:9: scenes[0].dialogue[0].who: warning: 'Wrne' is not in the cast "
        f"(did you mean 'wren'?): {unvoiced}"
    ]
    # an accent, and the narrator named as a speaker (hostile helper-58)
    more = TYPO.replace("who: Wrne", "who: WRÉN").replace("who: A Stranger", "who: Narrator")
    more = more.replace("title: Typo\n", "title: Typo\nnarrator: {model: xai:tts@0, voice: Sal}\n")
    got = sound_warnings(load(tmp_path, more))
    assert got[0].endswith(f"'WRÉN' is not in the cast (did you mean 'wren'?): {unvoiced}")
    assert "dialogue[1].who: warning: the narrator reads the scene's `narration:`" in got[1]
    assert len(got) == 2
    # and an empty speaker is refused
    assert errors(tmp_path, TYPO.replace("who: A Stranger", 'who: " "')) == [
        "p/storyboard.yaml:10: scenes[0].dialogue[1].who: must not be blank (only spaces or "
        "invisible characters)"
    ]


def test_a_bound_inside_the_cast_is_named(tmp_path: Path, monkeypatch) -> None:
    """Hostile helper-56: `price: -1` on a cast member's voice read "expected a number, got
    -1" (the bound of a field under a mapping of names was not found)."""
    monkeypatch.chdir(tmp_path)
    text = TYPO.replace("voice: Eve}", "voice: Eve, price: -1}")
    assert errors(tmp_path, text) == [
        "p/storyboard.yaml:3: cast.wren.voice.price: expected a number above 0, got -1"
    ]
