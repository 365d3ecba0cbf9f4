"""Which folder may hold the chunk cache: the project's ``build/chunks``, or a ``--cache PATH``
that is new, empty or already a chunk cache, never a folder of anything else.

The cache's trim deletes least recently used entries, so a cache folder must hold nothing but
the cache. A folder becomes one when it is first used: it gets a ``CACHEDIR.TAG`` (the Cache
Directory Tagging Specification, https://bford.info/cachedir/: backup tools skip it) that says
storyboard made it. Refused with one message, nothing touched (hostile finding H8):

* a path that exists and is not a folder (a file, a device);
* the project folder, a folder that holds it, or a folder inside it other than ``build/chunks``
  (``--cache .`` deleted the project's assets, journal and film; ``--cache build/takes`` the
  paid clips);
* a folder that holds other things and no tag (``--cache ~`` or a folder of photos).

A folder that holds only the two-hex-digit shard folders of a cache made before the tag
existed is a cache, and is tagged.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from storyboard.errors import StoryboardError

from .chunks import read_head

TAG = "CACHEDIR.TAG"
SIGNATURE = "Signature: 8a477f597d28d172789f06886806bc55"
TAG_TEXT = (
    f"{SIGNATURE}\n"
    "# This file is a cache directory tag created by storyboard (its chunk cache).\n"
    "# For information about cache directory tags, see: https://bford.info/cachedir/\n"
)
SHARD = re.compile(r"\A[0-9a-f]{2}\Z")


def admit_cache_folder(folder: Path, root: Path) -> Path:
    """Check that ``folder`` may be the chunk cache of the project at ``root`` and tag it;
    returns its real path (a symlinked ``--cache`` is followed once, here, by choice).
    Raises :class:`StoryboardError` naming it (nothing is created or deleted)."""
    where = Path(os.path.abspath(folder))
    real, real_root = Path(os.path.realpath(where)), Path(os.path.realpath(root))
    own = Path(os.path.realpath(root / "build" / "chunks"))
    if real != own:
        if real == real_root or real in real_root.parents:
            raise StoryboardError(
                f"--cache {folder}: that folder holds the project; give a folder of its own"
            )
        if real_root in real.parents and own not in real.parents:
            raise StoryboardError(
                f"--cache {folder}: a folder inside the project; its own cache is build/chunks"
            )
        _check_existing(where, folder)
    try:
        where.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StoryboardError(f"--cache {folder}: cannot make the folder ({e.strerror})") from None
    tag = where / TAG
    if not _tagged(tag):
        try:
            tag.write_text(TAG_TEXT)
        except OSError as e:
            raise StoryboardError(f"--cache {folder}: cannot write {TAG} ({e.strerror})") from None
    return real


def _check_existing(where: Path, shown: Path) -> None:
    try:
        st = os.stat(where)
    except FileNotFoundError:
        return
    except OSError as e:
        raise StoryboardError(f"--cache {shown}: {e.strerror}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise StoryboardError(f"--cache {shown}: not a folder; nothing was touched")
    if _tagged(where / TAG):
        return
    try:
        others = sorted(
            e.name
            for e in os.scandir(where)
            if not (SHARD.match(e.name) and e.is_dir(follow_symlinks=False))
        )
    except OSError as e:
        raise StoryboardError(f"--cache {shown}: {e.strerror}") from None
    if others:
        raise StoryboardError(
            f"--cache {shown}: not a storyboard chunk cache (it holds {others[0]!r}"
            f"{f' and {len(others) - 1} more' if len(others) > 1 else ''} and no {TAG}); "
            "give a new or empty folder"
        )


def _tagged(tag: Path) -> bool:
    """A regular file (not a link) that starts with the specification's signature."""
    return read_head(tag, len(SIGNATURE)) == SIGNATURE.encode()
