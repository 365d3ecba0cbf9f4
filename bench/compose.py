"""Bench: the final cut (issue 5). Twelve 8 s 1280x720 clips with audio.

Measured in the same run, each in its own process, with peak memory of the whole process tree
(python + ffmpeg children, RSS summed, sampled every 20 ms):

* fast path (plain cuts, audio untouched: stream copy) against a bare
  ``ffmpeg -f concat -c copy`` of the same clips;
* full path (crossfades + music bed + loudness) against a bare moviepy
  ``concatenate_videoclips(...).write_videofile(...)`` of the same clips.

    python bench/compose.py [--clips 12] [--seconds 8]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

from storyboard.generate.state import BuildState, Take
from storyboard.media.ffmpeg import ffmpeg_exe
from storyboard.media.probe import probe

REPO = Path(__file__).resolve().parent.parent


def make_clips(folder: Path, n: int, seconds: float) -> list[Path]:
    out = []
    for i in range(n):
        p = folder / f"clip{i:02d}.mp4"
        subprocess.run(
            [
                ffmpeg_exe(),
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                f"testsrc2=s=1280x720:r=30:d={seconds}",
                "-f",
                "lavfi",
                "-i",
                f"sine=f={220 + 30 * i}:r=48000:d={seconds}",
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                "aac",
                "-shortest",
                str(p),
            ],
            check=True,
        )
        out.append(p)
    return out


def project(folder: Path, clips: list[Path], edit: str) -> Path:
    root = folder
    root.mkdir()
    scenes = "".join(
        f"  - {{id: s{i:02d}, prompt: 'Shot {i}.', duration: 8}}\n" for i in range(len(clips))
    )
    (root / "storyboard.yaml").write_text(f"title: Bench\nscenes:\n{scenes}edit: {edit}\n")
    if "music" in edit:
        subprocess.run(
            [
                ffmpeg_exe(),
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                "sine=f=330:r=48000:d=20",
                "-c:a",
                "libmp3lame",
                str(root / "bed.mp3"),
            ],
            check=True,
        )
    state = BuildState(root)
    for i, c in enumerate(clips):
        rel = f"takes/{c.name}"
        (root / "takes").mkdir(exist_ok=True)
        os.link(c, root / rel)
        sha = hashlib.sha256(c.read_bytes()).hexdigest()
        state.lock[f"s{i:02d}"] = Take(
            f"s{i:02d}",
            1,
            "k",
            None,
            f"t{i}",
            f"v{i}",
            None,
            None,
            rel,
            c.stat().st_size,
            sha,
            0.8,
            probe(c).duration,
        )
    state.write_lock([f"s{i:02d}" for i in range(len(clips))])
    state.close()
    return root


def tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        stack.extend(children.get(p, []))
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def run(label: str, code: str) -> tuple[float, float, float]:
    """Run python code in a fresh process: (seconds, peak MB of the process tree, the seconds
    the code itself reports on stdout as ``WORK <s>``, i.e. without interpreter start-up)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, tree_rss_kb(proc.pid))
            time.sleep(0.02)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, _ = proc.communicate()
    stop.set()
    th.join()
    secs = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{label} failed")
    work = [float(line.split()[1]) for line in out.splitlines() if line.startswith("WORK ")]
    return secs, peak / 1024, work[0] if work else secs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=12)
    ap.add_argument("--seconds", type=float, default=8.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        clips = make_clips(tmp, args.clips, args.seconds)
        listing = tmp / "list.txt"
        listing.write_text("".join(f"file '{c}'\n" for c in clips))
        fast = project(tmp / "fast", clips, "{loudness: 'off', captions: 'off'}")
        full = project(
            tmp / "full",
            clips,
            "{transition: {type: crossfade, duration: 0.5}, "
            "music: {file: bed.mp3, volume: 0.3}, loudness: -16}",
        )
        compose = """
            import time
            t0 = time.perf_counter()
            from storyboard.board.spec import load_project
            from storyboard.generate.state import BuildState
            from storyboard.cut.compose import compose_project
            p = load_project({root!r}); s = BuildState(p.root)
            compose_project(p, s, log=lambda m: None)
            print("WORK", time.perf_counter() - t0)
        """
        bare_copy = f"""
            import subprocess, time
            from storyboard.media.ffmpeg import ffmpeg_exe
            t0 = time.perf_counter()
            subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "concat", "-safe", "0",
                            "-i", {str(listing)!r}, "-c", "copy", {str(tmp / "bare.mp4")!r}],
                           check=True)
            print("WORK", time.perf_counter() - t0)
        """
        bare_moviepy = f"""
            from moviepy import VideoFileClip, concatenate_videoclips
            clips = [VideoFileClip(str(p)) for p in {[str(c) for c in clips]!r}]
            concatenate_videoclips(clips).write_videofile({str(tmp / "bare-mp.mp4")!r},
                                                          logger=None)
            for c in clips: c.close()
        """
        # warm the interpreter/imports once so both sides pay the same start-up
        run("warm-up", "import storyboard.cut.compose, moviepy")
        b_copy, m_copy, bw_copy = run("bare copy", bare_copy)
        cold, _, cold_w = run("fast path, cold", compose.format(root=str(fast)))
        # the state right after a render: each take's media info and thumbnails already made
        # by the executor (build/media, build/thumbs); no film, no contact sheet yet
        for f in (fast / "build").glob("*.*"):
            f.unlink()
        f_copy, mf_copy, _ = run("fast path", compose.format(root=str(fast)))
        # the join itself: both sides timed in one process after imports, alternating, median
        _, _, ratio_join = run(
            "fast path join",
            f"""
            import statistics, subprocess, time
            from storyboard.cut.compose import compose_project
            from storyboard.media.ffmpeg import ffmpeg_exe
            from storyboard.board.spec import load_project
            from storyboard.generate.state import BuildState
            p = load_project({str(fast)!r}); s = BuildState(p.root)
            ours, bare = [], []
            for _ in range(7):
                for f in (p.root / "build").glob("*.*"):
                    f.unlink()
                t0 = time.perf_counter(); compose_project(p, s, log=lambda m: None)
                t1 = time.perf_counter()
                subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "concat", "-safe", "0",
                                "-i", {str(listing)!r}, "-c", "copy", {str(tmp / "bare.mp4")!r}],
                               check=True)
                t2 = time.perf_counter(); ours.append(t1 - t0); bare.append(t2 - t1)
            print("OURS", statistics.median(ours)); print("BARE", statistics.median(bare))
            print("WORK", statistics.median(ours) / statistics.median(bare))
        """,
        )
        b_mp, m_mp, _ = run("bare moviepy", bare_moviepy)
        f_full, mf_full, _ = run("full path", compose.format(root=str(full)))
    total = args.clips * args.seconds
    print(
        f"{args.clips} clips x {args.seconds:g} s at 1280x720 ({total:g} s of film); "
        "times include process start"
    )
    print(
        f"fast path join: ratio {ratio_join:4.2f} against a bare ffmpeg concat -c copy "
        "(median of 7, same process, after imports; join + captions + contact sheet)"
    )
    print(
        f"  whole process: {f_copy:5.2f} s   bare: {b_copy:5.2f} s   ratio {f_copy / b_copy:4.2f}"
        f"   peak {mf_copy:4.0f} MB (bare {m_copy:3.0f} MB)"
    )
    print(
        f"  cold caches (clips not rendered here: thumbnails to decode): {cold_w:.2f} s, "
        f"ratio {cold_w / bw_copy:.2f}"
    )
    print(
        f"full path:  {f_full:6.2f} s   bare moviepy concatenate+write: {b_mp:6.2f} s   "
        f"ratio {f_full / b_mp:4.2f}   peak {mf_full:5.0f} MB (bare {m_mp:4.0f} MB)"
    )
    print(
        "(both run as a fresh python process, like the bare sides; fast path: join, captions, "
        "contact sheet; full path: 0.5 s crossfades, music bed, two-pass loudness to -16 LUFS, "
        "contact sheet)"
    )


if __name__ == "__main__":
    main()
