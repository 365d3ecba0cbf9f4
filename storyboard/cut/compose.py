"""The final cut: plays the chosen takes (storyboard.lock) in order and writes the film.

The film is an output with a key (``filmkey``): when nothing that shapes it changed, a compose
encodes nothing and says ``film up to date``. Otherwise, paths chosen per cut and logged with
the reason:

* copy:       plain cuts of compatible clips, audio untouched -> ffmpeg concat, streams copied
* audio-only: plain cuts of compatible clips, but music/loudness -> video copied, audio re-made
* full:       transitions, trims, fades, conforming or burnt-in captions -> the picture in
              chunks (``picture``), the sound in steps (``sound``), all kept in the chunk cache
              (``chunks``): a one-scene edit re-encodes only the chunks showing that scene

Every output is written to a temporary name and renamed when complete; every clip is closed.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from storyboard.board.assets import contact_sheet_path as sheet_path
from storyboard.board.assets import film_path, not_a_file
from storyboard.board.spec import Project
from storyboard.cut.contact import contact_sheet
from storyboard.errors import ComposeError
from storyboard.files import atomic_write, sweep_stale, write_error
from storyboard.media.ffmpeg import check_interrupt, concat_file, interruptible_call, run_ffmpeg
from storyboard.media.gop import StreamLayout
from storyboard.media.probe import ClipInfo, probe_cached

from .audio import mux
from .cachefolder import admit_cache_folder
from .chunks import ChunkCache, cache_limit_bytes, chunk_key
from .filmkey import FilmStatus, film_status, kept_loudness, write_stamp
from .machine import jobs_cap
from .picture import ChunkRunner, PictureStats, check_frames, join_copy, render_video
from .sound import Loudness, film_sound
from .takes import ChosenTake, LockSource
from .timeline import Timeline, build_timeline, srt
from .voice_mix import FilmSounds, cut_takes, film_sounds, line_lengths

Log = Callable[[str], None]
OnProgress = Callable[[int, int], None]  # frames of picture done, frames in the film
VIDEO_CODECS = {"MP4": "h264", "MOV": "h264", "WEBM": "vp9"}
AUDIO_CODECS = {"MP4": "aac", "MOV": "aac", "WEBM": "opus"}


@dataclass
class ComposeResult:
    """What a compose did: the film, its companions, and how much was encoded or reused."""

    path: Path
    up_to_date: bool = False
    route: str = ""
    why: str = ""
    encoded: int = 0  # chunks made (picture and sound)
    reused: int = 0  # chunks found in the cache
    seconds: float = 0.0
    captions: Path | None = None
    contact_sheet: Path | None = None
    evicted: int = 0
    frames: int = 0  # frames in the film
    frames_encoded: int = 0  # frames of picture encoded by this compose (not cached, not copied)
    extras: list[Path] = field(default_factory=list)
    used: set[Path] = field(default_factory=set)  # the chunks this film is made of
    warnings: list[str] = field(default_factory=list)  # every warning it logged, in order


def output_path(project: Project) -> Path:
    """Where the film is written (``output.file`` or ``build/<title slug>.<ext>``)."""
    return film_path(project)


def check_destinations(dest: Path, *also: Path) -> None:
    """The film, its captions (and ``also``: its contact sheet) replace only regular files (or
    nothing): never a device, FIFO, socket or folder that appeared there after the storyboard
    was read."""
    for p in (dest, dest.with_suffix(".srt"), *also):
        kind = not_a_file(p)
        if kind is not None:
            raise ComposeError(f"cannot write {p}: it is {kind}; move it away or set output.file")


def contact_sheet_path(project: Project) -> Path:
    """``build/contact-sheet.png`` (a variant's and the animatic's: their own)."""
    name = getattr(project, "contact_sheet_name", None)
    return project.build / name if name else sheet_path(project)


def film_state(project: Project, takes: Mapping[str, ChosenTake]) -> FilmStatus:
    """Is the film on disk the one these takes (and the storyboard) make? And if not, why."""
    return film_status(project, cut_takes(project, takes), output_path(project))


def compose_project(project: Project, state: LockSource, log: Log = print) -> Path:
    """Build the film from the lock alone (or find it up to date); returns its path."""
    return compose_film(project, state, log=log).path


@interruptible_call  # Ctrl-C stops every ffmpeg child at once: the interrupt lands now
def compose_film(
    project: Project,
    state: LockSource,
    log: Log = print,
    on_progress: OnProgress | None = None,
    force: bool = False,
    cache_dir: Path | None = None,
    runner: ChunkRunner | None = None,
    evict: bool = True,
    only_if_up_to_date: bool = False,
) -> ComposeResult:
    """Build the film from the lock alone, encoding only what the chunk cache lacks.

    ``only_if_up_to_date``: never compose; a film that is not up to date raises
    :class:`ComposeError` (the no-op render's rehearsal: ``cli/noop.py``).

    With an unchanged film key (and ``force`` off) nothing is encoded at all. ``cache_dir``:
    the chunk cache (default ``build/chunks``; chunks are content-keyed, so several films and
    several machines may share one). ``runner``: where chunks are encoded (see
    :func:`~storyboard.cut.picture.render_video`). ``evict``: trim the cache afterwards (off when
    several composes share it at once: the caller trims it once they are all done).
    """
    t_start = time.monotonic()
    warned: list[str] = []  # the warnings it logs, for the API's result too (M6)
    log = _noting(log, warned)
    limit = cache_limit_bytes()  # a bad setting is reported before anything is encoded
    jobs_cap()  # likewise (hostile F8: it was read after the sound was made)
    if cache_dir is not None:  # --cache PATH: a cache folder, never a folder of anything else
        cache_dir = admit_cache_folder(cache_dir, project.root)
    lock = cut_takes(project, state.lock)  # issue 18: lip-synced scenes play their sync
    dest = output_path(project)
    check_destinations(dest, contact_sheet_path(project))  # hostile helper-52: the sheet too
    for scene in project.board.scenes:
        take = lock.get(scene.id)
        if take is not None and not state.file_ok(take):  # confined, and its bytes match
            raise ComposeError(
                f"scene {scene.id!r}: take {take.n} file {take.file} is missing or does not "
                f"match its sha256; run `{project.render_command}` to fetch it again"
            )
    status = film_status(project, lock, dest)
    have_all = all(s.id in lock for s in project.board.scenes)
    if only_if_up_to_date and not (have_all and status.up_to_date and not force):
        raise ComposeError(f"{dest}: not up to date; nothing composed (asked only to check)")
    if have_all and status.up_to_date and not force:
        log(f"film up to date: {dest}")
        res = ComposeResult(dest, up_to_date=True, route="up to date")
        _companions(project, dest, res)
        res.seconds = time.monotonic() - t_start
        return res
    items: dict[str, str] = {}
    for scene in project.board.scenes:
        take = lock.get(scene.id)
        if take is not None:
            items[take.file] = take.media_key
    probed = (  # --force trusts no probe record either: the chosen takes are probed again
        probe_cached(
            [(project.root / f, k) for f, k in items.items()], project.build / "media", force
        )
        if items
        else {}
    )
    infos: dict[str, ClipInfo] = {f: probed[project.root / f] for f in items}
    tl = build_timeline(
        project, lock, {k: v.picture_seconds for k, v in infos.items()}, line_lengths(project, lock)
    )
    for warning in tl.warnings:
        log(warning if ": warning: " in warning else f"warning: {warning}")
    if project.board.edit.captions == "burn":  # hostile helper-30: never a silent box
        from .captions import caption_warnings

        for warning in caption_warnings(tl):
            log(warning)
    sounds = film_sounds(project, tl, lock)  # issue 18: lines, placed sounds, generated music
    left_out = getattr(state, "left_out", {})  # a LockView's lines left out, and why
    for node in sounds.missing:
        if node in left_out:
            log(f"warning: {node} ({left_out[node]}) is not played; render to make its take")
        else:
            log(f"warning: {node} has no take yet; the film is made without it")
    for warning in sounds.warnings:
        log(warning)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ComposeError(f"cannot write {dest}: {e.strerror or e}") from None
    edit = project.board.edit
    fmt = project.board.output.format

    def layouts() -> dict[str, StreamLayout | None]:
        """The takes' stream layouts (kept under build/media by their content)."""
        from storyboard.media.gop import layouts_cached

        files = {s.file: (project.root / s.file, s.take.media_key) for s in tl.segments}
        read = layouts_cached(list(set(files.values())), project.build / "media", force)
        return {f: read[path] for f, (path, _) in files.items()}

    route, why = choose_path(tl, infos, project, sounds, layouts)
    log(f"compose: {route} path ({why}); {len(tl.segments)} scenes, {tl.duration:.2f} s")
    cache = ChunkCache(cache_dir or project.build / "chunks", log=log, fresh=force)
    cache.hold()  # no other compose trims the cache under this one (hostile5 Q2)
    total = tl.frames()
    done = [0]
    count = threading.Lock()
    stats = PictureStats()

    def on_frames(n: int) -> None:
        with count:
            done[0] += n
            now = done[0]
        if on_progress is not None:
            on_progress(min(now, total), total)

    # the contact sheet is drawn while the film is made (a few one-frame decodes: light), once
    # the picture's encodes are under way: before, its fonts and images took the interpreter
    # from the picture's planning, which the first encode waits on (issue 19)
    sheet_pool = ThreadPoolExecutor(1)
    sheet_args = (tl, project.root, project.board.title, contact_sheet_path(project))
    sheets: list[Future[Path]] = []

    def draw_sheet() -> None:
        if not sheets:
            sheets.append(sheet_pool.submit(contact_sheet, *sheet_args, _boards(project, state)))

    loudness: Loudness | None = None
    try:
        sweep_stale(".compose-", dest.parent)  # what a killed compose left behind
        with tempfile.TemporaryDirectory(prefix=f".compose-{os.getpid()}-", dir=dest.parent) as d:
            tmp = Path(d)
            part = tmp / f"film.{fmt.lower()}"
            if route == "copy":
                draw_sheet()
                made, hits = cache.made, cache.hits
                concat_copy(tl, project.root, part, cache=cache)
                cache.made, cache.hits = made, hits  # the takes' sound copied, nothing encoded
                on_frames(total)
            else:
                # the sound is prepared while the picture renders; they meet in the final mux.
                # The picture's pool takes the CPUs; the sound steps run beside it (its AAC
                # segments, few for an edit, encoded at once)
                kept = None if force else kept_loudness(project)
                with ThreadPoolExecutor(1) as pool:
                    audio_job = pool.submit(
                        film_sound, tl, project, infos, cache, log, sounds, kept
                    )
                    if route == "audio-only":
                        draw_sheet()
                        video = tmp / f"video.{fmt.lower()}"
                        concat_copy(tl, project.root, video, audio=False)
                        on_frames(total)
                    else:
                        video = None
                        lengths = {k: v.picture_seconds for k, v in infos.items()}
                        last = {k: last_frame_start(v) for k, v in infos.items()}
                        parts = render_video(
                            tl,
                            project,
                            cache,
                            lengths,
                            None,
                            on_frames,
                            stats,
                            log,
                            runner,
                            last,
                            started=draw_sheet,
                        )
                    audio = audio_job.result()
                loudness = audio.loudness
                if video is not None:
                    mux(video, audio.path, part, fmt)
                else:  # the chunks joined and the sound muxed in one pass, then checked
                    files = [path for path, _ in parts]
                    join_copy(files, part, audio.path, fmt, part_lengths(parts, tl.fps))
                    check_frames(part, tl, cache, project)
            draw_sheet()  # (drawn already, unless the picture had nothing to start)
            check_destinations(dest)  # again: the encode took a while
            check_interrupt()  # a Ctrl-C while composing puts no film in place
            shutil.move(str(part), str(dest))  # same folder: an atomic rename
    except OSError as e:
        raise ComposeError(str(write_error(dest, e))) from None
    finally:
        sheet_pool.shutdown(wait=True)
        cache.release()
    sheets[0].result()
    srt_path = dest.with_suffix(".srt")
    if tl.captions and edit.captions != "off":
        atomic_write(srt_path, srt(tl.captions).encode())
    res = ComposeResult(dest, route=route, why=why, encoded=cache.made, reused=cache.hits)
    res.warnings = warned
    res.frames, res.frames_encoded = total, stats.encoded
    _companions(project, dest, res)
    write_stamp(project, status, dest, [_rel(project, p) for p in res.extras], loudness)
    res.used = set(cache.used)
    res.evicted = len(cache.evict(limit)) if evict else 0
    res.seconds = time.monotonic() - t_start
    return res


def part_lengths(parts: list[tuple[Path, int]], fps: int) -> list[float]:
    """How long each of the picture's chunks lasts (seconds, to the microsecond the concat
    demuxer counts in), from its frames: each ends where its last frame does, rounded once
    from the film's start, so the roundings never add up. A container's own length is not
    used: a WEBM chunk's can say a frame more (hostile round 7), and an MP4's edit list says
    whole milliseconds, so a 17-frame chunk at 30 fps (566.67 ms) started the next 0.67 ms
    early, and the rest of the film with it (hostile helper-50)."""
    ends = [0, *itertools.accumulate(n for _, n in parts)]
    us = [round(f * 1_000_000 / fps) for f in ends]
    return [(b - a) / 1_000_000 for a, b in zip(us, us[1:], strict=False)]


def _noting(log: Log, warned: list[str]) -> Log:
    """``log``, keeping each warning it is given in ``warned`` (threads may log: appends are
    atomic)."""

    def noted(line: str) -> None:
        if line.startswith("warning: ") or ": warning: " in line:
            warned.append(line)
        log(line)

    return noted


def last_frame_start(info: ClipInfo) -> float:
    """When the take's last frame starts (seconds): as its packets say (a variable frame rate
    take's last frame can last longer than its average: hostile helper-29), else its
    picture's end less one frame at its average rate."""
    if info.last_frame is not None and 0 <= info.last_frame < info.picture_seconds:
        return info.last_frame
    frame = 1.0 / info.fps if info.fps and info.fps > 0 else 0.0
    return max(0.0, info.picture_seconds - frame)


def _boards(project: Project, state: LockSource) -> dict[str, tuple[Path, str]]:
    """Each scene's chosen board (issue 17), for the contact sheet: its file and sha256, only
    files that check out (their bytes are the lock's)."""
    out = {}
    for scene in project.board.scenes:
        take = state.lock.get(f"board:{scene.id}")
        if take is not None and state.file_ok(take):
            out[scene.id] = (project.root / take.file, take.sha256)
    return out


def _companions(project: Project, dest: Path, res: ComposeResult) -> None:
    srt_path = dest.with_suffix(".srt")
    if project.board.edit.captions != "off" and srt_path.is_file():
        res.captions = srt_path
    sheet = contact_sheet_path(project)
    if sheet.is_file():
        res.contact_sheet = sheet
    res.extras = [p for p in (res.captions, res.contact_sheet) if p is not None]


def _rel(project: Project, p: Path) -> str:
    try:
        return str(p.relative_to(project.root))
    except ValueError:
        return str(p)


def choose_path(
    tl: Timeline,
    infos: dict[str, ClipInfo],
    project: Project,
    sounds: FilmSounds | None = None,
    layouts: Callable[[], dict[str, StreamLayout | None]] | None = None,
) -> tuple[str, str]:
    """The cheapest path that gives the right film, and why. ``layouts``: the takes' stream
    layouts by file, read only when their streams might be joined as they are."""
    fmt = project.board.output.format
    edit = project.board.edit
    reasons = []
    if any(s.transition != "cut" for s in tl.segments):
        reasons.append("transitions")
    if any(
        s.src_start > 1e-6 or abs(s.duration - infos[s.file].picture_seconds) > 1.5 / tl.fps
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
    if not reasons and layouts is not None:
        reasons += _whole_join_refused(tl, layouts())
    if reasons:
        return "full", "re-encoding for " + ", ".join(reasons)
    audio_changes = []
    if edit.music is not None:
        audio_changes.append("music")
    if sounds is not None and sounds.overlays:
        audio_changes.append("voices and sounds")
    if sounds is not None and any(g != 1.0 for g in sounds.scene_gain.values()):
        audio_changes.append("native_audio")
    if edit.loudness != "off":
        audio_changes.append("loudness")
    if not all(infos[s.file].has_audio for s in tl.segments):
        audio_changes.append("silent clips")
    if {infos[s.file].audio_codec for s in tl.segments} != {AUDIO_CODECS[fmt]}:
        audio_changes.append("audio codec")
    elif len({(infos[s.file].audio_fps, infos[s.file].audio_layout) for s in tl.segments}) > 1:
        audio_changes.append("sample rates or channels differ")  # hostile6 R3
    drift = sum(infos[s.file].drift for s in tl.segments)
    late = max((infos[s.file].audio_start or 0.0 for s in tl.segments), default=0.0)
    if abs(drift) > 0.5 / tl.fps:
        audio_changes.append(f"sync (copied audio would drift {drift * 1000:+.0f} ms)")
    elif late > 0.5 / tl.fps:  # copied, its gap and its overrun would be kept (helper-57)
        audio_changes.append(f"sync (a take's sound starts {late * 1000:.0f} ms after its picture)")
    if audio_changes:
        return "audio-only", "plain cuts: video copied, audio re-made for " + ", ".join(
            audio_changes
        )
    return "copy", "plain cuts of compatible clips: streams copied, nothing re-encoded"


def _whole_join_refused(tl: Timeline, layouts: dict[str, StreamLayout | None]) -> list[str]:
    """Why the takes' pictures cannot be joined as they are (the copy and audio-only routes),
    one reason: a take shown otherwise than it is stored, or takes whose parameter sets differ
    (the film would switch profile or bit depth part-way: hostile helper-60)."""
    for s in tl.segments:
        layout = layouts.get(s.file)
        why = "its video packets cannot be read" if layout is None else layout.joins_whole()
        if why:
            return [f"scene {s.scene!r} ({why})"]
    if len({layout.signature for layout in layouts.values() if layout is not None}) > 1:
        return ["takes whose streams differ (time base, profile, bit depth or parameter sets)"]
    return []


def concat_copy(
    tl: Timeline, root: Path, dest: Path, audio: bool = True, cache: ChunkCache | None = None
) -> Path:
    """The takes joined end to end, streams copied (ffmpeg's concat demuxer).

    In an MP4 or MOV film the picture and the sound are joined apart (hostile5 Q1): a take's
    AAC starts with the encoder's priming packet, which its MP4 hides with an edit list, and
    the concat demuxer drops it (``inpoint 0``) only when it seeks in a file of sound alone:
    with B-frames in the picture, the seek lands before the priming packet, and every later
    take's sound came 21 ms late. So each take's sound is copied into a file of its own first
    (kept in ``cache`` by the take's content: made once), and those are joined."""
    files = [root / s.file for s in tl.segments]
    dest = Path(os.path.abspath(dest))  # ffmpeg runs in the listing's folder
    apart = audio and dest.suffix in (".mp4", ".mov")
    # inpoint 0 drops each take's priming packet: the joins stay sample-exact. Each take lasts
    # its picture (hostile6 R2: a take whose sound ran on held its last frame that long)
    listing = dest.with_name(f"{dest.stem}.parts.txt")
    inpoint = "" if apart else "inpoint 0\n"
    listing.write_text(
        "".join(
            f"{concat_file(f, listing)}{inpoint}duration {s.duration:.6f}\n"
            for f, s in zip(files, tl.segments, strict=True)
        )
    )
    inputs = ["-f", "concat", "-safe", "0", "-i", str(listing)]
    maps = ["-map", "0:v:0"] + (["-map", "0:a:0"] if audio and not apart else [])
    if apart:
        if cache is None:
            raise ValueError("internal: the takes' sound is joined through the chunk cache")
        keys = [chunk_key("take-sound", {"take": s.take.media_key}) for s in tl.segments]
        inputs += ["-i", os.path.abspath(_sound_joined(files, keys, dest, cache))]
        maps += ["-map", "1:a:0"]
    extra = ["-movflags", "+faststart"] if dest.suffix == ".mp4" else []
    # -copyts: each stream keeps its own timestamps; else the picture was shifted by the first
    # take's sound priming (its listing's start), 21 ms late against the sound (hostile6 R1)
    extra += ["-copyts"] if apart else []
    run_ffmpeg(
        [*inputs, *maps, "-c", "copy", *extra, str(dest)],
        what="stream-copy join",
        cwd=listing.parent,
    )
    listing.unlink(missing_ok=True)
    return dest


def _sound_joined(files: list[Path], keys: list[str], dest: Path, cache: ChunkCache) -> Path:
    """The takes' sound joined in their order, kept in ``cache``."""

    def join(out: Path) -> None:
        listing = dest.with_name(f"{dest.stem}.sound-join.txt")
        sounds = _sounds_apart(files, keys, dest, cache)
        listing.write_text("".join(f"{concat_file(p, listing)}inpoint 0\n" for p in sounds))
        run_ffmpeg(
            ["-f", "concat", "-safe", "0", "-i", str(listing), "-map", "0:a:0", "-c", "copy"]
            + ["-f", "ipod", os.path.abspath(out)],
            what="joining the takes' sound",
            cwd=listing.parent,
        )
        listing.unlink(missing_ok=True)

    return cache.make(chunk_key("takes-sound", {"takes": keys}), "m4a", join)


def _sounds_apart(files: list[Path], keys: list[str], dest: Path, cache: ChunkCache) -> list[Path]:
    """Each take's first sound stream in a file of its own (its edit list kept), kept in
    ``cache``: the missing ones copied out by one ffmpeg (64 takes at most each)."""
    found = {k: hit for k in keys if (hit := cache.get(k, "m4a")) is not None}
    todo = list(dict.fromkeys((k, f) for k, f in zip(keys, files, strict=True) if k not in found))
    for first in range(0, len(todo), 64):
        group = todo[first : first + 64]
        args = [a for _, f in group for a in ("-i", str(f.resolve()))]
        made = [dest.with_name(f"{dest.stem}.sound-{first + k}.m4a") for k in range(len(group))]
        for k, out in enumerate(made):
            args += ["-map", f"{k}:a:0", "-c", "copy", "-f", "ipod", str(out)]
        run_ffmpeg(args, what="copying the takes' sound")
        for (key, _), out in zip(group, made, strict=True):
            found[key] = cache.make(key, "m4a", partial(shutil.copyfile, out))
    return [found[k] for k in keys]
