"""The storyboard's sound fields (issue 18): voices, narration, per-scene sound, lip sync.

Imported by ``schema`` (which places them on the cast, the storyboard and the music bed) and
``scene_schema`` (on the scenes). Which models exist, their voices and prices are the audio
catalogue's (``board/audio_models``), checked with the rest of the cross-field checks in
``voices``.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

# Control characters other than tab and newlines: the service refuses a NUL in JSON text, and no
# prompt, line or name means one (hostile finding H6); the C1 ones too (U+0085 is a line break
# to an EDL reader, U+009B a terminal's escape), and a lone surrogate, which is no character
# and cannot be written as UTF-8 (hostile helper-62: export and the review page failed on it)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
SPOKEN_OR_SEEN = frozenset({"line", "description", "who"})  # text that must say something


class Strict(BaseModel):
    # `title: 1984` is text to a reader, a number to YAML: numbers are accepted as text.
    # No .inf / .nan anywhere (the YAML loader refuses them too; this covers '1e999' and the API)
    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, coerce_numbers_to_str=True, allow_inf_nan=False
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_number(cls, value: Any, info: ValidationInfo) -> Any:
        """``duration: true`` is not 1 (pydantic's lax numbers took it: hostile helper-30)."""
        if isinstance(value, bool) and info.field_name is not None:
            field = cls.model_fields.get(info.field_name)
            kinds = _kinds(field.annotation) if field is not None else set()
            if kinds & {int, float} and bool not in kinds:
                raise ValueError(f"expected a number, got {str(value).lower()}")
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _text(cls, value: Any, info: ValidationInfo) -> Any:
        """No control character in any text (nested in lists and ``vars`` too); a line or a
        description is not blank."""
        bad = _control(value)
        if bad is not None and "\ud800" <= bad <= "\udfff":
            raise ValueError(
                f"contains a lone surrogate (U+{ord(bad):04X}), not a character; remove it"
            )
        if bad is not None:
            raise ValueError(f"contains a control character (U+{ord(bad):04X}); remove it")
        if info.field_name in SPOKEN_OR_SEEN and isinstance(value, str) and _blank(value):
            raise ValueError("must not be blank (only spaces or invisible characters)")
        if info.field_name == "model" and isinstance(value, str) and _blank(value):
            raise ValueError("must not be empty")  # `model: "  "` was an unknown model
        return value


def _blank(text: str) -> bool:
    """Only spaces and invisible format characters (a zero-width space, a joiner, a byte
    order mark: hostile helper-47 had one voiced and charged)."""
    import unicodedata

    return all(
        ch.isspace() or unicodedata.category(ch) == "Cf" or ch in BLANK_LETTERS for ch in text
    )


BLANK_LETTERS = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180e\u2800\u3164\uffa0")
"""Characters drawn as nothing though not spaces nor format characters: the combining grapheme
joiner, the Hangul fillers, the Khmer inherent vowels, the Mongolian vowel separator, the
braille blank (hostile helper-49: lines of them were voiced and paid for)."""


def _control(value: Any, depth: int = 0) -> str | None:
    if isinstance(value, str):
        m = CONTROL.search(value)
        return m.group() if m else None
    if depth < 32 and isinstance(value, list | tuple):
        return next((c for v in value if (c := _control(v, depth + 1)) is not None), None)
    if depth < 32 and isinstance(value, dict):
        items = [*value.keys(), *value.values()]
        return next((c for v in items if (c := _control(v, depth + 1)) is not None), None)
    return None


_Strict = Strict


class Voice(_Strict):
    """A text-to-speech voice: ``{model: xai:tts@0, voice: Eve}`` (``storyboard models``)."""

    model: str | None = Field(
        None,
        description="Runware audioInference TTS model AIR id (default: the catalogue's first "
        "live speech model with a published price, xai:tts@0).",
    )
    voice: str = Field(min_length=1, description="The model's voice name (per model).")
    language: str | None = Field(
        None, description="speech.language, for models that take one (e.g. inworld:tts@2: en)."
    )
    price: float | None = Field(
        None,
        gt=0,
        description="USD per second of speech you expect: used only when the catalogue knows no "
        "price for the model (plan and --budget).",
    )


class NarrationLine(_Strict):
    """One line the narrator reads over a scene."""

    line: str = Field(min_length=1, description="What the narrator says.")
    at: float | None = Field(
        None, ge=0, description="Seconds into the scene it starts (default: after the last line)."
    )


def _narration(v: Any) -> Any:
    if isinstance(v, str):
        return [{"line": v}]
    if isinstance(v, list):
        return [{"line": x} if isinstance(x, str) else x for x in v]
    return v


class Sound(_Strict):
    """A sound placed in a scene: a file of yours, or an effect generated from a prompt."""

    file: str | None = Field(None, description="An audio file inside the project folder.")
    prompt: str | None = Field(
        None, description="A sound effect to generate (audioInference, e.g. mirelo:1@1)."
    )
    model: str | None = Field(
        None, description="Sound-effect model AIR id for `prompt` (default: the catalogue's)."
    )
    duration: float | None = Field(
        None, gt=0, description="Seconds of generated effect (the model's range; default 2)."
    )
    at: float = Field(0.0, ge=0, description="Seconds into the scene it starts.")
    volume: float = Field(1.0, ge=0, le=4, description="Linear gain.")
    price: float | None = Field(
        None,
        gt=0,
        description="USD per second of effect you expect: used only when the catalogue knows no "
        "price for the model (plan and --budget).",
    )

    @model_validator(mode="after")
    def _one_source(self) -> Sound:
        if (self.file is None) == (self.prompt is None):
            raise ValueError("a sound needs exactly one of 'file' or 'prompt'")
        if self.file is not None and (
            self.model is not None or self.duration is not None or self.price is not None
        ):
            raise ValueError("'model', 'duration' and 'price' are for generated sounds ('prompt')")
        return self


class LipSync(_Strict):
    """Lip sync of a scene's clip to its spoken lines (a second video task)."""

    model: str | None = Field(
        None, description="Lip-sync model AIR id (default: the catalogue's, sync:lipsync-2@1)."
    )


def _lipsync(v: Any) -> Any:
    if v is True:
        return {}
    if v is False:
        return None
    return v


NativeAudio = Literal["keep", "duck", "mute"]


def _kinds(annotation: Any) -> set[Any]:
    """The plain types an annotation admits (through unions, ``Optional`` and ``Annotated``)."""
    import types
    from typing import Annotated, Union, get_args, get_origin

    origin = get_origin(annotation)
    if origin is Annotated:
        return _kinds(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return set().union(*(_kinds(a) for a in get_args(annotation)))
    return {annotation}
