"""The storyboard file's schema: pydantic models, each field documented (``storyboard schema``).

The top level, the cast, the edit, the output and the variants are here; a scene's fields are in
``scene_schema`` and the sound fields in ``sound_schema``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from .scene_schema import (
    MAX_ID,
    SIZE,
    SLUG,
    Continuity,
    Scene,
    SceneFields,
    Transition,
    _transition,
)

# re-exported: importable from here, as before the scene's fields had a module of their own
from .scene_schema import RESERVED_IDS as RESERVED_IDS
from .scene_schema import SHOT_FIELDS as SHOT_FIELDS
from .scene_schema import TEMPLATE_MARKS as TEMPLATE_MARKS
from .scene_schema import DialogueLine as DialogueLine
from .scene_schema import References as References
from .scene_schema import Trim as Trim
from .sound_schema import Strict, Voice

FILM_SIDE = (16, 3840)
STORYBOARD_FILE = "storyboard.yaml"


class Music(Strict):
    """A music bed mixed under the clips' own audio: a file, or a track generated once."""

    file: str | None = Field(None, description="Audio file inside the project folder.")
    # -- issue 18: generated music --
    prompt: str | None = Field(
        None, description="Generate the track from this prompt (audioInference) instead of a file."
    )
    model: str | None = Field(
        None,
        min_length=1,
        description="Music model AIR id for `prompt` (default minimax:music@2.6).",
    )
    volume: float = Field(0.3, ge=0, le=4, description="Linear gain of the bed.")
    fade_in: float = Field(1.0, ge=0, description="Seconds.")
    fade_out: float = Field(2.0, ge=0, description="Seconds.")
    start: float = Field(0.0, ge=0, description="Offset into the music file, in seconds.")
    loop: bool = Field(True, description="Loop the music to the film's length.")
    duck: float = Field(0.35, ge=0, le=1, description="Gain of the bed while a scene has dialogue.")
    price: float | None = Field(
        None,
        gt=0,
        description="USD per second of music you expect: used only when the catalogue knows no "
        "price for the model of `prompt` (plan and --budget).",
    )

    @model_validator(mode="after")
    def _file_or_prompt(self) -> Music:
        if (self.file is None) == (self.prompt is None):
            raise ValueError("music needs exactly one of 'file' or 'prompt'")
        if self.file is not None and (self.model is not None or self.price is not None):
            raise ValueError("'model' and 'price' are for generated music ('prompt')")
        return self


def _off(v: Any) -> Any:
    # YAML reads a bare `off` as false; here it can only mean "off"
    return "off" if v is False else v


class Edit(Strict):
    """Composition settings used to build the final cut."""

    transition: Transition = Field(
        default_factory=lambda: Transition(), description="Default transition."
    )
    music: Music | None = Field(None, description="Optional music bed.")
    loudness: float | Literal["off"] = Field(
        -16.0, description="Target integrated loudness in LUFS, or 'off'."
    )
    true_peak: float = Field(-1.0, le=0, description="Maximum true peak, dBTP.")
    captions: Literal["off", "srt", "burn"] = Field("srt", description="off, srt or burn.")
    fade_in: float = Field(0.0, ge=0, description="Fade in from black at the start, seconds.")
    fade_out: float = Field(0.0, ge=0, description="Fade out to black at the end, seconds.")

    _t = field_validator("transition", mode="before")(_transition)
    _o = field_validator("loudness", "captions", mode="before")(_off)

    @field_validator("loudness")
    @classmethod
    def _lufs(cls, v: float | str) -> float | str:
        if isinstance(v, float | int) and not -70 <= v <= -5:
            raise ValueError(f"loudness must be between -70 and -5 LUFS, got {v}")
        return v


class Output(Strict):
    """The final film file."""

    file: str | None = Field(
        None, description="Path inside the project (default build/<name>.<ext>)."
    )
    format: Literal["MP4", "WEBM", "MOV"] = Field("MP4", description="MP4, WEBM or MOV.")
    quality: int = Field(95, ge=20, le=99, description="20-99; also sent as outputQuality.")
    fps: int = Field(30, ge=1, le=60, description="Constant frame rate of the film.")
    size: str | None = Field(
        None,
        description="WIDTHxHEIGHT of the film (default: the "
        "storyboard's size); smaller makes a quick draft cut.",
    )

    @field_validator("size")
    @classmethod
    def _size(cls, v: str | None) -> str | None:
        return None if v is None else _film_size(v)

    @field_validator("format", mode="before")
    @classmethod
    def _upper(cls, v: Any) -> Any:
        return v.upper() if isinstance(v, str) else v


class CastMember(Strict):
    """A recurring person, place or prop (issue 17: the cast)."""

    description: str | None = Field(
        None,
        min_length=1,
        description="Who or what it is; prompts read it as {{ cast.NAME }} (a member that is "
        "only a voice may leave it out).",
    )
    images: list[str] = Field(
        default_factory=list,
        description="Your own reference pictures (project files or https URLs); without any, "
        "a reference sheet is generated from the description (`cast:NAME`).",
    )
    # -- issue 18: voices and sound --
    voice: Voice | None = Field(
        None, description="The voice that speaks this member's lines: {model, voice, language}."
    )

    @model_validator(mode="after")
    def _seen_or_heard(self) -> CastMember:
        if self.description is None and self.voice is None:
            raise ValueError("a cast member needs a 'description' (or, for a voice only, 'voice')")
        return self


# -- variants (issue 20): one storyboard, several films -------------------------------------
# `--variant main` is the storyboard itself, `all` every film; `animatic` would be written where
# the boards' animatic is (build/NAME.animatic.mp4), each replacing the other (hostile helper-31)
RESERVED_VARIANTS = ("main", "all", "animatic")
VARIANT_KEYS = ("size", "reframe", "focus", "skip", "scenes")  # the rest: top-level fields


class Variant(Strict):
    """One more film from the same storyboard: only what differs from the main film.

    Besides the keys below, any top-level storyboard field (``vars``, ``edit``, ``output``,
    ``model``, ...) may be given: mappings merge key by key over the main film's, other values
    replace it."""

    model_config = ConfigDict(extra="allow")

    size: str | None = Field(
        None, description="WIDTHxHEIGHT of this film (default: the main film's)."
    )
    reframe: Literal["crop", "pad"] | None = Field(
        None,
        description="crop or pad: reuse the main film's takes, cropped or padded to `size`; "
        "without it the scenes are generated again at `size`.",
    )
    focus: tuple[float, float] | None = Field(
        None,
        description="[x, y] from 0 to 1: the point of the picture a crop keeps (default "
        "the centre).",
    )
    skip: list[str] = Field(default_factory=list, description="Scene ids left out of this film.")
    scenes: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Per scene id: any scene field, replacing the main's."
    )

    @field_validator("size")
    @classmethod
    def _size(cls, v: str | None) -> str | None:
        return None if v is None else _film_size(v)

    @field_validator("focus")
    @classmethod
    def _focus(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        if v is not None and not all(0 <= x <= 1 for x in v):
            raise ValueError(f"focus is [x, y] with each from 0 to 1, got {list(v)}")
        return v

    @model_validator(mode="after")
    def _coherent(self) -> Variant:
        if self.reframe is not None and self.size is None:
            raise ValueError("'reframe' needs a 'size' to reframe to")
        if self.focus is not None and self.reframe != "crop":
            raise ValueError("'focus' is where a crop is centred: it needs 'reframe: crop'")
        return self


def check_cast_name(name: str) -> str:
    if not SLUG.match(name) or len(name) > MAX_ID:
        raise ValueError(
            f"cast name {name!r} is not a slug (lowercase letters, digits, '-' and '_')"
        )
    return name


def check_variant_name(name: str) -> str:
    if not SLUG.match(name) or len(name) > MAX_ID:
        raise ValueError(f"{name!r} is not a slug (use lowercase letters, digits, '-' and '_')")
    if name == "animatic":
        raise ValueError("'animatic' is reserved (the boards' animatic is build/NAME.animatic.mp4)")
    if name in RESERVED_VARIANTS:
        raise ValueError(f"{name!r} is reserved (`--variant {name}`); choose another name")
    return name


class Storyboard(Strict):
    """A storyboard file: the whole film."""

    title: str = Field(description="The film's title.")
    model: str = Field("openai:3@1", description="Runware model AIR id (default Sora 2).")
    size: str = Field("1280x720", description="WIDTHxHEIGHT of every clip and of the film.")
    defaults: SceneFields = Field(
        default_factory=lambda: SceneFields(), description="Any scene field."
    )
    vars: dict[str, Any] = Field(default_factory=dict, description="Variables for every template.")
    scenes: Annotated[list[Scene], Field(min_length=1, description="The shots, in film order.")]
    edit: Edit = Field(
        default_factory=lambda: Edit(), description="Transitions, music, loudness, captions."
    )
    output: Output = Field(default_factory=lambda: Output(), description="The final film file.")
    # -- the cast and the boards (issue 17) --
    image_model: str = Field(
        "bfl:6@1",
        description="Runware imageInference model AIR id for cast sheets and boards "
        "(default FLUX.2 [flex]; the image catalogue: board/catalogue/image_models.json).",
    )
    # each name checked at its own key, so one bad name hides neither the other members'
    # problems nor itself behind "unknown cast member" elsewhere (hostile helper-30)
    cast: dict[Annotated[str, AfterValidator(check_cast_name)], CastMember] = Field(
        default_factory=dict,
        description="Recurring people, places and props, by slug; scenes list theirs in `cast`.",
    )

    # variants (issue 20)
    variants: dict[Annotated[str, AfterValidator(check_variant_name)], Variant] = Field(
        default_factory=dict,
        description="More films from this storyboard, by name: only what differs "
        "(size and reframe, vars, per-scene fields, edit, output, skip).",
    )
    # -- issue 18: voices and sound --
    narrator: Voice | None = Field(
        None, description="The voice that reads scenes' `narration`: {model, voice, language}."
    )

    @field_validator("size")
    @classmethod
    def _size(cls, v: str) -> str:
        if not SIZE.match(v):
            raise ValueError(f"expected WIDTHxHEIGHT such as 1280x720, got {v!r}")
        return _even(v)  # the film's size unless output.size says otherwise (hostile helper-37)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the storyboard file, for editors."""
    schema = Storyboard.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "storyboard.yaml"
    _add_short_forms(schema)
    return schema


def _add_short_forms(schema: dict[str, Any]) -> None:
    """The short forms the validators accept (``continuity: extend``, ``trim: [1, 3]``, a bare
    ``off``), so an editor checking against the schema agrees with ``storyboard validate``."""
    short: dict[str, dict[str, Any]] = {
        "continuity": {"enum": list(get_args(Continuity.model_fields["mode"].annotation))},
        "transition": {"enum": list(get_args(Transition.model_fields["type"].annotation))},
        "trim": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
        "loudness": {"const": False},
        "captions": {"const": False},
    }
    for model in schema.get("$defs", {}).values():
        for name, prop in model.get("properties", {}).items():
            if name not in short:
                continue
            if "anyOf" in prop:
                prop["anyOf"].insert(0, short[name])
            else:
                keep = {k: prop.pop(k) for k in ("description", "default", "title") if k in prop}
                inner = dict(prop)
                prop.clear()
                prop.update(keep, anyOf=[short[name], inner])


def _film_size(v: str) -> str:
    if not SIZE.match(v):
        raise ValueError(f"expected WIDTHxHEIGHT such as 640x360, got {v!r}")
    lo, hi = FILM_SIDE
    w, h = parse_size(v)
    if not all(lo <= side <= hi for side in (w, h)):
        raise ValueError(f"the film may be at most {hi}x{hi} and at least {lo}x{lo}, got {v}")
    return _even(v)


def _even(v: str) -> str:
    w, h = parse_size(v)
    if w % 2 or h % 2:  # 4:2:0 picture: x264 refused it at the compose (hostile helper-30)
        even = f"{w - w % 2}x{h - h % 2}"
        raise ValueError(
            f"the film's width and height must be even (4:2:0 video), got {v}: {even}?"
        )
    return v


def parse_size(size: str) -> tuple[int, int]:
    m = SIZE.match(size)
    assert m, size
    return int(m.group(1)), int(m.group(2))
