"""The hand-off's sound (issue 18): audio tracks on the exported OTIO timeline.

``dialogue`` holds one clip per spoken line at the time the film plays it (a second dialogue
track takes the lines that overlap one already placed), ``music`` the music bed (the file or
the generated track, repeated to the film's length when it loops), ``effects`` the scenes'
placed sounds. Times are whole frames at the film's rate, like the video track.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import opentimelineio as otio

from storyboard.board.spec import Project
from storyboard.media.probe import media_duration

from .takes import ChosenTake
from .timeline import Timeline
from .voice_mix import FilmSounds, Overlay, film_sounds


def _rt(frames: float, fps: int) -> otio.opentime.RationalTime:
    return otio.opentime.RationalTime(frames, fps)


def _clip(name: str, file: Path, start: int, frames: int, fps: int, meta: dict) -> otio.schema.Clip:
    length = media_duration(file)
    ref = otio.schema.ExternalReference(
        target_url=file.resolve().as_uri(),
        available_range=otio.opentime.TimeRange(_rt(0, fps), _rt(round(length * fps), fps)),
    )
    return otio.schema.Clip(
        name=name,
        media_reference=ref,
        source_range=otio.opentime.TimeRange(_rt(start, fps), _rt(frames, fps)),
        metadata={"storyboard": meta, "cmx_3600": {"reel": _reel(name)}},
    )


def _reel(name: str) -> str:
    """An EDL reel (at most 8 characters): ``line:lamp-room/2`` -> ``LLAMPR02``."""
    kind, _, rest = name.partition(":")
    scene, _, n = rest.rpartition("/")
    if not rest or not n.isdigit():
        return "".join(ch for ch in name.upper() if ch.isalnum())[:8] or "AUDIO"
    head = {"line": "L", "sfx": "X"}.get(kind, "A")
    body = "".join(ch for ch in scene.upper() if ch.isalnum())[:5]
    return f"{head}{body}{int(n):02d}"[:8]


def _lay(tracks: list[otio.schema.Track], base: str, at: int, clip: otio.schema.Clip) -> None:
    """Put ``clip`` at frame ``at`` on the first of ``tracks`` free there (a new one if none)."""
    fps = int(clip.source_range.duration.rate)
    for track in tracks:
        end = round(track.duration().value) if len(track) else 0
        if end <= at:
            if at > end:
                track.append(
                    otio.schema.Gap(
                        source_range=otio.opentime.TimeRange(_rt(0, fps), _rt(at - end, fps))
                    )
                )
            track.append(clip)
            return
    name = base if not tracks else f"{base} {len(tracks) + 1}"
    tracks.append(otio.schema.Track(name=name, kind=otio.schema.TrackKind.Audio))
    _lay(tracks[-1:], base, at, clip)


def _overlays(kind: str, items: list[Overlay], tl: Timeline) -> list[otio.schema.Track]:
    fps = tl.fps
    last = round(tl.duration * fps)
    tracks: list[otio.schema.Track] = []
    for o in sorted(items, key=lambda x: x.start):
        if o.kind != kind:
            continue
        at = round(o.start * fps)
        frames = min(round(media_duration(o.file) * fps), last - at)
        if frames <= 0:
            continue
        meta = {"node": o.name, "volume": o.volume}
        _lay(tracks, kind, at, _clip(o.name, o.file, 0, frames, fps, meta))
    return tracks


def _music(project: Project, tl: Timeline, sounds: FilmSounds) -> list[otio.schema.Track]:
    music = project.board.edit.music
    if music is None:
        return []
    path = sounds.music if music.prompt is not None else project.root / str(music.file)
    if path is None or not path.is_file():
        return []
    fps = tl.fps
    total = round(tl.duration * fps)
    length = round(media_duration(path) * fps)
    start = round(music.start * fps) % max(1, length)
    track = otio.schema.Track(name="music", kind=otio.schema.TrackKind.Audio)
    placed = 0
    while placed < total and length > 0:
        frames = min(length - start, total - placed)
        meta = {"music": music.prompt or music.file, "volume": music.volume}
        track.append(_clip("music", path, start, frames, fps, meta))
        placed += frames
        start = 0
        if not music.loop:
            break
    return [track]


def audio_tracks(
    project: Project, tl: Timeline, lock: Mapping[str, ChosenTake]
) -> list[otio.schema.Track]:
    """The dialogue, music and effects tracks of the cut (empty ones left out)."""
    sounds = film_sounds(project, tl, lock)
    return [
        *_overlays("dialogue", sounds.overlays, tl),
        *_music(project, tl, sounds),
        *_overlays("effect", sounds.overlays, tl),
    ]


def edl_sound_notes(timeline: otio.schema.Timeline) -> str:
    """The audio tracks as EDL comment lines (the CMX 3600 adapter writes the picture only):
    ``* SOUND dialogue 00:00:01:12 LLAMPR02 line:lamp-room/2 FROM CLIP: file://...``."""
    lines = []
    for track in timeline.tracks:
        if track.kind != otio.schema.TrackKind.Audio:
            continue
        for clip in track.find_clips():
            start = track.range_of_child(clip).start_time
            tc = otio.opentime.to_timecode(start, start.rate)
            url = getattr(clip.media_reference, "target_url", "")
            reel = clip.metadata.get("cmx_3600", {}).get("reel", "")
            lines.append(f"* SOUND {track.name} {tc} {reel} {clip.name} FROM CLIP: {url}")
    return ("\n".join(lines) + "\n") if lines else ""
