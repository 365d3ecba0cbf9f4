"""The cut as an editing timeline (OpenTimelineIO): OTIO, Final Cut Pro XML or a CMX 3600 EDL.

Built from the same :class:`~storyboard.cut.timeline.Timeline` the compositor plays, so the
editor opens exactly the film ``compose`` makes: one clip per scene pointing at its take file
with the scene's in/out points, each transition as an OTIO transition, each dialogue line as a
marker on its clip.

OTIO centres a transition on the cut and takes its frames from the clips' handles, whereas our
timeline overlaps the two clips by the whole transition. A transition of ``n`` frames therefore
ends the outgoing clip ``n // 2`` frames early and starts the incoming one ``n - n // 2``
frames late (both stay inside their files); the track's length is then the film's length.
The ``fcpx_xml`` adapter writes no transitions: :func:`fcpxml_transitions` adds them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TypeAlias
from xml.dom import minidom

import opentimelineio as otio

from storyboard.board.spec import Project
from storyboard.errors import ComposeError, StoryboardError
from storyboard.files import atomic_write
from storyboard.media.probe import probe_cached

from .export_audio import audio_tracks, edl_sound_notes
from .takes import ChosenTake
from .timeline import Segment, Timeline, build_timeline
from .voice_mix import cut_takes, line_lengths

FORMATS = {
    "otio": ("otio_json", ".otio"),
    "fcpxml": ("fcpx_xml", ".fcpxml"),
    "edl": ("cmx_3600", ".edl"),
}

TIMECODE_RATES = {24, 25, 30, 48, 50, 60}
FCPXML_RATES = {24, 25, 30, 50, 60}  # whole rates the fcpx_xml adapter places lanes at


@dataclass(frozen=True)
class ClipRange:
    """One scene's clip on the exported track, in frames at the film's rate."""

    scene: str
    file: Path
    start: int  # first frame used, inside the file
    frames: int  # frames played between the cut points
    cut_in: int  # frames of the transition into this clip that fall before its cut point
    cut_out: int  # frames of the transition out of it that fall after its cut point


def lock_timeline(project: Project, lock: Mapping[str, ChosenTake]) -> Timeline:
    """The film's timeline from ``storyboard.lock`` (each take probed once; cached by content)."""
    items: dict[str, str] = {}
    for scene in project.board.scenes:
        take = lock.get(scene.id)
        if take is None:
            continue
        if not (project.root / take.file).is_file():
            raise ComposeError(
                f"scene {scene.id!r}: take {take.n} file {take.file} is missing; "
                f"run `{project.render_command}` to fetch it again"
            )
        items[take.file] = take.media_key
    probed = (
        probe_cached([(project.root / f, k) for f, k in items.items()], project.build / "media")
        if items
        else {}
    )
    lengths = {f: probed[project.root / f].picture_seconds for f in items}
    return build_timeline(project, lock, lengths, line_lengths(project, lock))


def clip_ranges(tl: Timeline, root: Path) -> list[ClipRange]:
    """Where each scene's clip starts and ends between the cut points (see the module text)."""
    fps = tl.fps
    segs = tl.segments
    overlaps = [round(s.overlap * fps) for s in segs] + [0]
    out = []
    for i, seg in enumerate(segs):
        into = overlaps[i]  # the transition into this clip
        after = overlaps[i + 1]  # the transition out of it
        late = into - into // 2
        early = after // 2
        total = round(seg.duration * fps)
        out.append(
            ClipRange(
                seg.scene,
                root / seg.file,
                round(seg.src_start * fps) + late,
                total - late - early,
                late,
                early,
            )
        )
    return out


def _rt(frames: float, fps: int) -> otio.opentime.RationalTime:
    return otio.opentime.RationalTime(frames, fps)


def _clip(i: int, seg: Segment, rng: ClipRange, tl: Timeline) -> otio.schema.Clip:
    fps = tl.fps
    length = seg.take.duration
    available = None
    if length:
        available = otio.opentime.TimeRange(_rt(0, fps), _rt(round(length * fps), fps))
    ref = otio.schema.ExternalReference(
        target_url=rng.file.resolve().as_uri(), available_range=available
    )
    clip = otio.schema.Clip(
        name=seg.scene,
        media_reference=ref,
        source_range=otio.opentime.TimeRange(_rt(rng.start, fps), _rt(rng.frames, fps)),
        metadata={
            "storyboard": {"scene": seg.scene, "take": seg.take.n, "file": seg.file},
            # an EDL names sources by 8-character reels: scene number and take, unique per file
            "cmx_3600": {"reel": f"S{i + 1:02d}T{seg.take.n:03d}"},
        },
    )
    return clip


def _markers(clip: otio.schema.Clip, seg: Segment, rng: ClipRange, tl: Timeline) -> None:
    """Each line that starts while this clip is the one shown (between its cut points) as a
    marker on it: one marker a line, at the captions' time, also when the line starts inside
    a transition (hostile helper-57: it was on both clips, one clamped to a wrong time)."""
    fps = tl.fps
    shown = round(seg.start * fps) + rng.cut_in  # the film frame at this clip's cut point
    for cap in tl.captions:
        at = round(cap.start * fps)
        if not (shown <= at < shown + rng.frames):
            continue
        # a marker lives in the clip's media time: the file frame the line starts on
        frame = rng.start + at - shown
        length = max(1, round((cap.end - cap.start) * fps))
        clip.markers.append(
            otio.schema.Marker(
                name=cap.text,
                marked_range=otio.opentime.TimeRange(_rt(frame, fps), _rt(length, fps)),
                color=otio.schema.MarkerColor.YELLOW,
                metadata={"storyboard": {"dialogue": cap.text}},
            )
        )


def _transition(kind: str, before: int, after: int, fps: int) -> otio.schema.Transition:
    """A transition with ``before`` frames before the cut point (OTIO's in offset, played from
    the incoming clip's head) and ``after`` frames after it (from the outgoing clip's tail)."""
    return otio.schema.Transition(
        name="fade through black" if kind == "fade" else "crossfade",
        # editors know dissolves; a fade through black is kept as such in the metadata
        transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
        in_offset=_rt(before, fps),
        out_offset=_rt(after, fps),
        metadata={"storyboard": {"transition": kind}},
    )


def to_otio(
    project: Project, tl: Timeline, lock: Mapping[str, ChosenTake] | None = None
) -> otio.schema.Timeline:
    """The cut as an OTIO timeline: one video track of clips, transitions and markers; with
    the ``lock``, the audio tracks too (dialogue, music, effects: ``export_audio``)."""
    fps = tl.fps
    timeline = otio.schema.Timeline(name=project.board.title)
    timeline.global_start_time = _rt(0, fps)
    # the film's frame and how takes of another shape fill it (a variant's 720x1280 crop):
    # OTIO has no field for either (hostile helper-45: an editor built a 16:9 sequence)
    timeline.metadata["storyboard"] = {
        "width": tl.width,
        "height": tl.height,
        "fps": fps,
        "reframe": tl.reframe,
        "focus": list(tl.focus),
    }
    track = otio.schema.Track(name="storyboard", kind=otio.schema.TrackKind.Video)
    ranges = clip_ranges(tl, project.root)
    sizes = take_sizes(project, tl) if tl.reframe == "crop" else {}
    for i, (seg, rng) in enumerate(zip(tl.segments, ranges, strict=True)):
        if i > 0 and seg.transition != "cut" and seg.overlap > 0:
            # the frames before the cut are the incoming clip's head (its cut_in), those after
            # it the outgoing clip's tail: the dissolve then covers exactly the film's overlap
            # (hostile: swapped, an odd one ran a frame late in OTIO and the EDL)
            track.append(_transition(seg.transition, rng.cut_in, ranges[i - 1].cut_out, fps))
        clip = _clip(i, seg, rng, tl)
        if seg.file in sizes:
            clip.metadata["storyboard"]["framing"] = framing(sizes[seg.file], tl)
        _markers(clip, seg, rng, tl)
        track.append(clip)
    timeline.tracks.append(track)
    if lock is not None:  # issue 18: the hand-off carries the sound
        timeline.tracks.extend(audio_tracks(project, tl, lock))
    return timeline


def take_sizes(project: Project, tl: Timeline) -> dict[str, tuple[int, int]]:
    """Each take file's frame size (probed once; cached by content)."""
    files = {s.file: s.take.media_key for s in tl.segments}
    probed = probe_cached(
        [(project.root / f, k) for f, k in files.items()], project.build / "media"
    )
    return {f: (probed[project.root / f].width, probed[project.root / f].height) for f in files}


def framing(take: tuple[int, int], tl: Timeline) -> dict[str, object]:
    """How a take fills the film's frame in a crop (the geometry of
    :func:`~storyboard.cut.chunkjob.reframe_filter`): scaled to cover the frame, then moved so
    the frame shows the part the focus point keeps. ``position`` is that move from the centred
    take as Final Cut's ``adjust-transform`` gives it: x right and y up, in percent of the
    frame's height (Apple's FCPXML reference, Adjustments: "percentages based on the original
    frame height")."""
    w, h = take
    scale = max(tl.width / w, tl.height / h)
    over_x, over_y = w * scale - tl.width, h * scale - tl.height
    fx, fy = tl.focus
    x = over_x * (0.5 - fx) / tl.height * 100
    y = over_y * (fy - 0.5) / tl.height * 100
    return {
        "conform": "fill",
        "position": [round(x, 4) + 0.0, round(y, 4) + 0.0],  # + 0.0: never -0.0
        "take_size": [w, h],
        "focus": list(tl.focus),
    }


def export_cut(
    project: Project, lock: Mapping[str, ChosenTake], fmt: str, dest: Path | None = None
) -> Path:
    """Write the cut for an editor as ``fmt`` (otio, fcpxml, edl); returns the file written.

    The default file is ``build/<film name>.<ext>`` beside the film.
    """
    if fmt not in FORMATS:
        raise StoryboardError(
            f"unknown export format {fmt!r}; expected one of: {', '.join(FORMATS)}"
        )
    adapter, ext = FORMATS[fmt]
    if dest is not None:
        from storyboard.board.assets import not_a_file, overwritten

        what = overwritten(project, Path(dest).resolve())
        if what is not None:
            raise StoryboardError(
                f"--output: {str(dest)!r} would overwrite {what}; name a new file such as cut{ext}"
            )
        folder = Path(dest).parent
        if not folder.is_dir():  # never make folders (hostile F14: `-o /nonexistent/x` made one)
            raise StoryboardError(
                f"--output: {str(dest)!r}: there is no folder {str(folder)!r}; make it first, "
                f"or name a file in an existing folder such as cut{ext}"
            )
        kind = not_a_file(Path(dest))
        if kind is not None:
            raise StoryboardError(
                f"--output: {str(dest)!r} is {kind}; name a new file or an existing regular "
                f"file such as cut{ext}"
            )
        if Path(dest).exists() and Path(dest).suffix.lower() != ext:
            # hostile fix-44 P7: `-o assets/tide-pad.mp3` replaced a file the storyboard does
            # not use with OTIO JSON; an existing file is replaced only as an earlier export
            raise StoryboardError(
                f"--output: {str(dest)!r} exists and is not an {ext} file; {fmt} export "
                f"replaces only an earlier {ext} export: name a new file such as cut{ext}"
            )
    lock = cut_takes(project, lock)  # issue 18: lip-synced scenes play their sync
    tl = lock_timeline(project, lock)
    if fmt == "edl" and tl.fps not in TIMECODE_RATES:
        raise StoryboardError(
            "an EDL needs a timecode frame rate (24, 25, 30, 48, 50 or 60 fps); "
            f"this film is {tl.fps} fps (output.fps): export otio or fcpxml instead"
        )
    timeline = to_otio(project, tl, lock)
    notes = ""
    if fmt == "edl":  # the CMX 3600 adapter writes one track: the sound is named in comments
        # an EDL is lines: a title's line breaks (any a reader splits on) made lines of their
        # own, which a reader refused or read as events (hostile helper-62)
        timeline.name = " ".join(timeline.name.split())
        notes = edl_sound_notes(timeline)
        for t in list(timeline.tracks):
            if t.kind == otio.schema.TrackKind.Audio:
                timeline.tracks.remove(t)
    has_audio = any(t.kind == otio.schema.TrackKind.Audio for t in timeline.tracks)
    if fmt == "fcpxml" and has_audio and tl.fps not in FCPXML_RATES:
        raise StoryboardError(
            "an FCPXML with sound tracks needs a Final Cut frame rate (24, 25, 30, 50 or 60 "
            f"fps); this film is {tl.fps} fps (output.fps): export otio instead"
        )
    if dest is None:
        from storyboard.board.assets import film_path

        dest = film_path(project).with_suffix(ext)
    try:
        text = otio.adapters.write_to_string(timeline, adapter_name=adapter)
    except Exception as e:  # the adapters raise plain exceptions of their own
        raise StoryboardError(f"{fmt} export failed: {e}") from None
    if fmt == "edl":
        text = edl_markers_once(text)
    if fmt == "fcpxml":  # the adapter writes no transitions (hostile: it dropped them all)
        text = fcpxml_transitions(text, timeline.tracks[0], tl.fps)
        text = fcpxml_size(fcpxml_framing(text, timeline.tracks[0]), tl)
    atomic_write(dest, (text + notes).encode("utf-8"))
    return dest


_EDL_EVENT = re.compile(r"^\d{3,}\s")
_EDL_DISSOLVE = re.compile(r"^\d{3,}\s+\S+\s+\S+\s+D\b")


def edl_markers_once(text: str) -> str:
    """Each clip's markers once: a dissolve's event repeats its outgoing clip's comments
    before the incoming clip's, and the adapter wrote that clip's ``* LOC:`` lines there
    again, which a reader (OTIO's own) puts on the incoming clip."""
    out, outgoing = [], False
    for line in text.splitlines(keepends=True):
        if _EDL_EVENT.match(line):
            outgoing = bool(_EDL_DISSOLVE.match(line))
        elif line.startswith("* TO CLIP"):
            outgoing = False
        elif outgoing and line.startswith("* LOC:"):
            continue
        out.append(line)
    return "".join(out)


# Final Cut's Cross Dissolve, as Final Cut Pro itself names it in an FCPXML 1.13 export
# (limulus/tcx2webvtt, fixtures/fcp/transitions-1-13.fcpxmld/Info.fcpxml)
CROSS_DISSOLVE_UID = "FxPlug:4731E73A-8DAC-4113-9A30-AE85B1761265"
FCPXML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n'  # as the adapter


def _fcp_time(frames: int, fps: int) -> str:
    """A frame count as an FCPXML time: exact seconds (``0s``, ``3s``, ``61/30s``)."""
    t = Fraction(frames, fps)
    return f"{t.numerator}s" if t.denominator == 1 else f"{t.numerator}/{t.denominator}s"


def fcpxml_size(text: str, tl: Timeline) -> str:
    """The sequence's format given the film's frame size (the adapter writes only its frame
    duration, so Final Cut guessed one: hostile helper-45)."""

    used = re.search(r'<sequence\b[^>]*\bformat="([^"]+)"', text)
    if used is None:
        return text
    # a format of its own: the adapter's is the takes' too (hostile helper-46: sized there, an
    # editor would read 16:9 takes as 9:16)
    old = re.search(rf'([ \t]*)<format id="{re.escape(used.group(1))}"([^>]*?)/?>\n?', text)
    if old is None:
        return text
    taken = [int(n) for n in re.findall(r'\bid="r(\d+)"', text)]
    ref = f"r{max(taken, default=0) + 1}"
    duration = re.search(r'frameDuration="[^"]*"', old.group(2))
    attrs = f" {duration.group(0)}" if duration else ""
    own = f'{old.group(1)}<format id="{ref}"{attrs} width="{tl.width}" height="{tl.height}"/>\n'
    text = text[: old.end()] + own + text[old.end() :]
    start = text.index("<sequence")
    end = text.index(">", start)
    tag = text[start:end].replace(f'format="{used.group(1)}"', f'format="{ref}"', 1)
    return text[:start] + tag + text[end:]


def _spine_stories(doc: minidom.Document, clips: int) -> list[minidom.Element]:
    """The sequence spine's story elements, one per clip of the video track: never a guess
    at which element is which clip."""
    spines = [
        s
        for s in doc.getElementsByTagName("spine")
        if isinstance(s.parentNode, minidom.Element) and s.parentNode.tagName == "sequence"
    ]
    stories = [n for n in spines[0].childNodes if isinstance(n, minidom.Element)] if spines else []
    stories = [n for n in stories if n.tagName != "transition"]
    if len(stories) != clips:
        raise StoryboardError(
            f"fcpxml export failed: the adapter wrote {len(stories)} story elements for "
            f"{clips} clips; export otio instead"
        )
    return stories


def _fcp_number(v: float) -> str:
    return f"{v:.4f}".rstrip("0").rstrip(".")


_Child: TypeAlias = (
    "minidom.Element | minidom.ProcessingInstruction | minidom.Comment | minidom.Text"
    " | minidom.CDATASection"
)


def _framed(story: minidom.Element, name: str) -> tuple[minidom.Element, _Child | None]:
    """The element a clip's video adjustments go in, and the child they go before: the
    adapter's ``<clip><video/></clip>``, or an ``<asset-clip>`` after its note and timing."""
    kids = [n for n in story.childNodes if isinstance(n, minidom.Element)]
    if story.tagName == "asset-clip":
        rest = [k for k in kids if k.tagName not in ("note", "conform-rate", "timeMap")]
        return story, rest[0] if rest else None
    video = next((n for n in kids if n.tagName == "video"), None)
    if video is None:
        raise StoryboardError(
            f"fcpxml export failed: clip {name!r} has no video element to frame; "
            "export otio instead"
        )
    return video, video.firstChild


def fcpxml_framing(text: str, track: otio.schema.Track) -> str:
    """Each cropped take told to fill the frame as the film does (``adjust-conform``; Final
    Cut's default is to fit it, letterboxed) and moved to the film's crop
    (``adjust-transform``), from the clips' ``framing`` (:func:`framing`). The adjustments
    are the first children of the clip's ``<video>``, as the FCPXML DTD orders them."""
    clips = [i for i in track if isinstance(i, otio.schema.Clip)]
    if not any("framing" in c.metadata.get("storyboard", {}) for c in clips):
        return text
    doc = minidom.parseString(text)
    root = doc.documentElement
    assert root is not None
    for clip, story in zip(clips, _spine_stories(doc, len(clips)), strict=True):
        found = clip.metadata.get("storyboard", {}).get("framing")
        if found is None:
            continue
        video, first = _framed(story, clip.name)
        conform = doc.createElement("adjust-conform")
        conform.setAttribute("type", str(found["conform"]))
        video.insertBefore(conform, first)
        x, y = (float(v) for v in found["position"])
        if (x, y) != (0.0, 0.0):
            move = doc.createElement("adjust-transform")
            move.setAttribute("position", f"{_fcp_number(x)} {_fcp_number(y)}")
            video.insertBefore(move, first)
    return FCPXML_HEAD + root.toxml()


def fcpxml_transitions(text: str, track: otio.schema.Track, fps: int) -> str:
    """Put the video track's transitions into the FCPXML the ``fcpx_xml`` adapter wrote (it
    writes none): in the spine between their two clips, from the film's first frame of the
    dissolve (``offset``) for its length, overlapping the clips beside it as in Final Cut's
    own exports. Each is a Cross Dissolve named as in the OTIO (a fade through black is named
    so, as in the other formats)."""
    items = list(track)
    if not any(isinstance(i, otio.schema.Transition) for i in items):
        return text
    doc = minidom.parseString(text)
    root = doc.documentElement
    assert root is not None
    clips = [i for i in items if not isinstance(i, otio.schema.Transition)]
    stories = _spine_stories(doc, len(clips))
    spine = stories[0].parentNode
    assert isinstance(spine, minidom.Element)
    ids = {e.getAttribute("id") for e in doc.getElementsByTagName("*") if e.hasAttribute("id")}
    free = len(ids) + 1  # the adapter numbers its resources r1, r2, ...
    while f"r{free}" in ids:
        free += 1
    ref = f"r{free}"
    effect = doc.createElement("effect")
    for key, value in (("id", ref), ("name", "Cross Dissolve"), ("uid", CROSS_DISSOLVE_UID)):
        effect.setAttribute(key, value)
    resources = doc.getElementsByTagName("resources")[0]
    tail = resources.lastChild  # keep the closing tag on its own line
    if isinstance(tail, minidom.Text):
        resources.insertBefore(doc.createTextNode(tail.data + "    "), tail)
        resources.insertBefore(effect, tail)
    else:
        resources.appendChild(effect)
    after = 0  # the clip after the transition
    for item in items:
        if not isinstance(item, otio.schema.Transition):
            after += 1
            continue
        cut = round(track.range_of_child(clips[after]).start_time.to_frames(fps))
        before = round(item.in_offset.to_frames(fps))
        el = doc.createElement("transition")
        el.setAttribute("name", item.name)
        el.setAttribute("offset", _fcp_time(cut - before, fps))
        el.setAttribute("duration", _fcp_time(before + round(item.out_offset.to_frames(fps)), fps))
        fx = doc.createElement("filter-video")
        fx.setAttribute("ref", ref)
        fx.setAttribute("name", "Cross Dissolve")
        el.appendChild(fx)
        spine.insertBefore(el, stories[after])
        indent = el.previousSibling  # the line break and indent before each story element
        if isinstance(indent, minidom.Text):
            spine.insertBefore(doc.createTextNode(indent.data), stories[after])
    return FCPXML_HEAD + root.toxml()
