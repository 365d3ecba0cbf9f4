"""Cross-field checks of the storyboard's sound (issue 18): who speaks with which voice,
narration, generated music and effects, lip sync.

Errors (``sound_problems``) stop a load like every other problem: an unknown model, a model of
the wrong kind, narration without a narrator, a sound file outside the project, lip sync with
no lip-sync model in the catalogue. Warnings (``sound_warnings``) do not: a voice name the
catalogue does not list (voice lists are only partly published), a language it does not list.
"""

from __future__ import annotations

from dataclasses import dataclass

from storyboard.errors import Problem
from storyboard.files import resolve_inside

from .assets import AUDIO_SUFFIXES
from .audio_models import AudioProfile, audio_catalogue, default_model, of_kind
from .schema import Scene
from .sound_schema import Voice
from .spec import Project, not_a_file, special


@dataclass(frozen=True)
class Speaker:
    """A voice resolved against the catalogue."""

    name: str  # cast slug, or "narrator"
    profile: AudioProfile
    voice: str  # the catalogue's spelling when listed
    language: str | None
    price: float | None = None  # USD per second the storyboard expects (an unpriced model)


def model_for(kind: str, air: str | None) -> AudioProfile | None:
    """The profile named (whatever its kind; the caller checks), or the kind's default."""
    if air is None:
        return default_model(kind)
    return audio_catalogue().get(air)


def _kind_error(kind: str, air: str | None) -> str | None:
    p = model_for(kind, air)
    names = ", ".join(m.air for m in of_kind(kind)) or "none"
    if p is None and air is None:
        return f"the model catalogue has no {kind} model"
    if p is None:
        return (
            f"unknown {kind} model {air!r} (known: {names}; the audio catalogue: "
            "storyboard/board/catalogue/audio_models.json)"
        )
    if p.kind != kind:
        article = "an" if kind[0] in "aeiou" else "a"
        return f"{air} is a {p.kind} model, not {article} {kind} model (known: {names})"
    return None


def voices(project: Project) -> dict[str, Speaker]:
    """Every voice in the storyboard by speaker (cast slug, or ``narrator``), for those that
    check out (the others are problems)."""
    out: dict[str, Speaker] = {}
    for name, v, _ in _declared(project):
        p = model_for("speech", v.model)
        if p is not None and p.kind == "speech":
            voice = p.canonical_voice(v.voice, v.language)
            out[name] = Speaker(name, p, voice, v.language, v.price)
    return out


def speaker_of(project: Project, who: str) -> str | None:
    """The cast slug a dialogue ``who`` names (case and spaces ignored), or None."""
    key = who.strip().casefold().replace(" ", "-")
    for name in _cast(project):
        if name.casefold() == key:
            return name
    return None


def in_picture(project: Project, index: int, speaker: str | None) -> bool:
    """Whether ``speaker`` (a voiced line's speaker) can be seen speaking in scene ``index``:
    a cast member with a picture (description or images), in the scene's ``cast`` when it has
    one. The narrator and voice-only members (heard on a radio) never are: lip sync would move
    a face in the picture to a voice that is not its own (hostile finding H7)."""
    member = project.board.cast.get(speaker) if speaker is not None else None
    if member is None or (member.description is None and not member.images):
        return False
    listed = project.board.scenes[index].cast
    return not listed or speaker in listed


def _cast(project: Project) -> dict[str, object]:
    return dict(project.board.cast)


def _declared(project: Project) -> list[tuple[str, Voice, tuple[str | int, ...]]]:
    found: list[tuple[str, Voice, tuple[str | int, ...]]] = []
    if project.board.narrator is not None:
        found.append(("narrator", project.board.narrator, ("narrator",)))
    for name, member in _cast(project).items():
        v = getattr(member, "voice", None)
        if v is not None:
            found.append((name, v, ("cast", name, "voice")))
    return found


def sound_problems(project: Project) -> list[Problem]:
    """Errors in the storyboard's sound, each at its ``file:line``."""
    board = project.board
    problems: list[Problem] = []
    for _, v, path in _declared(project):
        err = _kind_error("speech", v.model)
        if err is not None:
            problems.append(project.problem((*path, "model"), err))
            continue
        p = model_for("speech", v.model)
        assert p is not None
        if v.language is not None and not p.language_field:
            problems.append(
                project.problem(
                    (*path, "language"),
                    f"{p.air} takes no language (it detects it); remove `language`",
                )
            )
        elif p.voices_complete and not p.voice_listed(v.voice, v.language):
            # the catalogue's source lists every voice (hostile helper-56: it was a warning
            # that "voice lists are only partly published", and the service refuses it)
            problems.append(
                project.problem(
                    (*path, "voice"),
                    f"voice {v.voice!r} is not one of {p.air}'s voices "
                    f"({', '.join(p.known_voices(v.language))})",
                )
            )
    for i, scene in enumerate(board.scenes):
        for k, name in enumerate(scene.cast or []):  # a voice only has no picture to hold
            member = board.cast.get(name)
            if member is not None and member.description is None and not member.images:
                problems.append(
                    project.problem(
                        ("scenes", i, "cast", k),
                        f"scene {scene.id!r}: {name!r} is only a voice (no description or "
                        "images): it has no picture to hold; leave it out of `cast` (its "
                        "lines are heard all the same)",
                        project.scene_line(i, "cast"),
                    )
                )
        if scene.narration and board.narrator is None:
            problems.append(
                project.problem(
                    ("scenes", i, "narration"),
                    "narration needs a storyboard-level `narrator: {model, voice}`",
                    project.scene_line(i, "narration"),
                )
            )
        problems.extend(_late(project, i))  # hostile H9: cues after the scene has ended
        for k, sound in enumerate(scene.sounds):
            where = ("scenes", i, "sounds", k)
            if sound.file is not None:
                problems.extend(_check_file(project, where, sound.file))
            else:
                err = _kind_error("effect", sound.model)
                if err is not None:  # at the model given (hostile helper-56: at `prompt`)
                    field = "model" if sound.model is not None else "prompt"
                    problems.append(project.problem((*where, field), err))
        if scene.lipsync is not None:
            err = _kind_error("lipsync", scene.lipsync.model)
            if err is not None:
                problems.append(
                    project.problem(
                        ("scenes", i, "lipsync"),
                        f"lip sync needs a lip-sync model: {err}",
                        project.scene_line(i, "lipsync"),
                    )
                )
    music = board.edit.music
    if music is not None and music.prompt is not None:
        err = _kind_error("music", music.model)
        if err is not None:
            problems.append(project.problem(("edit", "music", "model"), err))
    return problems


def shown_length(scene: Scene) -> float | None:
    """How long a scene plays in the cut before transitions (its duration less its trims), or
    None when the model decides its length."""
    if scene.duration is None:
        return None
    trim = scene.trim
    end = trim.out if trim is not None and trim.out is not None else scene.duration
    return max(0.0, min(end, scene.duration) - (trim.in_ if trim is not None else 0.0))


def _late(project: Project, i: int) -> list[Problem]:
    """Each line, narration or placed sound of scene ``i`` whose ``at`` is at or after the end
    of what the scene shows: it would play after the scene (or the film) has ended."""
    scene = project.board.scenes[i]
    length = shown_length(scene)
    if length is None:
        return []
    cues = [
        *(("dialogue", k, d.at) for k, d in enumerate(scene.dialogue)),
        *(("narration", k, n.at) for k, n in enumerate(scene.narration)),
        *(("sounds", k, snd.at) for k, snd in enumerate(scene.sounds)),
    ]
    return [
        project.problem(
            ("scenes", i, field, k, "at"),
            f"at {at:g} s is after the end of scene {scene.id!r} ({length:g} s long in the "
            "cut): it would never be heard; `at` is seconds into the scene",
        )
        for field, k, at in cues
        if at is not None and at >= length
    ]


def _check_file(project: Project, where: tuple[str | int, ...], value: str) -> list[Problem]:
    p = resolve_inside(project.root, value)
    path = (*where, "file")
    if p is None:
        return [project.problem(path, f"{value!r} is outside the project folder")]
    if special(p):
        return [project.problem(path, not_a_file(p, value, "a sound file"))]
    if not p.is_file():
        return [project.problem(path, f"sound file not found: {value}")]
    if p.suffix.lower() not in AUDIO_SUFFIXES:
        return [
            project.problem(path, f"{value!r} is not a sound file ({', '.join(AUDIO_SUFFIXES)})")
        ]
    from .assets import check_audio  # issue 15: it opens and has an audio stream

    return check_audio(project, path, value, p, "a sound")


def _ignored_prices(project: Project) -> list[str]:
    """A ``price:`` on a voice, the music or an effect whose model has a published price: the
    catalogue's is used (hostile N13 F8: it was ignored without a word)."""
    found: list[tuple[tuple[str | int, ...], str | None, str]] = [
        (path, v.model, "speech") for _, v, path in _declared(project) if v.price is not None
    ]
    music = project.board.edit.music
    if music is not None and music.prompt is not None and music.price is not None:
        found.append((("edit", "music"), music.model, "music"))
    for i, scene in enumerate(project.board.scenes):
        for k, sound in enumerate(scene.sounds):
            if sound.prompt is not None and sound.price is not None:
                found.append((("scenes", i, "sounds", k), sound.model, "effect"))
    out = []
    for path, air, kind in found:
        p = model_for(kind, air)
        if p is not None and p.kind == kind and p.priced:
            out.append(
                str(
                    project.problem(
                        (*path, "price"),
                        f"warning: {p.air} has a published price ({p.price_text()}); "
                        "this `price:` is not used",
                    )
                )
            )
    return out


def sound_warnings(project: Project) -> list[str]:
    """Warnings (``file:line: where: warning: ...``): voices and languages the catalogue does
    not list, lip sync on a scene nobody speaks in."""
    out: list[str] = []
    for _, v, path in _declared(project):
        p = model_for("speech", v.model)
        if p is None or p.kind != "speech":
            continue
        if p.languages is not None and v.language is not None and v.language not in p.languages:
            listed = ", ".join(p.languages)
            out.append(
                str(
                    project.problem(
                        (*path, "language"),
                        f"warning: language {v.language!r} is "
                        f"not in the catalogue's list for {p.air} ({listed}); the "
                        "service will say",
                    )
                )
            )
        if not p.voice_listed(v.voice, v.language) and not p.voices_complete:  # else an error
            known = p.known_voices(v.language)
            hint = f" (listed: {', '.join(known[:8])}{', ...' if len(known) > 8 else ''})"
            out.append(
                str(
                    project.problem(
                        (*path, "voice"),
                        f"warning: voice {v.voice!r} is not in the "
                        f"catalogue's list for {p.air}{hint if known else ''}; "
                        "voice lists are only partly published, the service will say",
                    )
                )
            )
    out.extend(_ignored_prices(project))
    speakers = voices(project)
    out.extend(_unknown_speakers(project, speakers))
    for i, scene in enumerate(project.board.scenes):
        seen = [
            slug
            for d in scene.dialogue
            if (slug := speaker_of(project, d.who)) in speakers and in_picture(project, i, slug)
        ]
        if scene.lipsync is not None and not seen:
            out.append(
                str(
                    project.problem(
                        ("scenes", i, "lipsync"),
                        "warning: nobody in the picture speaks in this scene (the narrator and "
                        "cast members who are only a voice are never lip-synced): nothing to "
                        "lip-sync",
                        project.scene_line(i, "lipsync"),
                    )
                )
            )
    return out


def _unknown_speakers(project: Project, speakers: dict[str, Speaker]) -> list[str]:
    """A ``who`` that names nobody in the cast but is close to a name that has a voice (a
    typo, an accent, most likely), or names the narrator: the line is not voiced (hostile
    helpers 56 and 58: validate said OK, and a template put the line in the prompt, which
    bought a new clip). Other names stay quiet: a speaker outside the cast is allowed."""
    import difflib
    import unicodedata

    def plain(name: str) -> str:
        folded = unicodedata.normalize("NFKD", name.strip().casefold().replace(" ", "-"))
        return "".join(ch for ch in folded if not unicodedata.combining(ch))

    names = {plain(name): name for name in speakers if name != "narrator"}
    unvoiced = (
        "nobody voices the line: it is a caption only (and speech in the prompt where a "
        "template writes the dialogue)"
    )
    out: list[str] = []
    for i, scene in enumerate(project.board.scenes):
        for k, d in enumerate(scene.dialogue):
            if speaker_of(project, d.who) is not None:
                continue
            key = plain(d.who)
            where = ("scenes", i, "dialogue", k, "who")
            if key == "narrator" and "narrator" in speakers:
                message = (
                    "warning: the narrator reads the scene's `narration:` lines; as a "
                    f"dialogue line's `who`, {unvoiced}"
                )
                out.append(str(project.problem(where, message)))
                continue
            close = difflib.get_close_matches(key, list(names), n=1, cutoff=0.75)
            if close:
                message = (
                    f"warning: {d.who!r} is not in the cast (did you mean "
                    f"{names[close[0]]!r}?): {unvoiced}"
                )
                out.append(str(project.problem(where, message)))
    return out
