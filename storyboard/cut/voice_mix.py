"""The film's voices and placed sounds (issue 18), in ffmpeg: each scene's own sound kept,
lowered or muted, lowered again under speech; then the spoken lines and the scenes' sounds
laid over the mix at their times.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from storyboard.board.spec import Project
from storyboard.media.ffmpeg import run_ffmpeg
from storyboard.media.probe import duration_cached

from .audio import RATE, mix_to_wav
from .filmkey import file_sha256
from .takes import ChosenTake
from .timeline import Timeline

NATIVE_GAIN = {"keep": 1.0, "duck": 0.3, "mute": 0.0}  # native_audio: the clip's own sound
UNDER_SPEECH = 0.5  # the clips' sound while someone speaks (-6 dB)


@dataclass(frozen=True)
class Overlay:
    """A sound file laid on the film at ``start`` seconds, at ``volume``."""

    file: Path
    start: float
    volume: float = 1.0
    length: float | None = None  # cut here (a sound longer than wanted), None: whole file
    kind: str = "dialogue"  # dialogue | effect (the hand-off's tracks)
    name: str = ""  # the node (line:SCENE/N, sfx:SCENE/N) or the sound file


def speech_spans(tl: Timeline) -> list[tuple[float, float]]:
    """Where someone speaks (voiced lines), merged, clipped to the film."""
    spans = sorted((p.start, min(p.end, tl.duration)) for p in tl.lines if p.line.voiced)
    merged: list[tuple[float, float]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        elif b > a:
            merged.append((a, b))
    return merged


def _any(spans: list[tuple[float, float]]) -> str:
    return "+".join(f"between(t,{a:.3f},{b:.3f})" for a, b in spans) or "0"


def native_gain_expr(tl: Timeline) -> str | None:
    """The volume expression for the clips' sound under speech, or None when it stays as it
    is (each scene's ``native_audio`` gain is applied to its own sound as it is placed:
    ``audio.place_segments``)."""
    speech = speech_spans(tl)
    return f"if(gt({_any(speech)},0),{UNDER_SPEECH},1)" if speech else None


def shape_native(native: Path, expr: str, tl: Timeline, dest: Path) -> Path:
    """The clips' sound with the scenes' ``native_audio`` and the speech ducking applied."""
    run_ffmpeg(
        [
            "-i",
            str(native),
            "-af",
            f"volume='{expr}':eval=frame",
            "-t",
            f"{tl.duration:.6f}",
            "-c:a",
            "pcm_f32le",
            "-ar",
            str(RATE),
            "-f",
            "wav",
            str(dest),
        ],
        what="the clips' sound under the voices",
    )
    return dest


def overlay(mixed: Path, items: list[Overlay], tl: Timeline, dest: Path) -> Path:
    """``items`` laid over ``mixed`` at their times (the film's length is kept)."""
    args = ["-i", str(mixed)]
    parts = []
    for k, item in enumerate(items, 1):
        args += ["-i", str(item.file)]
        cut = f"atrim=duration={item.length:.6f}," if item.length is not None else ""
        parts.append(
            f"[{k}:a]{cut}asetpts=PTS-STARTPTS,aresample={RATE},aformat=sample_fmts=fltp:"
            f"channel_layouts=stereo,volume={item.volume:.4f},"
            f"adelay={round(item.start * RATE)}S:all=1[o{k}]"
        )
    ins = "[0:a]" + "".join(f"[o{k}]" for k in range(1, len(items) + 1))
    graph = ";".join(parts) + (
        f";{ins}amix=inputs={len(items) + 1}:normalize=0:duration=first:dropout_transition=0,"
        f"atrim=duration={tl.duration:.6f}[out]"
    )
    return mix_to_wav(args, graph, dest, codec="pcm_f32le", what="the voices and sounds")


@dataclass
class FilmSounds:
    """What the film's sound is made of besides the clips: from the lock and the project."""

    music: Path | None = None  # the generated music take (None: a music file, or none)
    music_key: str | None = None
    overlays: list[Overlay] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # one per overlay: its content, for caches
    scene_gain: dict[str, float] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # nodes with no take yet
    warnings: list[str] = field(default_factory=list)  # sounds that run past their scene


def film_sounds(project: Project, tl: Timeline, lock: Mapping[str, ChosenTake]) -> FilmSounds:
    """The spoken lines, the scenes' sounds and the generated music, placed on ``tl``."""
    out = FilmSounds()
    root = project.root
    for placed in tl.lines:
        if not placed.line.voiced:
            continue
        take = lock.get(placed.line.node)
        if take is None:
            out.missing.append(placed.line.node)
            continue
        out.overlays.append(Overlay(root / take.file, placed.start, name=placed.line.node))
        out.keys.append(f"{take.media_key}@{placed.start:.4f}")
    starts = {s.scene: s.start for s in tl.segments}
    ends = {s.scene: s.end for s in tl.segments}
    for index, scene in enumerate(project.board.scenes):
        out.scene_gain[scene.id] = NATIVE_GAIN[scene.native_audio or "keep"]
        if f"lipsync:{scene.id}" in lock:  # its sound is the lines, which are laid here
            out.scene_gain[scene.id] = 0.0
        for k, sound in enumerate(scene.sounds, 1):
            at = starts[scene.id] + sound.at
            name = f"sfx:{scene.id}/{k}"
            if sound.file is not None:
                path, name = root / sound.file, sound.file
                sha = file_sha256(path)
                key = f"file:{sha}"
                length = duration_cached(path, f"file-{sha[:32]}", project.build / "media")
            else:
                take = lock.get(f"sfx:{scene.id}/{k}")
                if take is None:
                    out.missing.append(f"sfx:{scene.id}/{k}")
                    continue
                path, key = root / take.file, take.media_key
                length = take.duration or duration_cached(path, key, project.build / "media")
            out.overlays.append(Overlay(path, at, sound.volume, kind="effect", name=name))
            out.keys.append(f"{key}@{at:.4f}x{sound.volume:g}")
            over = at + length - ends[scene.id]
            if over > 0.005:  # as a line that overruns its scene (hostile helper-30)
                where = ("scenes", index, "sounds", k - 1)
                cut = at + length > tl.duration + 0.005  # the film ends first
                message = (
                    f"warning: the sound runs {over:.2f} s past the end of scene {scene.id!r} "
                    f"({ends[scene.id] - starts[scene.id]:.2f} s long): "
                    + ("the film ends first, and cuts it" if cut else "it plays under what follows")
                )
                out.warnings.append(str(project.problem(where, message)))
    music = project.board.edit.music
    if music is not None and music.prompt is not None:
        take = lock.get("music")
        if take is None:
            out.missing.append("music")
        else:
            out.music, out.music_key = root / take.file, take.media_key
    return out


def line_lengths(project: Project, lock: Mapping[str, ChosenTake]) -> dict[str, float]:
    """Each spoken line's take length (seconds), by node: what places the next line."""
    out: dict[str, float] = {}
    for name, take in lock.items():
        if name.startswith("line:"):
            length = take.duration
            # read once per content (a review page of 120 lines probed them all at every look)
            cache = project.build / "media"
            out[name] = (
                float(length)
                if length
                else duration_cached(project.root / take.file, take.media_key, cache)
            )
    return out


def cut_takes(project: Project, lock: Mapping[str, ChosenTake]) -> dict[str, ChosenTake]:
    """The takes the cut plays: a lip-synced scene plays its ``lipsync:SCENE`` take."""
    view = dict(lock)
    for scene in project.board.scenes:
        synced = lock.get(f"lipsync:{scene.id}")
        if synced is not None and scene.lipsync is not None:
            view[scene.id] = synced
    return view
