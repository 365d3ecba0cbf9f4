"""``storyboard.lock``: read (every entry checked) and written (atomically, in film order)."""

from __future__ import annotations

import math
import posixpath
import reprlib
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from storyboard.board.assets import AUDIO_SUFFIXES, IMAGE_SUFFIXES, VIDEO_SUFFIXES, not_a_file
from storyboard.errors import StoryboardError
from storyboard.files import atomic_write

from .integrity import TAKES_DIR, in_own_folder, linked_away, take_path
from .kinds import take_folder

if TYPE_CHECKING:
    from .state import Take

HEADER = (
    "# storyboard.lock: the take of each scene that makes the cut.\n"
    "# Written by `storyboard render` and `storyboard pick`; commit it to rebuild "
    "the film exactly.\n"
)


# libyaml's safe loader when PyYAML has it (several times faster: the lock is read on every
# render, the no-op one too), else the pure-Python one; both build the same data
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

LOCK_VERSION = 1  # the lock's format; another is refused, not read as this one
MAX_SECONDS = 86_400.0  # no take is a day long: a larger figure is a typo or an attack


def _is_num(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


# The suffixes each kind of take is written with (outputFormat, lower case). A file whose suffix
# is another kind's cannot be this node's take (hostile H2: a clip hand-put as a cast sheet was
# sent as a reference picture); a suffix no kind lists is left to the file checks.
SUFFIXES = {"an image": IMAGE_SUFFIXES, "a clip": VIDEO_SUFFIXES, "a sound": AUDIO_SUFFIXES}


def _kind_of(node: str) -> str:
    if node.startswith(("cast:", "board:")):
        return "an image"
    if node == "music" or node.startswith(("line:", "sfx:")):
        return "a sound"
    return "a clip"


def _other_kind(node: str, file: str) -> str | None:
    """What the node's take must be, when ``file`` has the suffix of another kind; else None."""
    want = _kind_of(node)
    suffix = Path(file).suffix.lower()
    if any(suffix in sufs for kind, sufs in SUFFIXES.items() if kind != want):
        return want
    return None


_SHORT = reprlib.Repr()  # (keyword arguments only from Python 3.12)
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict = 2, 4, 4
_SHORT.maxstring = _SHORT.maxother = 80


def _short(v: object) -> str:
    """A value as a message shows it: bounded (YAML aliases make a 500-byte lock a billion
    items, whose full repr hung every command: hostile helper-46)."""
    return _SHORT.repr(v)


def _a(v: object) -> str:
    name = type(v).__name__
    return f"{'an' if name[:1] in 'aeiou' else 'a'} {name}"


def check_entry(scene: object, d: object) -> None:
    """Refuse a hand-edited entry of the wrong type or range, naming the field (a wrong value
    would otherwise fail later, in compose or status, as a traceback)."""

    def bad(field: str, want: str, got: object) -> ValueError:
        return ValueError(f"scene {_short(scene)}: {field} must be {want}, got {_short(got)}")

    if not isinstance(d, dict):
        raise ValueError(f"scene {_short(scene)}: an entry must be a mapping, got {_short(d)}")
    n = d.get("take")
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise bad("take", "a whole number of 1 or more", n)
    for field in ("key", "task_uuid", "video_uuid", "file", "sha256"):
        if not isinstance(d.get(field), str):
            raise bad(field, "text", d.get(field))
    for field in ("source_take", "video_id", "url", "created"):
        if d.get(field) is not None and not isinstance(d.get(field), str):
            raise bad(field, "text or empty", d.get(field))
    size = d.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise bad("size", "a whole number of bytes", size)
    cost = d.get("cost")
    if cost is not None and not (_is_num(cost) and cost >= 0):
        raise bad("cost", "an amount of 0 or more dollars", cost)
    duration = d.get("duration")
    if duration is not None and not (_is_num(duration) and 0 < duration <= MAX_SECONDS):
        raise bad("duration", "a number of seconds above 0", duration)
    offset = d.get("offset", 0)
    limit = duration if duration is not None else MAX_SECONDS
    if not (_is_num(offset) and 0 <= offset <= limit):
        raise bad("offset", "0 or more seconds, within the take", offset)
    if not isinstance(d.get("nsfw", False), bool):
        raise bad("nsfw", "true or false", d.get("nsfw"))
    wrong = _other_kind(str(scene), str(d["file"]))
    if wrong is not None:
        raise ValueError(
            f"scene {scene!r}: file {d['file']!r} is not {wrong}, as its takes are; "
            "put back the lock's line for it"
        )
    # another scene's take (a bad merge: helper-42); a path out of build/takes altogether is
    # refused by read_lock, saying so
    file = posixpath.normpath(d["file"])
    if file.startswith(f"{TAKES_DIR}/") and not in_own_folder(str(scene), file):
        raise bad("file", f"a file in {TAKES_DIR}/{take_folder(str(scene))}/", d["file"])
    made_by = d.get("made_by")
    if made_by is not None and not (
        isinstance(made_by, str) and made_by.split()[:1] in (["emulator"], ["draft"], ["runware"])
    ):
        raise bad("made_by", "emulator, draft or runware ENDPOINT", made_by)


class _LockLoader(_LOADER):  # type: ignore[misc,valid-type]
    """The lock's loader, refusing a key given twice (YAML keeps the last one silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[str] = set()
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    raise ValueError(f"line {key.start_mark.line + 1}: duplicate key {key.value!r}")
                seen.add(key.value)
        return super().construct_mapping(node, deep)  # type: ignore[no-any-return]


def _regular(lock_path: Path) -> None:
    """Refuse a lock that exists and is not a regular file: a FIFO would block its read for
    ever (hostile helper-42: a render hung holding the project)."""
    kind = not_a_file(lock_path)
    if kind is not None:
        raise StoryboardError(
            f"{lock_path}: is {kind}, not the lock file; move it away (the takes are kept in "
            "build/ and found again)"
        )


def _shape(data: object) -> dict:
    """The lock's scenes, once its top level is what write_lock writes."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"the lock must be a mapping of `version` and `scenes`, got {_a(data)}")
    version = data.get("version", LOCK_VERSION)
    if type(version) is not int or version != LOCK_VERSION:  # True and 1.0 are not 1
        raise ValueError(
            f"version {_short(version)} is not one this storyboard reads ({LOCK_VERSION})"
        )
    entries = data.get("scenes") or {}
    if not isinstance(entries, dict):
        raise ValueError(f"`scenes` must be a mapping of scene to take, got {_a(entries)}")
    return entries


def read_lock(root: Path, lock_path: Path) -> dict[str, Take]:
    """The lock's takes by scene; one clear error for an unreadable file or a hostile entry."""
    from .state import Take

    _regular(lock_path)
    if not lock_path.is_file():
        return {}
    try:
        entries = _shape(yaml.load(lock_path.read_text(encoding="utf-8"), Loader=_LockLoader))
        for scene, d in entries.items():
            check_entry(scene, d)
        takes = {scene: Take.from_lock(scene, d) for scene, d in entries.items()}
    except (yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError) as e:
        raise StoryboardError(
            f"{lock_path}: unreadable lock file ({e}); fix or delete it "
            "(takes are kept in build/ and will be found again)"
        ) from None
    for scene, take in takes.items():
        if linked_away(root, take.file):  # the entry is fine: a link in build/takes is not
            raise StoryboardError(
                f"{lock_path}: scene {scene!r}: {take.file!r} leads outside the project's "
                "build/takes folder through a link in it (the lock is fine): remove the link "
                "and run again"
            )
        if take_path(root, take.file) is None:
            raise StoryboardError(
                f"{lock_path}: scene {scene!r}: file {take.file!r} is not inside the project's "
                "build/takes folder; fix that entry or delete the lock file (the takes are kept "
                "in build/ and found again)"
            )
    return takes


def write_lock(lock_path: Path, takes: dict[str, Take], order: list[str]) -> None:
    """Write ``storyboard.lock`` atomically, scenes in film order."""
    _regular(lock_path)
    scenes = {s: takes[s].to_lock() for s in order if s in takes}
    if not scenes and not lock_path.exists():
        return  # nothing made yet: no empty lock file
    text = HEADER + yaml.safe_dump(
        {"version": LOCK_VERSION, "scenes": scenes}, sort_keys=False, allow_unicode=True, width=1000
    )
    data = text.encode()
    try:
        if lock_path.read_bytes() == data:
            return  # the same takes: the file is left as it was (times and inode too)
    except OSError:
        pass  # none yet, or unreadable: written whole
    atomic_write(lock_path, data)
