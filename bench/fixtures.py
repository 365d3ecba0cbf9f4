"""What the benches build on: test clips, and a project whose storyboard.lock holds them as
takes (under ``build/takes/``, where the lock's confinement wants them)."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from storyboard.generate.fetch import ready_for_cut
from storyboard.generate.state import BuildState, Take
from storyboard.media.ffmpeg import ffmpeg_exe
from storyboard.media.probe import probe, probe_cached

FPS = 30


def make_clips(
    folder: Path, n: int, seconds: float, size: tuple[int, int] = (1280, 720)
) -> list[Path]:
    """``n`` clips of a moving test pattern with a tone each: H.264 in the film's own settings
    (yuv420p, BT.709 tags, a keyframe every 2 s) with AAC sound, like a generated take."""
    from storyboard.cut.picture import take_codec_args

    w, h = size
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
                f"testsrc2=s={w}x{h}:r={FPS}:d={seconds}",
                "-f",
                "lavfi",
                "-i",
                f"sine=f={220 + 30 * i}:r=48000:d={seconds}",
                *take_codec_args(FPS),
                "-c:a",
                "aac",
                "-shortest",
                str(p),
            ],
            check=True,
        )
        out.append(p)
    return out


def tiny_project(
    root: Path,
    clips: list[Path],
    size: tuple[int, int],
    edit: str,
    dialogue: bool = False,
    rendered: bool = False,
) -> Path:
    """A project of one scene per clip, each clip linked in as take 1 of its scene.

    ``rendered``: in the state a render leaves, where the executor has probed each take and
    made its first and last thumbnails and read its stream layout right after downloading it
    (build/media, build/thumbs).
    """
    root.mkdir()
    scenes = ""
    for i in range(len(clips)):
        line = f", dialogue: [{{who: A, line: 'Line {i}.'}}]" if dialogue and i % 2 else ""
        scenes += f"  - {{id: s{i:02d}, prompt: 'Shot {i}.', duration: 8{line}}}\n"
    w, h = size
    (root / "storyboard.yaml").write_text(
        f"title: Bench\nscenes:\n{scenes}edit: {edit}\noutput: {{size: {w}x{h}}}\n"
    )
    if "music" in edit:
        subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=330:r=48000:d=20"]
            + ["-c:a", "libmp3lame", str(root / "bed.mp3")],
            check=True,
        )
    state = BuildState(root)
    for i, c in enumerate(clips):
        scene = f"s{i:02d}"
        rel = f"build/takes/{scene}/take-1.mp4"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        os.link(c, root / rel)
        sha = hashlib.sha256(c.read_bytes()).hexdigest()
        state.lock[scene] = Take(
            scene, 1, "k", None, f"t{i}", f"v{i}", None, None, rel, c.stat().st_size, sha,
            0.8, probe(c).duration, made_by="emulator",
        )  # fmt: skip
    state.write_lock([f"s{i:02d}" for i in range(len(clips))])
    if rendered:  # what generate/fetch.py does after each download
        for take in state.lock.values():
            probe_cached([(root / take.file, take.media_key)], root / "build" / "media")
            ready_for_cut(root, take)  # thumbnails and the stream layout
    state.close()
    return root
