"""The ffmpeg layer under everything: running ffmpeg, its reports, and the codec settings.

ffmpeg comes from the ``imageio-ffmpeg`` wheel.
"""

from __future__ import annotations

import ctypes
import functools
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from storyboard.errors import StoryboardError

_PR_SET_PDEATHSIG = 1


def _load_prctl() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


# looked up before any fork: the child between fork and exec should do as little as possible
_PRCTL = _load_prctl()


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that has the kernel SIGKILL the child when this process dies.

    Without it a killed ``storyboard`` leaves ffmpeg running on, writing into folders
    nobody will clean. Linux only (``prctl``); elsewhere children are left as they were.
    """
    if _PRCTL is None:
        return None
    prctl = _PRCTL
    parent = os.getpid()
    sigkill = int(signal.SIGKILL)

    def arm() -> None:
        prctl(_PR_SET_PDEATHSIG, sigkill, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the line above: nobody will ask
            os._exit(1)

    return arm


# Run by ``setpriv`` once the death signal is armed: ``$0`` is the pid of the process that
# spawned it, so a child whose parent died before the signal was armed runs nothing.
_GUARD = 'test "$PPID" = "$0" && exec "$@"'


@functools.cache
def _launcher() -> tuple[str, ...] | None:
    """``setpriv --pdeathsig KILL`` and a shell guard, to put in front of a command.

    A ``preexec_fn`` makes ``subprocess`` fork the whole interpreter (page tables and all, about
    30 ms of system time per child from a 300 MB process); without one it uses ``vfork``, about
    1 ms. ``setpriv`` (util-linux) arms the same death signal after the exec instead. ``None``
    where it is missing or does not work, and children are armed by :func:`_die_with_parent`.
    """
    if _PRCTL is None:
        return None
    setpriv, sh = shutil.which("setpriv"), shutil.which("sh")
    if setpriv is None or sh is None:
        return None
    launcher = (setpriv, "--pdeathsig", "KILL", "--", sh, "-c", _GUARD)
    try:
        probe = subprocess.run(
            [*launcher, str(os.getpid()), sh, "-c", "echo armed"],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return launcher if probe.returncode == 0 and probe.stdout == b"armed\n" else None


P = ParamSpec("P")
R = TypeVar("R")
_children: weakref.WeakSet[subprocess.Popen[bytes]] = weakref.WeakSet()
_children_lock = threading.RLock()  # held only for a moment, never across a fork
_stopping = threading.Event()


# Executables once started by Popen itself, by path and what ``stat`` says of them (mode and
# mtime included: a chmod or a new file is started by Popen again)
_runnable: set[tuple[str, int, int, int, int, int]] = set()


def _identity(exe: str) -> tuple[str, int, int, int, int, int] | None:
    if not os.path.isabs(exe):
        return None
    try:
        st = os.stat(exe)
    except OSError:
        return None
    return (exe, st.st_dev, st.st_ino, st.st_mode, st.st_mtime_ns, st.st_size)


def spawn(cmd: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    """``subprocess.Popen`` for ffmpeg (and kin): the child dies with this process, and with
    :func:`interruptible` a Ctrl-C stops it at once.

    An executable's first start is Popen's own (with :func:`_die_with_parent`), so what cannot
    run fails as Popen says it (missing, no x bit, a folder, another machine's binary, a script
    without ``#!``: hostile helper-51), not as the launcher's shell would (an exit status of
    126 or 127, or a text file run as a script); once it has run, the launcher starts it."""
    if _stopping.is_set():
        raise StoryboardError("interrupted: no new ffmpeg is started")
    launcher = _launcher()
    ident = _identity(cmd[0]) if launcher is not None else None
    if launcher is None or ident is None or ident not in _runnable:
        proc = subprocess.Popen(cmd, preexec_fn=_die_with_parent(), **kwargs)
        if ident is not None:
            _runnable.add(ident)
    else:  # no preexec_fn: subprocess uses vfork
        proc = subprocess.Popen([*launcher, str(os.getpid()), *cmd], **kwargs)
        proc.args = cmd
    with _children_lock:
        _children.add(proc)
    if _stopping.is_set():  # stopped while it started: it was not in the list yet
        proc.kill()
    return proc


def run_child(
    cmd: list[str], *, timeout: float, input: bytes | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    """``subprocess.run`` with output captured (and ``input`` fed to its stdin; ``cwd``: the
    folder it runs in); the child dies with this process."""
    stdin = subprocess.PIPE if input is not None else None
    proc = spawn(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd)
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except BaseException:
        proc.kill()
        proc.communicate()
        raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def stop_children() -> None:
    """Kill every ffmpeg child still running and start no new one (until the end of
    :func:`interruptible`)."""
    _stopping.set()
    with _children_lock:
        live = list(_children)
    for proc in live:
        if proc.poll() is None:
            proc.kill()


def check_interrupt() -> None:
    """Raise :class:`KeyboardInterrupt` when a Ctrl-C came inside :func:`interruptible`
    (before a step that must not happen after one, such as putting the film in place)."""
    if _stopping.is_set():
        raise KeyboardInterrupt


@contextmanager
def interruptible() -> Iterator[None]:
    """While the main thread works inside, a Ctrl-C kills the ffmpeg children and starts no
    new one, so worker threads end at once instead of finishing their encodes first; the
    :class:`KeyboardInterrupt` is raised when the work inside has unwound. It is not raised
    from the signal handler itself: landing inside ``subprocess``'s fork (logging's at-fork
    lock) it would leave that lock held and hang every later fork."""
    main = threading.current_thread() is threading.main_thread()
    if not main or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    signal.signal(signal.SIGINT, lambda signum, frame: stop_children())
    try:
        yield
    except Exception:
        if _stopping.is_set():  # what failed because its ffmpeg was stopped
            raise KeyboardInterrupt from None
        raise
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        stopped = _stopping.is_set()
        _stopping.clear()
    if stopped:
        raise KeyboardInterrupt


def interruptible_call(fn: Callable[P, R]) -> Callable[P, R]:
    """``fn`` run inside :func:`interruptible`."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with interruptible():
            return fn(*args, **kwargs)

    return run


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def concat_file(path: Path, listing: Path) -> str:
    """A ``file 'file:...'`` line of a concat listing for ``path``, relative to the listing's
    folder, where the ffmpeg that reads it runs (``run_ffmpeg(cwd=listing.parent)``).

    Relative, so a folder above the project whose name has a newline (which no listing line
    can hold) is never written: hostile helper-51's project in ``my\\nfilm`` was generated,
    paid for, then failed at its join. A ``file:`` URL read from the working folder, not a
    path the demuxer resolves against the listing's own: that resolution is a URL's, which
    ends the listing's path at a ``#`` or ``?`` (hostile helper-62: a project in ``film #2``
    was generated, paid for, and never joined)."""
    rel = os.path.relpath(path.resolve(), listing.parent.resolve())
    if "\n" in rel or "\r" in rel:
        raise StoryboardError(
            f"{path!s}: its path from {listing.parent} has a line break, which ffmpeg's "
            "concat listing cannot hold: rename the folder or file"
        )
    quoted = rel.replace("'", "'\\''")
    return f"file 'file:{quoted}'\n"


def run_ffmpeg(
    args: list[str],
    *,
    what: str,
    timeout: float = 600,
    input: bytes | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run ffmpeg quietly; a failure becomes one readable :class:`StoryboardError`.

    ``input``: bytes for ffmpeg's stdin (an input ``pipe:0``); its stdout is captured.
    ``cwd``: the folder it runs in (a concat listing's: :func:`concat_file`); every path in
    ``args`` is then absolute."""
    stdin = [] if input is not None else ["-nostdin"]
    cmd = [ffmpeg_exe(), "-hide_banner", *stdin, "-loglevel", "error", "-y", *args]
    try:
        proc = run_child(cmd, timeout=timeout, input=input, cwd=cwd)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise StoryboardError(f"{what}: ffmpeg could not run: {e}") from None
    if proc.returncode == -signal.SIGXFSZ or b"File too large" in proc.stderr:
        raise StoryboardError(f"{what}: file size limit reached writing {args[-1]} (ulimit -f)")
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise StoryboardError(f"{what}: ffmpeg failed: {' | '.join(tail) or proc.returncode}")
    return proc


def ffmpeg_report(args: list[str], *, what: str) -> str:
    """Run ffmpeg at info level and return what it reported (for analysis filters)."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", *args]
    try:
        proc = run_child(cmd, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise StoryboardError(f"{what}: ffmpeg could not run: {e}") from None
    return proc.stderr.decode(errors="replace")


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
"""The colour tags of every stream the cut writes (and of the emulator's clips)."""

X264_COLOUR = ["-x264-params", "colorprim=bt709:transfer=bt709:colormatrix=bt709"]
"""BT.709 primaries and transfer for x264, which ffmpeg 9 does not pass on from
``-color_primaries`` and ``-color_trc`` (without these an H.264 stream is tagged with the
matrix alone: ``bt709/unknown/unknown``)."""


def film_colour_args(fmt: str) -> list[str]:
    """The film's colour tags as encoder arguments (its chunks, and the emulator's clips made
    in their settings): :data:`COLOR_TAGS`, and for x264 (all but WEBM) :data:`X264_COLOUR`."""
    return [*COLOR_TAGS, *([] if fmt == "WEBM" else X264_COLOUR)]


X264_NAMES = {"GBR": "gbr", "YCgCo": "ycgco"}  # x264's colour names where ffmpeg's differ
X264_TAGS = {"colormatrix": "colorspace", "colorprim": "color_primaries", "transfer": "color_trc"}
"""x264's colour parameters and the frame field each sets, in the order a stream signature
names them (matrix/primaries/transfer)."""


def tags_filter(codec: list[str]) -> str:
    """``setparams`` giving every frame the colour tags the chunk's encoder settings name, the
    same for every chunk of a film: libx264 in ffmpeg 9 fills what its settings leave unset
    from each frame's own tags, and the container's tags follow the frames, so chunks from
    takes tagged otherwise (BT.2020, BT.601, full range) came out with other parameter sets
    and the film with its first take's tags (round 7). A field the settings do not name is
    set unknown, as in the two-frame check that matched them (:mod:`storyboard.media.x264`)."""
    tags = dict.fromkeys(("range", "color_primaries", "color_trc", "colorspace"), "unknown")
    for opt, value in zip(codec, codec[1:]):  # noqa: B905
        if opt == "-x264-params":
            for kv in value.split(":"):
                key, _, v = kv.partition("=")
                if key in X264_TAGS:
                    tags[X264_TAGS[key]] = X264_NAMES.get(v, v)
        elif opt in ("-color_range", "-color_primaries", "-color_trc", "-colorspace"):
            tags["range" if opt == "-color_range" else opt[1:]] = value
    return "setparams=" + ":".join(f"{k}={v}" for k, v in tags.items())


MATRIX = {"bt709": "bt709", "smpte170m": "bt601", "bt470bg": "bt601", "bt2020nc": "bt2020"}


def decoded_matrix(path: Path) -> tuple[str, str]:
    """The matrix and range ffmpeg decodes ``path``'s picture to RGB with: its colour tags
    (``bt709``, ``bt601``, ``bt2020``; ``tv`` or ``pc``), BT.601 and ``tv`` where it has none,
    as ffmpeg then assumes. Unreadable: the same."""
    try:
        proc = run_child([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)], timeout=60)
        text = proc.stderr.decode(errors="replace")
    except (OSError, subprocess.TimeoutExpired):
        text = ""
    m = re.search(r"Video: .*?\b(?:yuv|nv|gray)\w*\(([^)]*)\)", text)
    # "yuv420p(tv, bt709, progressive)", or "(tv, bt709/unknown/unknown)": the matrix first
    fields = [f.strip().split("/")[0] for f in m.group(1).split(",")] if m else []
    matrix = next((MATRIX[f] for f in fields if f in MATRIX), "bt601")
    rng = "pc" if "pc" in fields else "tv"
    return matrix, rng


def from_rgb_filter(matrix: str, rng: str) -> str:
    """Filters taking RGB frames back into ``yuv420p`` with the matrix and range they were
    decoded with (:func:`decoded_matrix`), so the round trip keeps the picture's values:
    ffmpeg decodes a BT.709 take to RGB as BT.709 but takes RGB back as BT.601 unless told,
    and every frame composited through RGB shifted in colour (hostile helper-48)."""
    return f"scale=out_color_matrix={matrix}:out_range={rng},format=yuv420p"


def video_codec_args(
    fmt: str, quality: int, *, preset: str = "veryfast", threads: int | None = None
) -> list[str]:
    """Encoder settings for a container format and a 20-99 quality (95 -> crf 17)."""
    crf = round(51 - quality * 0.36)
    thread_args = ["-threads", str(threads)] if threads else []
    if fmt == "WEBM":
        return [
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-row-mt",
            "1",
            "-crf",
            str(min(63, crf + 10)),
            "-b:v",
            "0",
            "-pix_fmt",
            "yuv420p",
            *thread_args,
        ]
    return [
        "-c:v",
        "libx264",
        "-preset",
        preset,
        "-crf",
        str(crf),
        "-pix_fmt",
        "yuv420p",
        *thread_args,
    ]


def audio_codec_args(fmt: str, bitrate: str = "192k") -> list[str]:
    if fmt == "WEBM":
        return ["-c:a", "libopus", "-b:a", bitrate, "-ar", "48000"]
    return ["-c:a", "aac", "-b:a", bitrate, "-ar", "48000"]
