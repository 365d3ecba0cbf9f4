"""Helpers the tests share: tiny projects and images."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def write_project(root: Path, storyboard: str, files: dict[str, str | bytes] | None = None) -> Path:
    """A project folder under ``root`` with the given storyboard text and extra files."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "storyboard.yaml").write_text(
        textwrap.dedent(storyboard).lstrip("\n"), encoding="utf-8"
    )
    for name, content in (files or {}).items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


def png_bytes(
    width: int = 64, height: int = 36, color: tuple[int, int, int] = (200, 50, 50)
) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, format="PNG")
    return buf.getvalue()


def wav_bytes() -> bytes:
    """A real, tiny WAV (0.1 s of silence): validate checks that a sound file has audio."""
    import io
    import wave

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 800)
    return buf.getvalue()


class Clock:
    """An injected clock for the client: ``sleep`` advances time at once (and yields)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.now += s
        await asyncio.sleep(0)


def dead_pid() -> int:
    """The id of a process that has exited (nothing owns it now)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def plant(folder: Path, prefix: str) -> tuple[Path, Path, Path]:
    """A dead owner's folder, a live owner's folder and one with no owner in its name."""
    dead = folder / f"{prefix}{dead_pid()}-abc"
    live = folder / f"{prefix}{os.getppid()}-def"
    anon = folder / f"{prefix}xyz"
    for d in (dead, live, anon):
        (d / "sub").mkdir(parents=True)
        (d / "sub" / "part.mp4").write_bytes(b"x")
    return dead, live, anon


@contextmanager
def ctrl_c_as_in_a_terminal() -> Iterator[None]:
    """Ctrl-C (SIGINT) at Python's default inside, as when a terminal starts the process.

    A test process started in the background by a non-interactive shell (``pytest ... &``)
    inherits SIGINT *ignored*, and Python leaves it so: a Ctrl-C test would then see its
    Ctrl-C lost (issue 21). The previous handler is put back after."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


@contextmanager
def stand_in(
    monkeypatch: Any, latency: float = 0.05, key: str = "test-key", **config: Any
) -> Iterator[Any]:
    """The emulator standing in for the real service: it does not say what it is, so its
    takes count as paid ones, and RUNWARE_API_KEY and RUNWARE_BASE_URL point at it."""
    from storyboard.emulator import Emulator, EmulatorConfig

    cfg = EmulatorConfig(latency=latency, draft=True, identify=False, **config)
    with Emulator(cfg) as emu:
        monkeypatch.setenv("RUNWARE_API_KEY", key)
        monkeypatch.setenv("RUNWARE_BASE_URL", emu.base_url)
        yield emu


# -- the review page in a real browser: Debian's Chromium driven by Playwright --------------

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]


def chromium() -> str | None:
    """Debian's Chromium (``CHROMIUM`` names another), or None when there is none."""
    import shutil

    found = (os.environ.get("CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium")
    path = next((p for p in found if p), None)
    return path if path is not None and Path(path).is_file() else None


NO_CHROMIUM = "no Chromium: install it with `apt-get install -y chromium` (or set CHROMIUM=path)"


@contextmanager
def browser_page(
    profile: Path, width: int, height: int, args: list[str] | None = None
) -> Iterator[object]:
    """A page of a headless Chromium with a fresh profile at ``profile`` (the caller skips
    when :func:`chromium` finds none, or Playwright is missing)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=chromium(),
            args=args or CHROMIUM_ARGS,
            viewport={"width": width, "height": height},
        )
        try:
            pg = context.new_page()
            pg.set_default_timeout(60_000)
            yield pg
        finally:
            context.close()


def lock_take(p: Path, name: str) -> int:
    """The take number ``storyboard.lock`` puts in the cut for ``name`` (a scene or a task)."""
    import yaml

    return int(yaml.safe_load((p / "storyboard.lock").read_text())["scenes"][name]["take"])


def pick(pg: Any, take: str) -> None:
    """Click Pick on the take at selector ``take`` and wait until the page shows it chosen."""
    pg.click(f"{take} button.pick")
    pg.wait_for_selector(f"{take}.chosen")


def screenshot_if_asked(pg: Any, env: str) -> None:
    """A full-page screenshot at the path in environment variable ``env`` (relative to the
    repository), when it is set: for looking at the page by eye."""
    shot = os.environ.get(env)
    if shot:
        pg.screenshot(path=str(REPO / shot), full_page=True)
