"""Composited frames: the stretches of picture that need work (a transition window, a fade,
burnt-in captions). moviepy reads the source frames, numpy blends them, and they are piped as
raw RGB into our own ffmpeg encoder with the chunk settings, so every chunk is ``yuv420p``.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storyboard.errors import ComposeError
from storyboard.media.ffmpeg import (
    decoded_matrix,
    ffmpeg_exe,
    from_rgb_filter,
    spawn,
    tags_filter,
)

from .timeline import Timeline

if TYPE_CHECKING:
    import numpy as np

OnFrames = Callable[[int], None]


class _Frames:
    """Frame source for one segment: a lazily opened moviepy clip, conformed to the film size."""

    def __init__(
        self,
        path: Path,
        width: int,
        height: int,
        reframe: str = "pad",
        focus: tuple[float, float] = (0.5, 0.5),
    ):
        self.path, self.width, self.height = path, width, height
        self.reframe, self.focus = reframe, focus  # variants (issue 20): pad or crop
        self.clip: Any = None  # a moviepy VideoFileClip once opened
        self._proxy: Any = None  # a TemporaryDirectory holding the take fitted (_conformed)

    def get(self, t: float) -> np.ndarray:
        from moviepy import VideoFileClip

        if self.clip is None:
            self.clip = VideoFileClip(str(self._conformed()), audio=False)
        clip = self.clip
        t = min(max(0.0, t), max(0.0, clip.duration - 1.0 / (clip.fps or 30)))
        frame = clip.get_frame(t)
        if frame.shape[1] != self.width or frame.shape[0] != self.height:
            if self.reframe == "crop":
                frame = _crop(frame, self.width, self.height, self.focus)
            else:
                frame = _letterbox(frame, self.width, self.height)
        return frame

    def close(self) -> None:
        if self.clip is not None:
            self.clip.close()
            self.clip = None
        if self._proxy is not None:
            self._proxy.cleanup()
            self._proxy = None

    def _conformed(self) -> Path:
        """The take as it is shown: a take of non-square pixels or with a display matrix (a
        phone's) is first fitted to the film by ffmpeg, as the other paths fit it, into a
        lossless copy that moviepy reads (moviepy reads stored pixels: hostile helper-63, such
        takes were squeezed or stretched in the windows made frame by frame)."""
        import re
        import tempfile

        from storyboard.media.ffmpeg import run_child, run_ffmpeg
        from storyboard.media.gop import display_matrix

        from .chunkjob import reframe_filter

        head = run_child([ffmpeg_exe(), "-hide_banner", "-i", str(self.path)], timeout=60)
        report = head.stderr.decode(errors="replace")
        sar = re.search(r"Video: .*?\[SAR (\d+):(\d+)", report)
        if (sar is None or sar.group(1) == sar.group(2)) and not display_matrix(report):
            return self.path
        self._proxy = tempfile.TemporaryDirectory(prefix="sb-conformed-")
        out = Path(self._proxy.name) / "take.mp4"
        fit = reframe_filter(self.width, self.height, self.reframe, self.focus)
        run_ffmpeg(
            ["-i", str(self.path), "-map", "0:v:0", "-vf", f"{fit},setsar=1", "-an"]
            + ["-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", str(out)],
            what=f"fitting {self.path.name} to the film",
        )
        return out


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


def _crop(frame: np.ndarray, width: int, height: int, focus: tuple[float, float]) -> np.ndarray:
    """Fill width x height keeping the aspect, cutting the overflow around the focus point
    (the geometry of :func:`~storyboard.cut.chunkjob.reframe_filter`'s crop)."""
    import numpy as np
    from PIL import Image

    h, w = frame.shape[:2]
    scale = max(width / w, height / h)
    nw, nh = max(width, round(w * scale)), max(height, round(h * scale))
    big = np.asarray(Image.fromarray(frame).resize((nw, nh), Image.Resampling.BILINEAR))
    x, y = int((nw - width) * focus[0]), int((nh - height) * focus[1])
    return np.ascontiguousarray(big[y : y + height, x : x + width])


class FrameFunction:
    """Frames of composited stretches: one function that blends only when needed."""

    def __init__(self, tl: Timeline, root: Path, captions: object):
        self.tl = tl
        self.segs = tl.segments
        self.sources = [
            _Frames(root / s.file, tl.width, tl.height, tl.reframe, tl.focus) for s in self.segs
        ]
        self.captions = captions
        self.root = root
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

    def write(self, f0: int, f1: int, dest: Path, codec: list[str], tick: OnFrames) -> None:
        """Frames f0..f1 as raw RGB into an ffmpeg encoder with the chunk settings, taken back
        from RGB as the first take they show was decoded (:func:`decoded_matrix`)."""
        tl = self.tl
        first = next(
            (s.file for s in self.segs if s.end - 1e-9 > f0 / tl.fps),
            self.segs[-1].file if self.segs else None,
        )
        back = from_rgb_filter(*decoded_matrix(self.root / first)) if first else "format=yuv420p"
        cmd = [
            ffmpeg_exe(),
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-s",
            f"{tl.width}x{tl.height}",
            "-r",
            str(tl.fps),
            "-i",
            "-",
            "-an",
            "-vf",
            f"{back},{tags_filter(codec)}",  # decoded's matrix, tagged as the film
            *codec,
            str(dest),
        ]
        try:
            proc = spawn(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
        except OSError as e:
            raise ComposeError(f"rendering the film failed: ffmpeg could not run: {e}") from None
        assert proc.stdin is not None
        try:
            for f in range(f0, f1):
                frame = self.frame(f / tl.fps)
                proc.stdin.write(frame.tobytes())
                tick(1)
            proc.stdin.close()
            err = proc.stderr.read() if proc.stderr else b""
            code = proc.wait()
        except BrokenPipeError:
            err = proc.stderr.read() if proc.stderr else b""
            code = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            if proc.stderr:
                proc.stderr.close()
        if code == -signal.SIGXFSZ or b"File too large" in err:
            raise ComposeError(
                f"rendering the film failed: file size limit reached writing {dest} (ulimit -f)"
            )
        if code != 0:
            tail = " | ".join(err.decode(errors="replace").strip().splitlines()[-3:])
            raise ComposeError(f"rendering the film failed: ffmpeg: {tail or code}")

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
