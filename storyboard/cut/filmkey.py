"""The film as an output with a key: is the film on disk the one the lock and storyboard make?

The key hashes everything that shapes the film: each chosen take's file hash and offset, each
scene's trim, transition and dialogue, the edit and output settings, the music file's content
and the compose code's version. ``build/film.json`` records the key (and its parts, so the
tool can say *why* the film is stale) of the last film written, with the film file's hash.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storyboard.board.schema import Scene
from storyboard.board.spec import Project
from storyboard.errors import StoryboardError
from storyboard.files import atomic_write, parse_json, resolve_inside

from .takes import ChosenTake

if TYPE_CHECKING:
    from .sound import Loudness

# bump whenever compose would write a different film from the same inputs (4: the copy path's
# sound joined apart, a scene as long as its picture, takes smart rendering no longer copies;
# 5: the picture tagged with BT.709 primaries and transfer, not the matrix alone; 6: one colour
# description for the whole film, whatever its takes' tags; 7: crossfades the exact blend, by
# overlay, not xfade; 8: a stretch starting inside a take's frame shows that frame, not the
# next one early: chunkjob.read_from; burnt-in captions in Noto Sans, not boxes for accents;
# 9: burnt-in captions sized from the frame's short side, a word wider than the frame broken;
# 10: takes turned, flipped, of other pixels or depths never joined as stored; even decode times)
COMPOSE_VERSION = "10"
STAMP_NAME = "film.json"
MAX_STAMP_BYTES = 16 * 1024 * 1024  # a film of thousands of scenes is a few hundred KB


@dataclass
class FilmStatus:
    """Whether the film on disk matches what a compose would make now, and why not."""

    key: str
    parts: dict[str, Any]
    reasons: list[str] = field(default_factory=list)

    @property
    def up_to_date(self) -> bool:
        return not self.reasons


def _digest(obj: object) -> str:
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def music_hash(project: Project) -> str | None:
    """Content hash of the music file (None without music or when it cannot be read)."""
    music = project.board.edit.music
    if music is None or music.file is None:
        return None
    p = resolve_inside(project.root, music.file)
    try:
        return file_sha256(p) if p is not None else None
    except OSError:
        return None


def film_parts(project: Project, takes: Mapping[str, ChosenTake]) -> dict[str, Any]:
    """The named pieces the film key is made of (compared one by one to give reasons)."""
    board = project.board
    edit = board.edit.model_dump(mode="json")
    music = edit.pop("music")
    if music:
        music.pop("price", None)  # what it costs is not in the film (hostile N13 F7)
    scenes = {}
    for s in board.scenes:
        t = takes.get(s.id)
        cut: dict[str, Any] = {
            "trim": s.trim.model_dump(mode="json") if s.trim else None,
            "transition": s.transition.model_dump(mode="json") if s.transition else None,
            "dialogue": [d.model_dump(mode="json", exclude_none=True) for d in s.dialogue],
        }
        sound = _scene_sound(project, s, takes)
        if sound:  # issue 18: lines' takes, narration, placed sounds, native_audio
            cut["sound"] = sound
        scenes[s.id] = {
            "take": f"{t.sha256}-{t.size}@{t.offset}" if t else None,
            "cut": _digest(cut),
        }
    return {
        "version": COMPOSE_VERSION,
        "order": [s.id for s in board.scenes],
        "scenes": scenes,
        "music": _digest({"settings": music, "file": music_hash(project), **_music_take(takes)})
        if music
        else None,
        "edit": _digest(edit),
        "output": _digest(
            {
                "output": board.output.model_dump(mode="json"),
                "size": board.size,
                "title": board.title,
                # variants (issue 20): only a crop changes the key (pad is the main film's way)
                **(
                    {"reframe": [project.reframe, *project.focus]}
                    if project.reframe == "crop"
                    else {}
                ),
            }
        ),
    }


def _scene_sound(project: Project, scene: Scene, takes: Mapping[str, ChosenTake]) -> dict[str, Any]:
    mine = (f"line:{scene.id}/", f"sfx:{scene.id}/")
    files = {}
    for x in scene.sounds:
        p = resolve_inside(project.root, x.file) if x.file else None
        try:
            files[str(x.file)] = file_sha256(p) if p is not None else None
        except OSError:
            files[str(x.file)] = None
    found = {
        "narration": [n.model_dump(mode="json", exclude_none=True) for n in scene.narration],
        "native_audio": scene.native_audio,
        "sounds": [
            x.model_dump(mode="json", exclude_none=True, exclude={"price"}) for x in scene.sounds
        ],
        "takes": {k: t.sha256 for k, t in sorted(takes.items()) if k.startswith(mine)},
        "files": files,
    }
    return {k: v for k, v in found.items() if v}


def _music_take(takes: Mapping[str, ChosenTake]) -> dict[str, str]:
    t = takes.get("music")
    return {"take": t.sha256} if t is not None else {}


def film_status(project: Project, takes: Mapping[str, ChosenTake], dest: Path) -> FilmStatus:
    """Compare the film a compose would make from ``takes`` with the last film written."""
    parts = film_parts(project, takes)
    st = FilmStatus(_digest(parts), parts)
    stamp = read_stamp(project)
    if stamp is None:
        st.reasons.append("film missing" if not dest.exists() else "never composed here")
        return st
    if not stamp:
        st.reasons.append(f"build/{STAMP_NAME} is damaged")
        return st
    if stamp.get("key") != st.key:
        st.reasons.extend(_reasons(stamp.get("parts") or {}, parts))
    if not dest.is_file():
        st.reasons.append("film missing")
    elif stamp.get("file") != _rel(project, dest) or not _same_file(dest, stamp):
        st.reasons.append("film file changed on disk")
    for name in stamp.get("extras") or []:
        if not (project.root / name).is_file():
            st.reasons.append(f"{name} missing")
    return st


def _reasons(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    reasons: list[str] = []
    if old.get("version") != new["version"]:
        reasons.append("compose code changed")
    if old.get("order") != new["order"]:
        reasons.append("scenes added, removed or reordered")
    old_scenes = old.get("scenes") or {}
    for sid, part in new["scenes"].items():
        was = old_scenes.get(sid)
        if was is None:
            continue
        if was.get("take") != part["take"]:
            reasons.append(f"take of '{sid}' changed")
        if was.get("cut") != part["cut"]:
            reasons.append(f"trim, transition or dialogue of '{sid}' changed")
    if old.get("music") != new["music"]:
        reasons.append("music changed")
    if old.get("edit") != new["edit"]:
        reasons.append("edit settings changed")
    if old.get("output") != new["output"]:
        reasons.append("output settings changed")
    return reasons or ["storyboard changed"]


def _rel(project: Project, dest: Path) -> str:
    try:
        return str(dest.relative_to(project.root))
    except ValueError:
        return str(dest)


def _same_file(dest: Path, stamp: dict[str, Any]) -> bool:
    try:
        st = dest.stat()
    except OSError:
        return False
    if st.st_size != stamp.get("size"):
        return False
    if st.st_mtime_ns == stamp.get("mtime_ns"):
        return True  # unchanged since we wrote it; otherwise look at the content
    try:
        return file_sha256(dest) == stamp.get("sha256")
    except OSError:
        return False


def read_stamp(project: Project) -> dict[str, Any] | None:
    """The last film's record: None when there is none, ``{}`` when it is damaged (unreadable,
    not JSON, or any field of the wrong type: a hand edit is never trusted, nor a traceback)."""
    p = stamp_path(project)
    try:
        if p.lstat().st_size > MAX_STAMP_BYTES or not p.is_file():
            return {}
        raw = p.read_bytes()
    except FileNotFoundError:
        return None
    except OSError:
        return {}
    try:
        data = parse_json(raw, str(p))
    except StoryboardError:
        return {}
    return data if _stamp_ok(data) else {}


def _stamp_ok(data: Any) -> bool:
    """Every field ``write_stamp`` writes, of the type it writes."""
    if not isinstance(data, dict):
        return False
    fields = {"key": str, "file": str, "sha256": str, "size": int, "mtime_ns": int}
    if any(type(data.get(k)) is not t for k, t in fields.items()):
        return False
    extras, parts = data.get("extras"), data.get("parts")
    if not isinstance(extras, list) or not all(isinstance(e, str) for e in extras):
        return False
    if not isinstance(parts, dict) or not isinstance(parts.get("scenes"), dict):
        return False
    if not isinstance(parts.get("order"), list):
        return False
    return all(
        isinstance(v, dict) and all(isinstance(x, str | None) for x in v.values())
        for v in parts["scenes"].values()
    )


def write_stamp(
    project: Project,
    st: FilmStatus,
    dest: Path,
    extras: list[str],
    loudness: Loudness | None = None,
) -> None:
    """Record the film just written, and its companions (captions, contact sheet: paths
    relative to the project), once all of them are complete; and the loudness gain its sound
    was given (the next cut keeps it while it holds: ``audio.linear_gain``)."""
    info = os.stat(dest)
    data = {
        "key": st.key,
        "parts": st.parts,
        "file": _rel(project, dest),
        "size": info.st_size,
        "mtime_ns": info.st_mtime_ns,
        "sha256": file_sha256(dest),
        "extras": extras,
    }
    if loudness is not None:
        data["loudness"] = dataclasses.asdict(loudness)
    atomic_write(stamp_path(project), json.dumps(data, indent=1).encode())


def kept_loudness(project: Project) -> Loudness | None:
    """The loudness gain the last cut of this film gave its sound (from its stamp), None when
    there is none or it is not three finite numbers in range (a hand edit is not trusted)."""
    from .sound import Loudness

    stamp = read_stamp(project)
    rec = stamp.get("loudness") if stamp else None
    if not isinstance(rec, dict):
        return None
    values: list[float] = []
    for k in ("target", "true_peak", "gain"):
        v = rec.get(k)
        if not isinstance(v, int | float) or isinstance(v, bool):
            return None
        if not math.isfinite(v) or abs(v) > 99:
            return None
        values.append(float(v))
    return Loudness(*values)


def stamp_path(project: Project) -> Path:
    """``build/film.json``; a variant's film has its own (``build/film.VARIANT.json``)."""
    name = getattr(project, "stamp_name", None)  # the animatic's own (issue 17)
    return project.build / (name or f"film{project.suffix}.json")
