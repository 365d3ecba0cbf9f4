"""The review page's data: one JSON snapshot of the storyboard, its takes, the film and the money.

Read fresh from disk each time (storyboard, journal, lock, writer lock), so the page shows what
any process is doing to the project, not only the review server's own renders.
"""

from __future__ import annotations

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


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts else ""


def snapshot(project: ReviewProject) -> dict[str, Any]:
    """Everything the page shows, as JSON-ready data."""
    from storyboard.generate.staleness import assess

    from .library import take_request

    try:
        spec, plan = project.load()
    except StoryboardError as e:
        return {"error": str(e), "root": str(project.root)}
    rendering = project.rendering()
    state = project._state()
    try:
        found = assess(plan, state, None, False, project.maker())
        journal = project.in_flight(state)
        scenes = []
        for t in plan.tasks:
            a = found[t.scene]
            chosen = state.lock.get(t.scene)
            status, since, error = ("stale" if a.stale else "up to date"), 0.0, None
            last = journal.get(t.scene)
            if last and last[0] in ("pending", "submitted") and rendering:
                status, since = "generating", last[1]
            elif last and last[0] == "failed" and a.stale:
                status, error = "failed", last[2]
            takes = []
            for k in state.takes(t.scene):
                req = take_request(state, k)
                size = f"{req['width']}x{req['height']}" if "width" in req else ""
                takes.append(
                    {
                        "n": k.n,
                        "url": media_url(k.file, k.created_at),
                        "file": k.file,
                        "model": req.get("model", ""),
                        "size": size,
                        "made": _iso(k.created_at),
                        "cost": k.cost or 0.0,
                        "duration": k.duration or 0.0,
                        "chosen": chosen is not None and chosen.video_uuid == k.video_uuid,
                        "current": k.key == a.key,
                        "missing": not state.file_ok(k),
                        "nsfw": k.nsfw,
                    }
                )
            scenes.append(
                {
                    "id": t.scene,
                    "prompt": t.prompt,
                    "model": t.request.get("model", plan.profile.air),
                    "duration": t.duration,
                    "mode": t.mode,
                    "source": t.source if t.mode != "cut" else None,
                    "first_frame": t.first_frame,
                    "status": status,
                    "reasons": list(a.reasons),
                    "since": since,
                    "error": error,
                    "cost": t.cost,
                    "next_cost": a.cost if a.stale else 0.0,
                    "take": chosen.n if chosen else None,
                    "takes": takes,
                }
            )
        spent = state.spent()
    finally:
        state.close()
    return {
        "title": spec.board.title,
        "root": str(project.root),
        "model": plan.profile.air,
        "maker": project.maker(),
        "scenes": scenes,
        "next_cost": sum(s["next_cost"] for s in scenes),
        "stale": [s["id"] for s in scenes if s["status"] != "up to date"],
        "spent": spent,
        "rendering": {"what": rendering[0], "pid": rendering[1]} if rendering else None,
        "film": _film(project),
        "contact_sheet": _maybe(project.root, spec.build / "contact-sheet.png"),
        "now": time.time(),
    }


def _maybe(root: Path, path: Path) -> str | None:
    try:
        rel = path.resolve().relative_to(root.resolve())
        return media_url(str(rel), os.stat(path).st_mtime) if path.is_file() else None
    except (OSError, ValueError):
        return None


def _film(project: ReviewProject) -> dict[str, Any] | None:
    try:
        got = project.film_timeline()
    except StoryboardError:
        return None
    if got is None:
        return None
    path, tl = got
    url = _maybe(project.root, path)
    if url is None:
        return None
    lock = project.root / "storyboard.lock"
    older = lock.is_file() and path.stat().st_mtime < lock.stat().st_mtime
    chapters = []
    for i, seg in enumerate(tl.segments):
        # a chapter starts where its scene is fully on screen: the middle of a transition
        chapters.append(
            {"scene": seg.scene, "start": round(seg.start + seg.overlap / 2, 3), "n": i}
        )
    return {
        "url": url,
        "duration": tl.duration,
        "chapters": chapters,
        "older_than_lock": older,
        "captions": bool(tl.captions),
    }


def vtt(cues: list[tuple[float, float, str]]) -> str:
    """WebVTT text of ``(start, end, text)`` cues."""

    def ts(x: float) -> str:
        ms = int(round(x * 1000))
        h, ms = divmod(ms, 3_600_000)
        m, ms = divmod(ms, 60_000)
        s, ms = divmod(ms, 1000)
        return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"

    blocks = [f"{i}\n{ts(a)} --> {ts(b)}\n{text}\n" for i, (a, b, text) in enumerate(cues, 1)]
    return "WEBVTT\n\n" + "\n".join(blocks)


def film_tracks(project: ReviewProject) -> tuple[str, str]:
    """The film's captions and chapters as WebVTT (empty files when there is no film yet)."""
    try:
        got = project.film_timeline()
    except StoryboardError:
        got = None
    if got is None:
        return vtt([]), vtt([])
    _, tl = got
    captions = [(c.start, c.end, c.text) for c in tl.captions]
    chapters = []
    for seg in tl.segments:
        chapters.append((seg.start + seg.overlap / 2, seg.end, seg.scene))
    chapters = [
        (a, chapters[i + 1][0] if i + 1 < len(chapters) else b, s)
        for i, (a, b, s) in enumerate(chapters)
    ]
    return vtt(captions), vtt(chapters)
