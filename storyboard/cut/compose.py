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
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storyboard.board.spec import Project
from storyboard.cut.contact import contact_sheet
from storyboard.errors import ComposeError
from storyboard.files import atomic_write
from storyboard.generate.state import BuildState
from storyboard.media.ffmpeg import run_ffmpeg, video_codec_args
from storyboard.media.probe import ClipInfo, probe_cached

from .audio import mux, native_track, prepare
from .timeline import Timeline, build_timeline, srt

if TYPE_CHECKING:
    import numpy as np

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
    items: dict[str, str] = {}
    for scene in project.board.scenes:
        take = lock.get(scene.id)
        if take is None:
            continue
        if not (project.root / take.file).is_file():
            raise ComposeError(
                f"scene {scene.id!r}: take {take.n} file {take.file} is missing; "
                f"run `storyboard render {project.root}` to fetch it again"
            )
        items[take.file] = take.media_key
    probed = (
        probe_cached([(project.root / f, k) for f, k in items.items()], project.build / "media")
        if items
        else {}
    )
    infos: dict[str, ClipInfo] = {f: probed[project.root / f] for f in items}
    tl = build_timeline(project, lock, {k: v.duration for k, v in infos.items()})
    dest = output_path(project)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ComposeError(f"cannot write {dest}: {e.strerror or e}") from None
    edit = project.board.edit
    fmt = project.board.output.format
    path, why = choose_path(tl, infos, project)
    log(f"compose: {path} path ({why}); {len(tl.segments)} scenes, {tl.duration:.2f} s")
    # on the light paths the contact sheet is drawn while the film is joined; the full path
    # already keeps both cores busy (and memory is the constraint there), so it waits
    sheet_pool = ThreadPoolExecutor(1)
    sheet_args = (tl, project.root, project.board.title, project.build / "contact-sheet.png")
    sheet = sheet_pool.submit(contact_sheet, *sheet_args) if path != "full" else None
    try:
        with tempfile.TemporaryDirectory(prefix=".compose-", dir=dest.parent) as d:
            tmp = Path(d)
            part = tmp / f"film.{fmt.lower()}"
            if path == "copy":
                concat_copy(tl, project.root, part)
            else:
                # the sound is prepared while the picture renders; they meet in the final mux.
                # At most two heavy jobs (picture chunks, sound) run at once: two cores, and
                # memory stays bounded
                heavy = threading.Semaphore(2)

                def sound() -> tuple[Path, list[str]]:
                    with heavy:
                        native = native_track(tl, project.root, infos, tmp / "native.wav")
                        return prepare(native, edit, tl, project.root, log)

                with ThreadPoolExecutor(1) as pool:
                    audio_job = pool.submit(sound)
                    if path == "audio-only":
                        video = tmp / f"video.{fmt.lower()}"
                        concat_copy(tl, project.root, video, audio=False)
                    else:
                        video = tmp / ("video.webm" if fmt == "WEBM" else "video.mp4")
                        render_video(tl, project, video, heavy)
                    mixed, af = audio_job.result()
                mux(video, mixed, af, part, tl, fmt)
            shutil.move(str(part), str(dest))  # same folder: an atomic rename
    except OSError as e:
        raise ComposeError(f"cannot write {dest}: {e.strerror or e}") from None
    finally:
        sheet_pool.shutdown(wait=True)
    if sheet is None:
        contact_sheet(*sheet_args)
    else:
        sheet.result()
    if tl.captions and edit.captions != "off":
        atomic_write(dest.with_suffix(".srt"), srt(tl.captions).encode())
    return dest


def choose_path(tl: Timeline, infos: dict[str, ClipInfo], project: Project) -> tuple[str, str]:
    """The cheapest path that gives the right film, and why."""
    fmt = project.board.output.format
    edit = project.board.edit
    reasons = []
    if any(s.transition != "cut" for s in tl.segments):
        reasons.append("transitions")
    if any(
        s.src_start > 1e-6 or abs(s.duration - infos[s.file].duration) > 1.5 / tl.fps
        for s in tl.segments
    ):
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
            audio_changes
        )
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
    run_ffmpeg(
        ["-f", "concat", "-safe", "0", "-i", str(listing), *maps, "-c", "copy", *extra, str(dest)],
        what="stream-copy join",
    )
    listing.unlink(missing_ok=True)
    return dest


class _Frames:
    """Frame source for one segment: a lazily opened moviepy clip, conformed to the film size."""

    def __init__(self, path: Path, width: int, height: int):
        self.path, self.width, self.height = path, width, height
        self.clip: Any = None  # a moviepy VideoFileClip once opened

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
    import numpy as np
    from PIL import Image

    h, w = frame.shape[:2]
    scale = min(width / w, height / h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    small = np.asarray(Image.fromarray(frame).resize((nw, nh), Image.Resampling.BILINEAR))
    out = np.zeros((height, width, 3), dtype=np.uint8)
    y, x = (height - nh) // 2, (width - nw) // 2
    out[y : y + nh, x : x + nw] = small
    return out


COLOR_TAGS = [
    "-colorspace",
    "bt709",
    "-color_primaries",
    "bt709",
    "-color_trc",
    "bt709",
    "-color_range",
    "tv",
]


def _video_codec_args(fmt: str, quality: int) -> list[str]:
    """Identical settings for every chunk, so the chunks join by stream copy.

    One encoder thread each: two chunks are encoded at once (x264's memory grows with threads).
    """
    return [*video_codec_args(fmt, quality, threads=1), *COLOR_TAGS]


def plan_chunks(tl: Timeline, burn: bool) -> list[tuple[str, int, int, int]]:
    """Split the film's frames into runs: ``("copy", f0, f1, segment)`` where a single segment
    plays untouched (ffmpeg re-encodes it directly) and ``("composite", f0, f1, -1)`` where
    frames need work (transitions, fades, burnt-in captions: moviepy renders them)."""
    fps = tl.fps
    total = tl.frames()
    segs = tl.segments
    chunks: list[tuple[str, int, int, int]] = []
    j = 0
    for f in range(total):
        t = f / fps
        while j + 1 < len(segs) and t >= segs[j].end - 1e-9:
            j += 1
        in_next = j + 1 < len(segs) and t >= segs[j + 1].start - 1e-9
        special = (
            in_next
            or (tl.fade_in and t < tl.fade_in)
            or (tl.fade_out and t >= total / fps - tl.fade_out)
            or (burn and any(c.start <= t < c.end for c in tl.captions))
        )
        key = ("composite", -1) if special else ("copy", j)
        if chunks and (chunks[-1][0], chunks[-1][3]) == key and chunks[-1][2] == f:
            kind, f0, _, seg = chunks[-1]
            chunks[-1] = (kind, f0, f + 1, seg)
        else:
            chunks.append((key[0], f, f + 1, key[1]))
    return chunks


def render_video(
    tl: Timeline, project: Project, dest: Path, heavy: threading.Semaphore | None = None
) -> Path:
    """The picture: untouched stretches straight through ffmpeg, the rest through moviepy.

    Every chunk is a whole number of frames encoded with the same settings; the chunks are then
    joined by stream copy.
    """
    from .captions import CaptionLayer

    fmt = project.board.output.format
    codec = _video_codec_args(fmt, project.board.output.quality)
    burn = project.board.edit.captions == "burn" and bool(tl.captions)
    captions = CaptionLayer(tl) if burn else None
    ext = "webm" if fmt == "WEBM" else "mp4"

    slots = heavy or threading.Semaphore(2)

    def chunk(k: int, kind: str, f0: int, f1: int, seg_i: int) -> Path:
        with slots:
            return _chunk(k, kind, f0, f1, seg_i)

    def _chunk(k: int, kind: str, f0: int, f1: int, seg_i: int) -> Path:
        part = dest.with_name(f"chunk{k:04d}.{ext}")
        if kind == "copy":
            seg = tl.segments[seg_i]
            src = seg.src_start + f0 / tl.fps - seg.start
            conform = (
                f"fps={tl.fps},scale={tl.width}:{tl.height}:force_original_aspect_"
                f"ratio=decrease,pad={tl.width}:{tl.height}:(ow-iw)/2:(oh-ih)/2,"
                f"setsar=1,format=yuv420p"
            )
            # seek half a frame early: the first frame kept is the one nearest to src
            run_ffmpeg(
                [
                    "-threads",
                    "1",
                    "-ss",
                    f"{max(0.0, src - 0.5 / tl.fps):.6f}",
                    "-i",
                    str(project.root / seg.file),
                    "-map",
                    "0:v:0",
                    "-vf",
                    conform,
                    "-frames:v",
                    str(f1 - f0),
                    "-an",
                    *codec,
                    str(part),
                ],
                what=f"scene {seg.scene}",
            )
        else:
            with one_composite:  # one moviepy pipeline at a time (two readers and a writer)
                frames = _FrameFunction(tl, project, captions)
                try:
                    frames.write(f0, f1, part, codec)
                finally:
                    frames.close()
        return part

    one_composite = threading.Lock()

    # two chunks at a time: start-up and decoding of one overlap the other's encoding
    with ThreadPoolExecutor(2) as pool:
        jobs = [pool.submit(chunk, k, *c) for k, c in enumerate(plan_chunks(tl, burn))]
        parts = [j.result() for j in jobs]
    listing = dest.with_name("chunks.txt")
    listing.write_text("".join(f"file '{p.name}'\n" for p in parts))
    run_ffmpeg(
        ["-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(dest)],
        what="joining the picture",
    )
    for p in parts:
        p.unlink(missing_ok=True)
    return dest


class _FrameFunction:
    """moviepy frames for composited stretches: one function that blends only when needed."""

    def __init__(self, tl: Timeline, project: Project, captions: object):
        self.tl = tl
        self.segs = tl.segments
        self.sources = [_Frames(project.root / s.file, tl.width, tl.height) for s in self.segs]
        self.captions = captions
        self.total = tl.frames() / tl.fps
        self.first_open = 0

    def frame(self, t: float) -> np.ndarray:
        segs, tl = self.segs, self.tl
        active = [
            i
            for i in range(self.first_open, len(segs))
            if segs[i].start - 1e-9 <= t < segs[i].end - 1e-9
        ] or [len(segs) - 1]
        for i in range(self.first_open, active[0]):  # past segments: release their readers
            self.sources[i].close()
        self.first_open = active[0]
        seg = segs[active[-1]]
        frame = self.sources[active[-1]].get(seg.src_start + t - seg.start)
        if len(active) > 1 and seg.overlap > 0:
            prev = segs[active[0]]
            pframe = self.sources[active[0]].get(prev.src_start + t - prev.start)
            a = (t - seg.start) / seg.overlap
            if seg.transition == "crossfade":
                frame = _mix(pframe, frame, a)
            else:  # fade through black
                frame = _scale(pframe, 1 - 2 * a) if a < 0.5 else _scale(frame, 2 * a - 1)
        if tl.fade_in and t < tl.fade_in:
            frame = _scale(frame, t / tl.fade_in)
        if tl.fade_out and t > self.total - tl.fade_out:
            frame = _scale(frame, max(0.0, (self.total - t) / tl.fade_out))
        if self.captions is not None:
            frame = self.captions.apply(frame, t)  # type: ignore[attr-defined]
        return frame

    def write(self, f0: int, f1: int, dest: Path, codec: list[str]) -> None:
        from moviepy import VideoClip

        fps = self.tl.fps
        clip = VideoClip(
            frame_function=lambda t: self.frame(f0 / fps + t), duration=(f1 - f0) / fps
        )
        opts = dict(zip(codec[::2], codec[1::2], strict=True))
        name = opts.pop("-c:v")
        preset = opts.pop("-preset", "medium")  # moviepy passes its own -preset
        threads = int(opts.pop("-threads", "1"))
        pix = opts.pop("-pix_fmt", "yuv420p")  # moviepy passes its own -pix_fmt too
        params = [x for kv in opts.items() for x in kv]
        try:
            clip.write_videofile(
                str(dest),
                fps=fps,
                codec=name,
                audio=False,
                logger=None,
                preset=preset,
                threads=threads,
                ffmpeg_params=params,
                pixel_format=pix,
            )
        except (OSError, ValueError) as e:
            raise ComposeError(f"rendering the film failed: {e}") from None
        finally:
            clip.close()

    def close(self) -> None:
        for s in self.sources:
            s.close()


def _mix(a: np.ndarray, b: np.ndarray, alpha: float) -> np.ndarray:
    import numpy as np

    w = int(round(min(1.0, max(0.0, alpha)) * 256))
    out = a.astype(np.uint16) * (256 - w)
    out += b.astype(np.uint16) * w
    return (out >> 8).astype(np.uint8)


def _scale(a: np.ndarray, k: float) -> np.ndarray:
    import numpy as np

    w = int(round(min(1.0, max(0.0, k)) * 256))
    return ((a.astype(np.uint16) * w) >> 8).astype(np.uint8)
