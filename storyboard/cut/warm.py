"""The cut's modules, loaded while a render waits on the service (issue 19).

The command line imports only what a command needs (start-up stays instant), so a render that
goes on to compose used to load the cut (its modules, numpy, Pillow: about a quarter of a second
of CPU on a small machine) after the last take arrived, on the way to the film. A render with
work for the service spends seconds waiting on it with its CPUs idle: it loads them then, in a
background thread, and the compose that follows finds them loaded. A render with nothing to
send starts no thread (the no-op render stays as quick as it was).
"""

from __future__ import annotations

import atexit
import importlib
import threading

MODULES = (
    "storyboard.cut.compose",
    "storyboard.cut.sound",
    "storyboard.cut.picture",
    "storyboard.cut.graph",
    "storyboard.cut.contact",
    "numpy",
    "wave",
    "PIL.Image",
    "PIL.ImageDraw",
    "PIL.ImageFont",
    "PIL.PngImagePlugin",
)
"""What a compose loads that a render has not (found with ``python -X importtime``)."""

EXIT_WAIT = 2.0
"""Seconds a process that ends while the modules load waits for them (a render with nothing
to compose), so it does not end in the middle of an import; they load in about 0.3 s. One
stopped by Ctrl-C does not wait (hostile helper-28: a slow import held it 10 s)."""

_lock = threading.Lock()
_thread: threading.Thread | None = None
_abandoned = threading.Event()


def warm_cut() -> threading.Thread:
    """Start loading :data:`MODULES` in a daemon thread (once per process); return it."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_load, name="storyboard-warm-cut", daemon=True)
            _thread.start()
            atexit.register(_join_at_exit, _thread)
        return _thread


def abandon() -> None:
    """The process is ending on a Ctrl-C: it does not wait for the modules at its exit."""
    _abandoned.set()


def _join_at_exit(thread: threading.Thread) -> None:
    if _abandoned.is_set():
        return
    try:
        thread.join(EXIT_WAIT)
    except KeyboardInterrupt:  # a Ctrl-C while it waits: no traceback
        pass


def _load() -> None:
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # the compose's own import says what is wrong, where it is used
            return
