"""Bench: the iteration loop (issue 10). A 12-scene film (4 s scenes, 1280x720, crossfades, a
music bed, loudness normalisation) rendered on the emulator, each render a fresh
``storyboard render`` process:

1. the first render (everything generated and composed): its compose time is the baseline;
2. a no-op render, three times: the first is answered from the stamp the first render left
   (a render that did work rehearses the no-op after it: ``storyboard/cli/noop.py``); then
   with the stamp removed, checked in full; then from the stamp again; whole-process wall time
   (target < 0.3 s) and CPU time (user + system, which a loaded machine does not inflate), tasks
   charged and chunks encoded (both must be 0: the film is up to date);
3. one prompt edited (the middle scene): compose time of that render / the first compose
   (target <= 0.15);
4. the music volume changed: compose time / the first compose (target <= 0.3);
5. the floor of a one-scene edit on this machine, measured in the same run: the CPU seconds of
   the work no edit can skip (as many of the edited take's frames as the edit encoded through
   the film's x264 settings, once: the rest of the take is copied;
   as many seconds of the film's sound as the take lasts through its AAC encoder, once: the
   loudness gain is kept across such an edit, so no other sound changes), divided by the cores
   this process may use (perfect packing, and nothing else: no neighbour decodes, mixing,
   measuring, joining or Python), over the first compose.

Before those: ``storyboard --version`` and ``--help``, best of 3 (target < 0.15 s). Every timed
process runs without PYTHONDONTWRITEBYTECODE (set in some environments: every start would
compile every module).

Compose times are what ``render`` reports (``composed in X s``), measured in the same run as
the baseline. Clips are full size unless ``--draft``.

    python bench/iterate.py [--runs 1] [--scenes 12] [--draft] [--tiny]

``--tiny``: three draft scenes cut at the draft size (320x180), one run, ``--version`` and
``--help`` timed once (the test suite runs it; its figures mean nothing).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from storyboard.emulator import Emulator, EmulatorConfig
from storyboard.media.ffmpeg import ffmpeg_exe


def make_project(root: Path, scenes: int, size: str | None = None) -> Path:
    p = root / "film"
    p.mkdir()
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=196:r=48000:d=20"]
        + ["-ac", "2", str(p / "music.wav")],
        check=True,
    )
    lines = "".join(
        f'  - {{id: s{i:02d}, prompt: "Shot {i}: the harbour at hour {i}."}}\n'
        for i in range(1, scenes + 1)
    )
    output = f"output: {{size: {size}}}\n" if size else ""  # else the film at the clips' size
    (p / "storyboard.yaml").write_text(
        "title: Iterate Bench\n"
        "defaults: {duration: 4}\n"
        "edit:\n"
        "  transition: {type: crossfade, duration: 0.5}\n"
        "  music: {file: music.wav, volume: 0.3}\n"
        "  loudness: -16\n"
        f"{output}scenes:\n{lines}"
    )
    return p


def clean_env() -> dict[str, str]:
    """The environment of the timed processes: without PYTHONDONTWRITEBYTECODE (which some
    environments set), so modules load from their compiled files as on a user's machine."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one ``storyboard`` process."""
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "storyboard", *argv], env=env, capture_output=True)
    wall = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)


def render(p: Path, emu: Emulator) -> dict[str, float | str]:
    env = {**clean_env(), "RUNWARE_API_KEY": "bench", "RUNWARE_BASE_URL": emu.base_url}
    charged = len(emu.ledger)
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "storyboard", "render", str(p), "--quiet"],
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    if proc.returncode != 0:
        sys.exit(f"render failed:\n{proc.stdout}\n{proc.stderr}")
    m = re.search(
        r"composed in ([\d.]+) s: (\d+) chunks encoded, (\d+) from the cache", proc.stderr
    )
    return {
        "wall": wall,
        "cpu": cpu,
        "compose": float(m.group(1)) if m else 0.0,
        "encoded": int(m.group(2)) if m else 0,
        "frames": int(f.group(1))
        if (f := re.search(r"(\d+) of \d+ frames encoded", proc.stderr))
        else 0,
        "reused": int(m.group(3)) if m else 0,
        "charged": len(emu.ledger) - charged,
        "up_to_date": "film up to date" in proc.stderr,
    }


def cpu_of(argv: list[str]) -> float:
    """CPU seconds (user + system) of one child process."""
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, check=True, capture_output=True)
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)


def edit_floor(p: Path, scene: int, frames: int) -> dict[str, float]:
    """CPU seconds of what a one-scene edit cannot skip, each done once and alone: as many of
    the edited take's frames as the edit encoded (the rest of the take is copied) through the
    film's encoder, as many seconds of the film's sound as the take lasts through its AAC
    encoder."""
    import yaml

    from storyboard.board.spec import load_project
    from storyboard.cut.compose import output_path
    from storyboard.cut.picture import chunk_codec_args
    from storyboard.media.ffmpeg import audio_codec_args
    from storyboard.media.probe import media_duration

    project = load_project(p)
    out = project.board.output
    lock = yaml.safe_load((p / "storyboard.lock").read_text())
    take = p / lock["scenes"][f"s{scene:02d}"]["file"]
    film = output_path(project)
    ff = [ffmpeg_exe(), "-v", "error", "-nostdin", "-y"]
    with tempfile.TemporaryDirectory() as d:
        pcm = Path(d) / "sound.wav"
        subprocess.run([*ff, "-i", str(film), "-vn", "-c:a", "pcm_s16le", str(pcm)], check=True)
        picture = cpu_of(
            [*ff, "-threads", "1", "-i", str(take), "-map", "0:v:0", "-an"]
            + ["-frames:v", str(frames)]
            + [*chunk_codec_args(out.format, out.quality), "-threads", "1", f"{d}/take.mp4"]
        )
        seconds = media_duration(take)
        sound = cpu_of(
            [*ff, "-i", str(pcm), "-t", f"{seconds:.3f}", *audio_codec_args(out.format)]
            + [f"{d}/sound.m4a"]
        )
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"picture": picture, "sound": sound, "cores": float(cores or 1)}


def edit(p: Path, old: str, new: str) -> None:
    f = p / "storyboard.yaml"
    text = f.read_text()
    assert old in text, old
    f.write_text(text.replace(old, new))


def edit_one_prompt(p: Path, scenes: int) -> int:
    """Edit the prompt of the middle scene (6 of 12; 1 of 1); returns its number."""
    k = (scenes + 1) // 2
    edit(p, f"Shot {k}: the harbour", f"Shot {k}: the empty harbour")
    return k


def one_run(scenes: int, draft: bool, size: str | None = None) -> dict[str, float]:
    with (
        tempfile.TemporaryDirectory() as d,
        Emulator(EmulatorConfig(latency=0.2, draft=draft, render_workers=2)) as emu,
    ):
        p = make_project(Path(d), scenes, size)
        first = render(p, emu)  # did work, then rehearsed the no-op (its stamp left)
        after = render(p, emu)  # the first render again: answered from that stamp
        (p / "build" / ".noop-render.json").unlink()
        check = render(p, emu)  # no stamp: checked in full (and the stamp left again)
        noop = render(p, emu)  # the same again: answered from the stamp
        k = edit_one_prompt(p, scenes)
        prompt = render(p, emu)
        floor = edit_floor(p, k, int(prompt["frames"]))
        edit(p, "volume: 0.3", "volume: 0.5")
        music = render(p, emu)
    print(
        f"  first render {first['wall']:.1f} s (compose {first['compose']:.1f} s, "
        f"{first['encoded']} chunks)"
    )
    print(
        f"  first render again (from the stamp the render left) {after['wall']:.2f} s wall "
        f"({after['cpu']:.2f} s CPU), {after['charged']} charged, film up to date: "
        f"{after['up_to_date']}"
    )
    print(
        f"  no-op render without a stamp (full check) {check['wall']:.2f} s wall "
        f"({check['cpu']:.2f} s CPU), film up to date: {check['up_to_date']}"
    )
    print(
        f"  no-op render {noop['wall']:.2f} s wall ({noop['cpu']:.2f} s CPU), "
        f"{noop['charged']} charged, "
        f"{noop['encoded']} chunks encoded, film up to date: {noop['up_to_date']}"
    )
    print(
        f"  prompt edit: compose {prompt['compose']:.1f} s ({prompt['encoded']} encoded, "
        f"{prompt['reused']} reused), {prompt['charged']} task charged"
    )
    print(
        f"  music volume: compose {music['compose']:.1f} s ({music['encoded']} encoded, "
        f"{music['reused']} reused), {music['charged']} charged"
    )
    least = (floor["picture"] + floor["sound"]) / floor["cores"]
    print(
        f"  floor of a one-scene edit here: {prompt['frames']} of the new take's frames (those "
        f"the edit encoded) through the film's encoder {floor['picture']:.2f} s CPU + "
        f"its length of the film's sound through AAC "
        f"{floor['sound']:.2f} s CPU, "
        f"on {floor['cores']:.0f} cores at best {least:.2f} s = "
        f"{least / float(first['compose']):.3f}x the first compose"
    )
    return {
        "floor_ratio": least / float(first["compose"]),
        "check_wall": float(check["wall"]),
        "after_wall": float(after["wall"]),
        "noop_wall": float(noop["wall"]),
        "noop_cpu": float(noop["cpu"]),
        "noop_charged": float(noop["charged"]),
        "noop_encoded": float(noop["encoded"]),
        "prompt_ratio": float(prompt["compose"]) / float(first["compose"]),
        "music_ratio": float(music["compose"]) / float(first["compose"]),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--scenes", type=int, default=12)
    ap.add_argument("--draft", action="store_true", help="small emulator clips (fast)")
    ap.add_argument(
        "--tiny", action="store_true", help="3 draft scenes at 320x180, one run (smoke test)"
    )
    args = ap.parse_args()
    if args.scenes < 1:
        ap.error("--scenes must be at least 1")
    size, best_of = None, 3
    if args.tiny:
        args.runs, args.scenes, args.draft, size, best_of = 1, 3, True, "320x180", 1
    env = clean_env()
    timed(["--version"], env)  # compiled files written once, as after an install
    for argv in (["--version"], ["--help"]):
        wall, cpu = min(timed(argv, env) for _ in range(best_of))
        print(f"storyboard {argv[0]}: {wall:.3f} s wall ({cpu:.3f} s CPU; best of {best_of})"
              f"  target < 0.15 s")  # fmt: skip
    results = []
    for i in range(args.runs):
        print(f"run {i + 1}:")
        r = one_run(args.scenes, args.draft, size)
        results.append(r)
        print(
            f"  ratios: prompt edit {r['prompt_ratio']:.3f}x (target <= 0.15), "
            f"music change {r['music_ratio']:.3f}x (target <= 0.3); "
            f"edit floor here {r['floor_ratio']:.3f}x; "
            f"no-op {r['after_wall']:.2f} s wall after a render, {r['noop_wall']:.2f} s "
            f"repeated, {r['check_wall']:.2f} s in full (target < 0.3 s)"
        )
    if len(results) > 1:

        def span(k: str) -> str:
            vals = [r[k] for r in results]
            return f"{min(vals):.3f}-{max(vals):.3f}"

        print(
            f"over {len(results)} runs: prompt edit {span('prompt_ratio')}x, "
            f"music change {span('music_ratio')}x, no-op {span('noop_wall')} s wall, "
            f"{span('noop_cpu')} s CPU"
        )


if __name__ == "__main__":
    main()
