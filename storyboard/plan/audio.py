"""The sound nodes of the plan (issue 18): spoken lines, the generated music, generated sound
effects, and lip sync.

* ``line:SCENE/N``   a dialogue or narration line whose speaker has a voice: an
                     ``audioInference`` task with ``speech: {text, voice, language}``, keyed on
                     model, voice, language and text (nothing else: editing one line re-speaks
                     that line only, and buys no clip, whose prompt does not hold it)
* ``music``          ``edit.music.prompt``: one ``audioInference`` track, keyed on its prompt
                     and settings, looped or trimmed to the film by the cut
* ``sfx:SCENE/N``    ``sounds[N-1].prompt`` of a scene: a generated effect of ``duration`` s
* ``lipsync:SCENE``  ``lipsync: true``: a second ``videoInference`` task over the scene's clip
                     and its spoken lines, on the catalogue's lip-sync model

Values the executor fills in at render time: ``${video:SCENE}`` (the clip's videoUUID, as for
``extend``) and ``${audio:NODE}`` (a line's audioUUID).

Every rule and price comes from the audio catalogue (``board/catalogue/audio_models.json``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from storyboard.board.audio_models import AudioProfile, estimated_speech_seconds
from storyboard.board.lines import all_lines
from storyboard.board.spec import Project
from storyboard.board.voices import in_picture, model_for, voices
from storyboard.errors import Problem

from .request import VIDEO

if TYPE_CHECKING:
    from .compile import Task

AUDIO = "${audio:%s}"
SPEECH_FORMAT = "WAV"  # exact lengths: a line's real length places the next one
MUSIC_FORMAT = "MP3"
EFFECT_FORMAT = "WAV"
EFFECT_SECONDS = 2.0  # a placed effect's length when `duration` is not given (ours, not a fact)


@dataclass
class SoundNode:
    """One sound node: its name, request, planned cost and the nodes it waits for."""

    name: str
    index: int  # scene index (-1: the music)
    kind: str  # audio | video (lip sync)
    request: dict[str, Any]
    cost: float
    text: str  # what is said, or the prompt
    what: str  # voice | music | effect | lipsync
    model: str
    priced: bool
    waits: list[str] = field(default_factory=list)
    seconds: float = 0.0  # planned length (speech: estimated from the text)


def _costed(
    profile: AudioProfile, cost: float, seconds: float, price: float | None
) -> tuple[float, bool]:
    """A node's planned cost and whether it is known (N13): the catalogue's price, else the
    storyboard's ``price:`` (USD per second expected) over the planned seconds, else unknown
    ($0 in a plan's total, and refused under ``--budget``)."""
    if profile.priced:
        return cost, True
    if price is not None:
        return round(price * seconds, 4), True
    return 0.0, False


def _common(fmt: str) -> dict[str, Any]:
    return {
        "outputType": "URL",
        "outputFormat": fmt,
        "numberResults": 1,
        "includeCost": True,
        # async: journaled and collected by getResponse like every other task
        "deliveryMethod": "async",
    }


def _audio_request(uid: str, profile: AudioProfile, body: dict[str, Any], fmt: str) -> dict:
    return {
        "taskType": "audioInference",
        "taskUUID": uid,
        "model": profile.air,
        **body,
        **_common(fmt),
    }


def compile_sound(
    project: Project, new_uuid: Callable[[], str], film_seconds: float
) -> tuple[list[SoundNode], list[Problem]]:
    """Every sound node of the storyboard; problems at ``file:line`` for broken rules."""
    nodes: list[SoundNode] = []
    problems: list[Problem] = []
    speakers = voices(project)
    spoken: dict[int, list[str]] = {}
    for ln in all_lines(project):
        if ln.speaker is None:
            continue
        sp = speakers[ln.speaker]
        speech: dict[str, Any] = {"text": ln.text, "voice": sp.voice}
        if sp.language is not None:
            speech["language"] = sp.language
        req = _audio_request(new_uuid(), sp.profile, {"speech": speech}, SPEECH_FORMAT)
        said = estimated_speech_seconds(ln.text)
        cost, priced = _costed(sp.profile, sp.profile.cost(chars=len(ln.text)), said, sp.price)
        nodes.append(
            SoundNode(
                ln.node,
                ln.index,
                "audio",
                req,
                cost,
                ln.text,
                "voice",
                sp.profile.air,
                priced,
                seconds=said,
            )
        )
        if in_picture(project, ln.index, ln.speaker):  # lip sync: only faces in the picture
            spoken.setdefault(ln.index, []).append(ln.node)
    music = project.board.edit.music
    if music is not None and music.prompt is not None:
        p = model_for("music", music.model)
        if p is not None and p.kind == "music":
            body: dict[str, Any] = {"positivePrompt": music.prompt}
            problems.extend(_prompt_rule(project, p, music.prompt, ("edit", "music", "prompt")))
            if p.duration_range is not None and "duration" in p.params:
                lo, hi = p.duration_range
                body["duration"] = round(min(hi, max(lo, film_seconds)), 1)
            req = _audio_request(new_uuid(), p, body, MUSIC_FORMAT)
            length = float(body.get("duration", film_seconds))
            cost, priced = _costed(p, p.cost(), length, music.price)
            nodes.append(
                SoundNode(
                    "music",
                    -1,
                    "audio",
                    req,
                    cost,
                    music.prompt,
                    "music",
                    p.air,
                    priced,
                    seconds=float(body.get("duration", 0)),
                )
            )
    for i, scene in enumerate(project.board.scenes):
        for k, sound in enumerate(scene.sounds, 1):
            if sound.prompt is None:
                continue
            p = model_for("effect", sound.model)
            if p is None or p.kind != "effect":
                continue  # reported by board.voices
            where = ("scenes", i, "sounds", k - 1)
            problems.extend(_prompt_rule(project, p, sound.prompt, (*where, "prompt")))
            seconds = sound.duration or EFFECT_SECONDS
            if p.duration_range is not None and not (
                p.duration_range[0] <= seconds <= p.duration_range[1]
            ):
                lo, hi = p.duration_range
                problems.append(
                    project.problem(
                        (*where, "duration"),
                        f"{p.name} makes {lo:g} to {hi:g} s of sound, got {seconds:g}",
                    )
                )
                continue
            body = {"positivePrompt": sound.prompt, "duration": seconds}
            req = _audio_request(new_uuid(), p, body, EFFECT_FORMAT)
            cost, priced = _costed(p, p.cost(), seconds, sound.price)
            nodes.append(
                SoundNode(
                    f"sfx:{scene.id}/{k}",
                    i,
                    "audio",
                    req,
                    cost,
                    sound.prompt,
                    "effect",
                    p.air,
                    priced,
                    seconds=seconds,
                )
            )
        if scene.lipsync is not None and spoken.get(i):
            p = model_for("lipsync", scene.lipsync.model)
            if p is None or p.kind != "lipsync":
                continue  # reported by board.voices
            lines = spoken[i]
            secs = sum(n.seconds for n in nodes if n.name in lines)
            req = {
                "taskType": p.task_type,
                "taskUUID": new_uuid(),
                "model": p.air,
                "inputs": {
                    "video": VIDEO % scene.id,
                    "audios": [
                        {"id": f"line-{n + 1}", "source": AUDIO % name}
                        for n, name in enumerate(lines)
                    ],
                },
                "includeCost": True,
                "deliveryMethod": "async",
            }
            nodes.append(
                SoundNode(
                    f"lipsync:{scene.id}",
                    i,
                    "video",
                    req,
                    p.cost(seconds=secs),
                    "",
                    "lipsync",
                    p.air,
                    p.priced,
                    [scene.id, *lines],
                    secs,
                )
            )
    return nodes, problems


def _prompt_rule(
    project: Project, p: AudioProfile, prompt: str, where: tuple[str | int, ...]
) -> list[Problem]:
    if p.prompt_chars is None:
        return []
    lo, hi = p.prompt_chars
    if len(prompt) < lo or (hi is not None and len(prompt) > hi):
        limit = f"{lo} to {hi}" if hi is not None else f"at least {lo}"
        return [
            project.problem(
                where, f"{p.name} takes a prompt of {limit} characters, got {len(prompt)}"
            )
        ]
    return []


def sound_tasks(
    project: Project, new_uuid: Callable[[], str], clips: list[Task]
) -> tuple[list[Task], list[Problem]]:
    """The sound nodes as tasks of the plan's graph (kind ``audio``; lip sync ``video``)."""
    from .compile import Task

    film = sum(t.duration for t in clips)
    found, problems = compile_sound(project, new_uuid, film)
    clip_names = {t.scene for t in clips}
    tasks = []
    for n in found:
        if n.what == "lipsync" and n.waits[0] not in clip_names:
            continue  # the scene's clip failed to compile: reported already
        task = Task(n.name, n.index, "cut", None, n.request, n.cost, n.text, kind=n.kind)
        task.waits = list(n.waits)
        task.price_known = n.priced  # N13: an unpriced sound is refused under --budget
        tasks.append(task)
    return tasks, problems
