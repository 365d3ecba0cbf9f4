"""Bench: the final cut (issues 5 and 19). Twelve 8 s 1280x720 clips with audio, 30 fps,
H.264 with a keyframe every 2 s (the film's codec, size, frame rate, pixel format and colour
tags, so their untouched stretches qualify for copying).

Measured in the same run, each side in its own fresh process, with peak memory of the whole
process tree (python + ffmpeg children, RSS summed, sampled every 20 ms):

* cuts only (plain cuts, audio untouched: stream copy) against a bare
  ``ffmpeg -f concat -c copy`` of the same clips;
* the full path (0.5 s crossfades, a music bed ducked under dialogue, two-pass loudness to
  -16 LUFS, captions, contact sheet) against
  - one hand-written ffmpeg graph (xfade + acrossfade + amix + one-pass loudnorm, x264
    veryfast crf 17: what a savvy user types by hand, doing less), and
  - a bare moviepy ``concatenate_videoclips(...).write_videofile(...)``;
* the share of the full path's frames that were encoded (the rest are copied GOPs).

Both storyboard sides start from the state a render leaves: each take probed and its first and
last thumbnails made by the executor right after its download (the cuts-only side also reports
its cold time, with those still to make).

    python bench/compose.py [--clips 12] [--seconds 8] [--tiny]
    taskset -c 0,1 python bench/compose.py      # the 2-core row

``--tiny`` runs every side on three 2 s 320x180 clips in seconds (the test suite runs it, so a
bench that breaks fails CI); its figures mean nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.fixtures import make_clips, tiny_project  # noqa: E402

CROSSFADE = 0.5


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


def run(label: str, code: str) -> tuple[float, float, dict[str, float]]:
    """Run python code in a fresh process: (seconds, peak MB of the process tree, the
    ``KEY value`` lines the code prints on stdout)."""
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
        raise SystemExit(f"bench side {label!r} failed (exit {proc.returncode})")
    values = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].isupper():
            values[parts[0]] = float(parts[1])
    return secs, peak / 1024, values


def hand_graph(clips: list[Path], seconds: float, bed: Path, dest: Path) -> list[str]:
    """The one ffmpeg command a savvy user writes: xfade + acrossfade chains, the music bed
    looped and mixed under them (amix), one-pass loudnorm, x264 veryfast crf 17."""
    n = len(clips)
    args: list[str] = []
    for c in clips:
        args += ["-i", str(c)]
    args += ["-stream_loop", "-1", "-i", str(bed)]
    parts = []
    v, a = "[0:v]", "[0:a]"
    for k in range(1, n):
        offset = k * (seconds - CROSSFADE)
        parts.append(
            f"{v}[{k}:v]xfade=transition=fade:duration={CROSSFADE}:offset={offset:.3f}[v{k}]"
        )
        parts.append(f"{a}[{k}:a]acrossfade=d={CROSSFADE}[a{k}]")
        v, a = f"[v{k}]", f"[a{k}]"
    parts.append(f"[{n}:a]volume=0.3[bed]")
    parts.append(
        f"{a}[bed]amix=inputs=2:duration=first:normalize=0,loudnorm=I=-16:TP=-1,"
        "aresample=48000[aout]"
    )
    return [
        *args,
        "-filter_complex",
        ";".join(parts),
        "-map",
        v,
        "-map",
        "[aout]",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        "17",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-b:a",
        "192k",
        str(dest),
    ]


COMPOSE = """
    import time
    t0 = time.perf_counter()
    from storyboard.board.spec import load_project
    from storyboard.generate.state import BuildState
    from storyboard.cut.compose import compose_film
    p = load_project({root!r}); s = BuildState(p.root)
    r = compose_film(p, s, log=lambda m: None)
    print("WORK", time.perf_counter() - t0)
    print("FRAMES", r.frames)
    print("ENCODED", r.frames_encoded)
"""

FFMPEG = """
    import subprocess, time
    from storyboard.media.ffmpeg import ffmpeg_exe
    t0 = time.perf_counter()
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *{args!r}], check=True)
    print("WORK", time.perf_counter() - t0)
"""


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (5 min {five:.1f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=12)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--tiny", action="store_true", help="three 2 s 320x180 clips (smoke test)")
    args = ap.parse_args()
    size, reps = (1280, 720), 7
    if args.tiny:
        args.clips, args.seconds, size, reps = 3, 2.0, (320, 180), 1
    cpus = len(os.sched_getaffinity(0))
    print(f"{cpus} CPUs usable (affinity); {load()} at the start")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        clips = make_clips(tmp, args.clips, args.seconds, size)
        listing = tmp / "list.txt"
        listing.write_text("".join(f"file '{c}'\n" for c in clips))
        cuts = tiny_project(tmp / "cuts", clips, size, "{loudness: 'off', captions: 'off'}")
        full = tiny_project(
            tmp / "full",
            clips,
            size,
            f"{{transition: {{type: crossfade, duration: {CROSSFADE}}}, "
            "music: {file: bed.mp3, volume: 0.3}, loudness: -16, captions: srt}",
            dialogue=True,
            rendered=True,
        )
        bare_copy = FFMPEG.format(
            args=[
                "-f",
                "concat",
                "-safe",
                "0",
                "-i",
                str(listing),
                "-c",
                "copy",
                str(tmp / "b.mp4"),
            ]
        )
        hand = FFMPEG.format(args=hand_graph(clips, args.seconds, full / "bed.mp3", tmp / "h.mp4"))
        moviepy = f"""
            import time
            t0 = time.perf_counter()
            from moviepy import VideoFileClip, concatenate_videoclips
            clips = [VideoFileClip(str(p)) for p in {[str(c) for c in clips]!r}]
            concatenate_videoclips(clips).write_videofile({str(tmp / "m.mp4")!r}, logger=None)
            for c in clips: c.close()
            print("WORK", time.perf_counter() - t0)
        """
        # warm the interpreter, imports and page cache once so every side pays the same
        run("warm-up", "import storyboard.cut.compose, moviepy")
        b_copy, m_copy, _ = run("bare concat copy", bare_copy)
        cold, _, _ = run("cuts only, cold", COMPOSE.format(root=str(cuts)))
        # the state right after a render: each take's media info and thumbnails already made
        # by the executor (build/media, build/thumbs); no film, no contact sheet yet
        for f in (cuts / "build").glob("*.*"):
            f.unlink()
        c_copy, mc_copy, _ = run("cuts only", COMPOSE.format(root=str(cuts)))
        _, _, join = run(
            "cuts-only join",
            f"""
            import statistics, subprocess, time
            from storyboard.cut.compose import compose_project
            from storyboard.media.ffmpeg import ffmpeg_exe
            from storyboard.board.spec import load_project
            from storyboard.generate.state import BuildState
            p = load_project({str(cuts)!r}); s = BuildState(p.root)
            ours, bare = [], []
            for _ in range({reps}):
                for f in (p.root / "build").glob("*.*"):
                    f.unlink()
                t0 = time.perf_counter(); compose_project(p, s, log=lambda m: None)
                t1 = time.perf_counter()
                subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "concat", "-safe", "0",
                                "-i", {str(listing)!r}, "-c", "copy", {str(tmp / "b.mp4")!r}],
                               check=True)
                t2 = time.perf_counter(); ours.append(t1 - t0); bare.append(t2 - t1)
            print("RATIO", statistics.median(ours) / statistics.median(bare))
            """,
        )
        t_hand, m_hand, _ = run("hand-written ffmpeg graph", hand)
        t_mp, m_mp, _ = run("bare moviepy", moviepy)
        t_full, m_full, full_v = run("full path", COMPOSE.format(root=str(full)))
        after = load()
    film = args.clips * args.seconds
    print(
        f"{args.clips} clips x {args.seconds:g} s at {size[0]}x{size[1]} ({film:g} s of film), "
        f"each side a fresh process (times include Python start-up); {after} at the end"
    )
    print(
        f"cuts only:  {c_copy:6.2f} s  bare ffmpeg concat -c copy: {b_copy:6.2f} s  "
        f"ratio {c_copy / b_copy:5.2f}x (whole processes); join alone "
        f"{join['RATIO']:.2f}x (median of {reps}, one process)  target <= 1.5x   "
        f"peak {mc_copy:4.0f} MB (bare {m_copy:3.0f} MB); cold (thumbnails to make): "
        f"{cold:.2f} s"
    )
    share = full_v["ENCODED"] / full_v["FRAMES"] if full_v.get("FRAMES") else 1.0
    print(
        f"full path:  {t_full:6.2f} s  peak {m_full:5.0f} MB; {share:.0%} of its frames encoded "
        f"({full_v.get('ENCODED', 0):.0f} of {full_v.get('FRAMES', 0):.0f}), the rest copied"
    )
    print(
        f"  hand-written ffmpeg graph: {t_hand:6.2f} s  peak {m_hand:5.0f} MB   "
        f"ours / hand    {t_full / t_hand:5.2f}x  target <= 1.0x"
    )
    print(
        f"  bare moviepy:              {t_mp:6.2f} s  peak {m_mp:5.0f} MB   "
        f"ours / moviepy {t_full / t_mp:5.2f}x  target <= 0.5x; "
        f"peak memory {'below' if m_full < m_mp else 'NOT below'} moviepy's"
    )


if __name__ == "__main__":
    main()
