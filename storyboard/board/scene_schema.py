"""A scene's fields in the storyboard file: the shot, its prompt, continuity, trim, transition.

:class:`SceneFields` is also the shape of the storyboard's ``defaults``; ``schema`` places
:class:`Scene` in the :class:`~storyboard.board.schema.Storyboard` and re-exports its public names.
The slug and size patterns the rest of the file checks against are here too.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from .sound_schema import (
    LipSync,
    NarrationLine,
    NativeAudio,
    Sound,
    Strict,
    _lipsync,
    _narration,
)

# \A..\Z, not ^..$: "$" also matches before a trailing newline; [0-9], not \d: no other digits
SLUG = re.compile(r"\A[a-z0-9][a-z0-9_-]*\Z")
SIZE = re.compile(r"\A([0-9]{1,6})x([0-9]{1,6})\Z")
MAX_ID = 64  # scene ids name folders (build/takes/ID)
# Names a scene id may not take: the film's other tasks are named (and keep their takes) there
RESERVED_IDS = {
    "music": "the film's generated music task",
    "cast": "the cast sheets' tasks (cast:NAME)",
    "board": "the boards' tasks (board:SCENE)",
    "line": "the spoken lines' tasks (line:SCENE/N)",
    "sfx": "the sound effects' tasks (sfx:SCENE/N)",
    "lipsync": "the lip-sync tasks (lipsync:SCENE)",
}


class DialogueLine(Strict):
    """One spoken line; used by prompt templates and turned into captions."""

    who: str = Field(description="Who speaks (a character name).")
    line: str = Field(min_length=1, description="What they say.")
    # -- issue 18: voices and sound --
    at: float | None = Field(
        None,
        ge=0,
        description="Seconds into the scene the line starts (default: after the line before, "
        "with a short gap).",
    )


class Continuity(Strict):
    """How a scene continues from an earlier one."""

    mode: Literal["cut", "extend", "last_frame"] = Field(
        "cut",
        description="cut: independent; extend: continue the source's video (videoId); "
        "last_frame: start from the source clip's last frame.",
    )
    from_: str | None = Field(
        None, alias="from", description="Source scene id (default: the previous scene)."
    )


class Trim(Strict):
    """Seconds to keep from the scene's clip."""

    in_: float = Field(0.0, alias="in", ge=0, description="Start of the kept part, in seconds.")
    out: float | None = Field(None, gt=0, description="End of the kept part (default: clip end).")

    @model_validator(mode="after")
    def _order(self) -> Trim:
        if self.out is not None and self.out <= self.in_:
            raise ValueError(f"trim.out ({self.out}) must be after trim.in ({self.in_})")
        return self


class Transition(Strict):
    """How this scene is joined to the one before it in the cut."""

    type: Literal["cut", "crossfade", "fade"] = Field("cut", description="cut, crossfade or fade.")
    duration: float = Field(0.5, ge=0, le=5, description="Overlap in seconds (not for cut).")


def _continuity(v: Any) -> Any:
    return {"mode": v} if isinstance(v, str) else v


def _transition(v: Any) -> Any:
    return {"type": v} if isinstance(v, str) else v


def _trim(v: Any) -> Any:
    if isinstance(v, list | tuple) and len(v) == 2:
        return {"in": v[0], "out": v[1]}
    return v


class References(Strict):
    """Reference inputs of one scene (issue 16), each a project file or an https URL."""

    images: list[str] = Field(default_factory=list, description="Reference images.")
    videos: list[str] = Field(default_factory=list, description="Reference videos.")
    audio: list[str] = Field(default_factory=list, description="Reference audio.")

    @field_validator("images", "videos", "audio", mode="before")
    @classmethod
    def _one(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


SHOT_FIELDS = ("subject", "setting", "action", "camera", "sound", "style", "mood")
TEMPLATE_MARKS = ("{{", "{%", "{#")  # text holding one of these is a jinja2 template


class SceneFields(Strict):
    """Fields a scene may set; also the shape of ``defaults``."""

    prompt: str | None = Field(None, description="Inline jinja2 prompt text.")
    template: str | None = Field(
        None, description="A template file (project templates/ first, then the shared ones)."
    )
    subject: str | None = Field(None, description="Who or what the shot is about (templates).")
    setting: str | None = Field(None, description="Where it happens (templates).")
    action: str | None = Field(None, description="What happens (templates).")
    camera: str | None = Field(None, description="Camera framing and movement (templates).")
    sound: str | None = Field(None, description="Sound design (templates).")
    style: str | None = Field(None, description="Visual style block name or text (templates).")
    mood: str | None = Field(None, description="Mood and lighting (templates).")
    vars: dict[str, Any] = Field(default_factory=dict, description="Extra template variables.")
    duration: float | None = Field(None, description="Clip length in seconds (model-specific).")
    size: str | None = Field(None, description="WIDTHxHEIGHT override for this scene.")
    continuity: Continuity | None = Field(
        None, description="cut | extend | last_frame | {mode, from}"
    )
    first_frame: str | None = Field(
        None,
        description="An image in the project folder, or an https URL, used as first frame; "
        "`board` sends the scene's own board (its keyframe).",
    )
    end_frame: str | None = Field(
        None,
        description="An image (project file or https URL) the scene ends on; only for models "
        "that take a last frame (`storyboard models`).",
    )
    number_results: int | None = Field(
        None, description="Takes generated by one task (up to the model's limit)."
    )
    # --- issue 16: per-scene model, seed, negative prompt, settings, references, price ---
    model: str | None = Field(
        None,
        min_length=1,  # `model: ""` fell back to the film's model silently (hostile helper-47)
        description="Runware model AIR id for this scene (default: the storyboard's).",
    )
    seed: int | None = Field(None, ge=0, description="Seed, for models that take one.")
    negative_prompt: str | None = Field(
        None, min_length=1, description="What to keep out of the clip (models with negativePrompt)."
    )
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="Extra request fields of the scene's model, each one the SDK types for it "
        "(e.g. providerSettings, settings, fps, CFGScale); `storyboard models --json` lists them.",
    )
    references: References | None = Field(
        None,
        description="Reference inputs {images, videos, audio}: project files or https URLs, sent "
        "in the model's own field (inputs.referenceImages ...).",
    )
    price: float | None = Field(
        None,
        gt=0,
        description="USD per second you expect: used only when the catalogue knows no price "
        "for the scene's model (plan and --budget).",
    )
    dialogue: list[DialogueLine] = Field(default_factory=list, description="Spoken lines.")
    trim: Trim | None = Field(None, description="{in, out} seconds kept in the cut.")
    transition: Transition | None = Field(
        None, description="cut | crossfade | fade | {type, duration}"
    )
    # -- the cast and the boards (issue 17) --
    cast: list[str] | None = Field(
        None,
        description="Members of the top-level `cast` in this scene: their pictures go to the "
        "scene's board and, on models that take reference images, to its clip.",
    )
    # -- issue 18: voices and sound --
    narration: list[NarrationLine] = Field(
        default_factory=list,
        description="Lines the storyboard's `narrator` reads over this scene (text or {line, at}).",
    )
    native_audio: NativeAudio | None = Field(
        None, description="The clip's own sound: keep (default), duck (lowered) or mute."
    )
    sounds: list[Sound] = Field(
        default_factory=list,
        description="Sounds placed in the scene: [{file | prompt, at, volume}].",
    )
    lipsync: LipSync | None = Field(
        None,
        description="true: lip-sync the clip to its spoken lines (a second video task, "
        "sync:lipsync-2@1 by default; {model: AIR} to choose).",
    )

    _c = field_validator("continuity", mode="before")(_continuity)
    _n = field_validator("narration", mode="before")(_narration)
    _ls = field_validator("lipsync", mode="before")(_lipsync)
    _t = field_validator("transition", mode="before")(_transition)
    _tr = field_validator("trim", mode="before")(_trim)

    @model_validator(mode="after")
    def _not_both(self) -> SceneFields:
        if self.prompt is not None and self.template is not None:
            raise ValueError("give either 'prompt' or 'template', not both")
        return self

    @field_validator("size")
    @classmethod
    def _size(cls, v: str | None) -> str | None:
        if v is not None and not SIZE.match(v):
            raise ValueError(f"expected WIDTHxHEIGHT such as 1280x720, got {v!r}")
        return v


class Scene(SceneFields):
    """One shot of the film: one generation task (per take)."""

    id: str = Field(description="Unique slug: lowercase letters, digits, - and _.")

    @field_validator("id")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not SLUG.match(v):
            raise ValueError(f"{v!r} is not a slug (use lowercase letters, digits, '-' and '_')")
        if len(v) > MAX_ID:
            raise ValueError(f"a scene id may have at most {MAX_ID} characters, got {len(v)}")
        if v in RESERVED_IDS:  # hostile H14: one namespace with the film's other tasks
            raise ValueError(f"{v!r} names {RESERVED_IDS[v]}; give the scene another id")
        return v

    @model_validator(mode="after")
    def _prompt_or_template(self) -> Scene:
        if self.prompt is None and self.template is None:
            raise ValueError("a scene needs a 'prompt' or a 'template'")
        return self
