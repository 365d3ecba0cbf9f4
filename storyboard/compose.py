"""The final cut: plays the chosen takes (storyboard.lock) in order and writes the film.

Paths, chosen per cut and logged with the reason:

* copy:       plain cuts of compatible clips, audio untouched -> ffmpeg concat, streams copied
* audio-only: plain cuts of compatible clips, but music/loudness -> video copied, audio re-made
* full:       transitions, trims, fades, conforming or burnt-in captions -> moviepy renders the
              frames (blending only during transitions), ffmpeg masters the audio

Every output is written to a temporary name and renamed when complete; every clip is closed.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .audio import master, native_track
from .errors import ComposeError, StoryboardError
from .frames import ClipInfo, probe_many, run_ffmpeg
from .spec import Project
from .state import BuildState, atomic_write
from .timeline import Timeline, build_timeline, srt

Log = Callable[[str], None]
VIDEO_CODECS = {"MP4": "h264", "MOV": "h264", "WEBM": "vp9"}
AUDIO_CODECS = {"MP4": "aac", "MOV": "aac", "WEBM": "opus"}


def output_path(project: Project) -> Path:
    out = project.board.output
    if out.file:
        return project.root / out.file
    slug = re.sub(r"[^a-z0-9]+", "-", project.board.title.lower()).strip("-") or "film"
    return project.build / f"{slug}.{out.format.lower()}"


def compose_project(project: Project, state: BuildState, log: Log = print) -> Path:
    """Build the film from the lock alone; returns its path."""
    lock = state.lock
    files: list[str] = []
    for scene in project.board.scenes:
        take = lock.get(scene.id)
        if take is None:
            continue
        if not (project.root / take.file).is_file():
            raise ComposeError(f"scene {scene.id!r}: take {take.n} file {take.file} is missing; "
                               f"run `storyboard render {project.root}` to fetch it again")
        files.append(take.file)
    probed = probe_many([project.root / f for f in files]) if files else {}
    infos: dict[str, ClipInfo] = {f: probed[project.root / f] for f in files}
    tl = build_timeline(project, lock, {k: v.duration for k, v in infos.items()})
    dest = output_path(project)
    dest.parent.mkdir(parents=True, exist_ok=True)
    edit = project.board.edit
    fmt = project.board.output.format
    path, why = choose_path(tl, infos, project)
    log(f"compose: {path} path ({why}); {len(tl.segments)} scenes, {tl.duration:.2f} s")
    try:
        with tempfile.TemporaryDirectory(prefix=".compose-", dir=dest.parent) as d:
            tmp = Path(d)
            part = tmp / f"film.{fmt.lower()}"
            if path == "copy":
                concat_copy(tl, project.root, part)
            else:
                if path == "audio-only":
                    video = tmp / f"video.{fmt.lower()}"
                    concat_copy(tl, project.root, video, audio=False)
                else:
                    video = tmp / ("video.webm" if fmt == "WEBM" else "video.mp4")
                    render_video(tl, project, video)
                native = native_track(tl, project.root, infos, tmp / "native.wav")
                master(native, video, part, edit, tl, project.root, fmt, log)
            shutil.move(str(part), str(dest))  # same folder: an atomic rename
    except OSError as e:
        raise ComposeError(f"cannot write {dest}: {e.strerror or e}") from None
    if tl.captions and edit.captions != "off":
        atomic_write(dest.with_suffix(".srt"), srt(tl.captions).encode())
    contact_sheet(tl, project, project.build / "contact-sheet.png")
    return dest


def choose_path(tl: Timeline, infos: dict[str, ClipInfo], project: Project) -> tuple[str, str]:
    """The cheapest path that gives the right film, and why."""
    fmt = project.board.output.format
    edit = project.board.edit
    reasons = []
    if any(s.transition != "cut" for s in tl.segments):
        reasons.append("transitions")
    if any(s.src_start > 1e-6 or abs(s.duration - infos[s.file].duration) > 1.5 / tl.fps
           for s in tl.segments):
        reasons.append("trims")
    if tl.fade_in or tl.fade_out:
        reasons.append("fades")
    if edit.captions == "burn" and tl.captions:
        reasons.append("burnt-in captions")
    sizes = {(infos[s.file].width, infos[s.file].height) for s in tl.segments}
    if sizes != {(tl.width, tl.height)}:
        reasons.append("clips need conforming to the film's size")
    if {round(infos[s.file].fps, 2) for s in tl.segments} != {float(tl.fps)}:
        reasons.append("clips need re-timing to the film's frame rate")
    if {infos[s.file].video_codec for s in tl.segments} != {VIDEO_CODECS[fmt]}:
        reasons.append(f"clips are not {VIDEO_CODECS[fmt]}")
    if reasons:
        return "full", "re-encoding for " + ", ".join(reasons)
    audio_changes = []
    if edit.music is not None:
        audio_changes.append("music")
    if edit.loudness != "off":
        audio_changes.append("loudness")
    if not all(infos[s.file].has_audio for s in tl.segments):
        audio_changes.append("silent clips")
    if {infos[s.file].audio_codec for s in tl.segments} != {AUDIO_CODECS[fmt]}:
        audio_changes.append("audio codec")
    drift = sum(infos[s.file].drift for s in tl.segments)
    if abs(drift) > 0.5 / tl.fps:
        audio_changes.append(f"sync (copied audio would drift {drift * 1000:+.0f} ms)")
    if audio_changes:
        return "audio-only", "plain cuts: video copied, audio re-made for " + ", ".join(
            audio_changes)
    return "copy", "plain cuts of compatible clips: streams copied, nothing re-encoded"


def concat_copy(tl: Timeline, root: Path, dest: Path, audio: bool = True) -> Path:
    """ffmpeg concat demuxer, streams copied."""
    listing = dest.with_suffix(".txt")
    lines = []
    for s in tl.segments:
        p = str((root / s.file).resolve()).replace("'", "'\\''")
        # inpoint 0 drops each clip's encoder-priming audio packet: joins stay sample-exact
        lines += [f"file '{p}'", "inpoint 0"]
    listing.write_text("\n".join(lines) + "\n")
    maps = ["-map", "0:v:0"] + (["-map", "0:a:0"] if audio else [])
    extra = ["-movflags", "+faststart"] if dest.suffix == ".mp4" else []
    run_ffmpeg(["-f", "concat", "-safe", "0", "-i", str(listing), *maps, "-c", "copy", *extra,
                str(dest)], what="stream-copy join")
    listing.unlink(missing_ok=True)
    return dest


class _Frames:
    """Frame source for one segment: a lazily opened moviepy clip, conformed to the film size."""

    def __init__(self, path: Path, width: int, height: int):
        self.path, self.width, self.height = path, width, height
        self.clip = None

    def get(self, t: float) -> np.ndarray:
        from moviepy import VideoFileClip

        if self.clip is None:
            self.clip = VideoFileClip(str(self.path), audio=False)
        clip = self.clip
        t = min(max(0.0, t), max(0.0, clip.duration - 1.0 / (clip.fps or 30)))
        frame = clip.get_frame(t)
        if frame.shape[1] != self.width or frame.shape[0] != self.height:
            frame = _letterbox(frame, self.width, self.height)
        return frame

    def close(self) -> None:
        if self.clip is not None:
            self.clip.close()
            self.clip = None


def _letterbox(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """Fit inside width x height keeping the aspect; black bars (letterbox or pillarbox)."""
    from PIL import Image

    h, w = frame.shape[:2]
    scale = min(width / w, height / h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    small = np.asarray(Image.fromarray(frame).resize((nw, nh), Image.Resampling.BILINEAR))
    out = np.zeros((height, width, 3), dtype=np.uint8)
    y, x = (height - nh) // 2, (width - nw) // 2
    out[y:y + nh, x:x + nw] = small
    return out


def render_video(tl: Timeline, project: Project, dest: Path) -> Path:
    """moviepy renders the frames: one frame function that blends only during transitions."""
    from moviepy import VideoClip

    from .captions import CaptionLayer

    fps = tl.fps
    segs = tl.segments
    sources = [_Frames(project.root / s.file, tl.width, tl.height) for s in segs]
    captions = CaptionLayer(tl) if project.board.edit.captions == "burn" else None
    total = tl.frames() / fps
    state = {"first_open": 0}

    def frame_at(t: float) -> np.ndarray:
        # the segments showing at t (two during a transition)
        active = [i for i in range(state["first_open"], len(segs))
                  if segs[i].start - 1e-9 <= t < segs[i].end - 1e-9]
        if not active:
            active = [len(segs) - 1]
        for i in range(state["first_open"], active[0]):  # past segments: release their readers
            sources[i].close()
        state["first_open"] = active[0]
        cur = active[-1]
        seg = segs[cur]
        frame = sources[cur].get(seg.src_start + t - seg.start)
        if len(active) > 1 and seg.overlap > 0:
            prev = segs[active[0]]
            pframe = sources[active[0]].get(prev.src_start + t - prev.start)
            a = (t - seg.start) / seg.overlap
            if seg.transition == "crossfade":
                frame = _mix(pframe, frame, a)
            else:  # fade through black
                frame = _scale(pframe, 1 - 2 * a) if a < 0.5 else _scale(frame, 2 * a - 1)
        if tl.fade_in and t < tl.fade_in:
            frame = _scale(frame, t / tl.fade_in)
        if tl.fade_out and t > total - tl.fade_out:
            frame = _scale(frame, max(0.0, (total - t) / tl.fade_out))
        if captions is not None:
            frame = captions.apply(frame, t)
        return frame

    clip = VideoClip(frame_function=frame_at, duration=total)
    fmt = project.board.output.format
    quality = project.board.output.quality
    crf = round(51 - quality * 0.36)
    try:
        if fmt == "WEBM":
            clip.write_videofile(str(dest), fps=fps, codec="libvpx-vp9", audio=False,
                                 threads=2, logger=None,
                                 ffmpeg_params=["-deadline", "realtime", "-cpu-used", "8",
                                                "-row-mt", "1", "-crf", str(min(63, crf + 10)),
                                                "-b:v", "0", "-pix_fmt", "yuv420p"])
        else:
            clip.write_videofile(str(dest), fps=fps, codec="libx264", audio=False,
                                 preset="veryfast", threads=2, logger=None,
                                 ffmpeg_params=["-crf", str(crf), "-pix_fmt", "yuv420p"])
    except (OSError, ValueError) as e:
        raise ComposeError(f"rendering the film failed: {e}") from None
    finally:
        clip.close()
        for s in sources:
            s.close()
    return dest


def _mix(a: np.ndarray, b: np.ndarray, alpha: float) -> np.ndarray:
    alpha = min(1.0, max(0.0, alpha))
    return (a.astype(np.float32) * (1 - alpha) + b.astype(np.float32) * alpha).astype(np.uint8)


def _scale(a: np.ndarray, k: float) -> np.ndarray:
    k = min(1.0, max(0.0, k))
    return (a.astype(np.float32) * k).astype(np.uint8)


def contact_sheet(tl: Timeline, project: Project, dest: Path) -> Path:
    """Per scene its first and last frame with id, duration and take."""
    import io

    from PIL import Image, ImageDraw, ImageFont

    from .frames import frame_at

    thumb_w = 320
    thumb_h = round(thumb_w * tl.height / tl.width)
    pad, label_w = 12, 230
    rows = len(tl.segments)
    sheet = Image.new("RGB", (label_w + 2 * thumb_w + 4 * pad, rows * (thumb_h + pad) + pad + 36),
                      (24, 24, 28))
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=16)
    small = ImageFont.load_default(size=13)
    draw.text((pad, 10), f"{project.board.title}: {tl.duration:.1f} s", font=font,
              fill=(255, 220, 120))
    for r, seg in enumerate(tl.segments):
        y = 36 + pad + r * (thumb_h + pad)
        path = project.root / seg.file
        try:
            first = frame_at(path, seg.src_start)
            last = frame_at(path, seg.src_start + seg.duration - 1.0 / tl.fps)
        except StoryboardError:
            continue
        for c, data in enumerate((first, last)):
            with Image.open(io.BytesIO(data)) as im:
                im = im.convert("RGB")
                im.thumbnail((thumb_w, thumb_h))
                sheet.paste(im, (label_w + 2 * pad + c * (thumb_w + pad), y))
        draw.text((pad, y + 4), seg.scene, font=font, fill=(255, 255, 255))
        draw.text((pad, y + 28), f"{seg.duration:.2f} s  take {seg.take.n}", font=small,
                  fill=(200, 200, 200))
        mode = seg.transition if r else "start"
        draw.text((pad, y + 48), f"in: {mode}", font=small, fill=(160, 160, 160))
    buf = io.BytesIO()
    sheet.save(buf, format="PNG")
    dest.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(dest, buf.getvalue())
    return dest
