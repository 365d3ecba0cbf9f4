"""The review page's data: one JSON snapshot of the storyboard, its takes, the film and the money.

Read fresh from disk each time (storyboard, journal, lock, writer lock), so the page shows what
any process is doing to the project, not only the review server's own renders.
"""

from __future__ import annotations

import html
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from storyboard.errors import StoryboardError

if TYPE_CHECKING:
    from .library import ReviewProject

WATCHED = ("storyboard.yaml", "storyboard.lock", "build/journal.sqlite", "build/journal.sqlite-wal")


def media_url(rel: str, version: float | int = 0) -> str:
    """The page's URL of a project file (the token is added by the page)."""
    url = "/media/" + quote(rel)
    return f"{url}?v={int(version)}" if version else url


def fingerprint(root: Path, file: Path) -> tuple:
    """What changes when anything the page shows changes: stat of the state files and sources.

    Cheap (a few ``stat`` calls and two small folder listings), so it is polled twice a second.
    """
    paths = [file, *(root / p for p in WATCHED[1:]), root / "build" / ".lock"]
    paths.extend(sorted(root.glob("storyboard.*.lock")))  # the variants' films (issue 20)
    for folder in ("templates", "assets", "build"):
        try:
            paths.extend(sorted((root / folder).iterdir()))
        except OSError:
            pass
    out = []
    for p in paths:
        try:
            st = p.stat()
            out.append((p.name, st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((p.name, 0, 0))
    return tuple(out)


def _first_frame(request: dict[str, Any]) -> str | None:
    frames = (request.get("inputs") or {}).get("frameImages") or []
    image = str(frames[0].get("image", "")) if frames else ""
    if image.startswith("${file:"):
        return image[len("${file:") : -1]
    if image.startswith("${take:"):  # a board (issue 17): the node whose chosen take it is
        return image[len("${take:") : -1]
    return image if image.startswith("https://") else None


def snapshot(project: ReviewProject) -> dict[str, Any]:
    """Everything the page shows, as JSON-ready data."""
    from storyboard.api import review as extras

    from .nodes import Nodes, row_state, take_rows

    try:
        api = project.load()
        plan = api.plan(draft=project.draft)
        status = api.status(draft=project.draft)
    except StoryboardError as e:
        return {"error": str(e), "root": str(project.root)}
    writing = extras.writer(api)
    if writing is not None and writing[1] == os.getpid():
        writing = None  # this server's own action: the page reports it as its job
    journal = extras.activity(api)
    takes = api.all_takes([s.scene for s in status.scenes], draft=project.draft)
    nodes = Nodes(api, plan, status, journal, writing is not None, takes)
    rows = {s.scene: s for s in status.scenes}
    scenes = []
    for p in plan.scenes:
        st = rows[p.scene]
        state, reasons, since, error = row_state(st, journal.get(p.scene), writing is not None)
        rows_of = take_rows(takes.get(p.scene, []))
        scenes.append(
            {
                "id": p.scene,
                "prompt": p.prompt,
                "model": p.request.get("model", plan.model),
                "duration": p.duration,
                "mode": p.mode,
                "source": p.source if p.mode != "cut" else None,
                "first_frame": _first_frame(p.request),
                "status": state,
                "reasons": reasons,
                "since": since,
                "error": error,
                "cost": p.cost,
                "next_cost": st.next_cost,
                "take": st.take,
                "takes": rows_of,
                "board": nodes.board(p.scene),  # issue 17: its keyframe, beside its clip
                "sounds": nodes.sounds_of(p.scene),  # issue 18: its lines, effects, lip sync
            }
        )
    film = status.film
    suffix = "" if api.variant_name == "main" else f".{api.variant_name}"
    return {
        "title": api.title,
        "root": str(project.root),
        "model": plan.model,
        "real": api.real,
        "scenes": scenes,
        "cast": nodes.cast(),
        "music": nodes.music(),
        "next_cost": status.next_cost,
        # every task a render makes or fetches, the sounds too (hostile B1: only the clips)
        "stale": [
            s.scene
            for s in status.scenes
            if (s.stale and s.action != "for render --boards") or s.action == "re-download"
        ],
        "spent": status.spent,
        "money": status.money,
        "rendering": {"what": writing[0], "pid": writing[1]} if writing else None,
        "film": _film(project, film.reasons if film and not film.up_to_date else []),
        "contact_sheet": _maybe(
            project.root, project.root / "build" / f"contact-sheet{suffix}.png"
        ),
        "animatic": _maybe(project.root, api.animatic_file),  # issue 17: render --boards
        "variant": api.variant_name,
        "variants": ["main", *api.variants],
        "now": time.time(),
    }


def _maybe(root: Path, path: Path) -> str | None:
    try:
        rel = path.resolve().relative_to(root.resolve())
        return media_url(str(rel), os.stat(path).st_mtime) if path.is_file() else None
    except (OSError, ValueError):
        return None


def _film(project: ReviewProject, outdated: list[str]) -> dict[str, Any] | None:
    try:
        cut = project.film_cut()
    except StoryboardError as e:  # a take it plays cannot be read: the film is still shown
        url = _maybe(project.root, project.film_file())
        if url is None:
            return None
        return {
            "url": url,
            "duration": 0.0,
            "chapters": [],
            "outdated": [str(e)],
            "captions": False,
        }
    if cut is None:
        return None
    url = _maybe(project.root, cut.path)
    if url is None:
        return None
    return {
        "url": url,
        "duration": cut.duration,
        "chapters": [{"scene": c.scene, "start": c.start} for c in cut.chapters],
        "outdated": outdated,
        "captions": bool(cut.captions),
    }


def vtt(cues: list[tuple[float, float, str]]) -> str:
    """WebVTT text of ``(start, end, text)`` cues."""

    def ts(x: float) -> str:
        ms = int(round(x * 1000))
        h, ms = divmod(ms, 3_600_000)
        m, ms = divmod(ms, 60_000)
        s, ms = divmod(ms, 1000)
        return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"

    def payload(text: str) -> str:
        """Cue text is markup: ``<`` opens a tag, ``&`` an entity, a blank line ends the cue
        (hostile helper-62: a line's ``<b>`` and ``&amp;`` were not shown as written)."""
        lines = html.escape(text, quote=False).splitlines()
        return "\n".join(line for line in lines if line.strip()) or " "

    blocks = [
        f"{i}\n{ts(a)} --> {ts(b)}\n{payload(text)}\n" for i, (a, b, text) in enumerate(cues, 1)
    ]
    return "WEBVTT\n\n" + "\n".join(blocks)


def film_tracks(project: ReviewProject) -> tuple[str, str]:
    """The film's captions and chapters as WebVTT (empty files when there is no film yet)."""
    try:
        cut = project.film_cut()
    except StoryboardError:
        cut = None
    if cut is None:
        return vtt([]), vtt([])
    captions = [(c.start, c.end, c.text) for c in cut.captions]
    chapters = [(c.start, c.end, c.scene) for c in cut.chapters]
    return vtt(captions), vtt(chapters)
