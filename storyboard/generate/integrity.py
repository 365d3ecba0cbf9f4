"""Takes we can trust: their paths stay inside the project, their bytes match their hash.

Every path read from ``storyboard.lock`` or the journal goes through :func:`take_path`, which
resolves symlinks and refuses anything outside ``build/takes/`` of the project: a committed or
edited lock can never make a render write, or compose read, anywhere else.

Hashes are computed in chunks and remembered per file (size, mtime, inode), as git's index
does, so checking every take before it is used costs a ``stat`` unless the file changed.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path
from typing import Any

from .kinds import take_folder

TAKES_DIR = "build/takes"
CHUNK = 1 << 20

SCHEMA = """
CREATE TABLE IF NOT EXISTS file_hashes (
    file     TEXT PRIMARY KEY,
    size     INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ino      INTEGER NOT NULL,
    sha256   TEXT NOT NULL
);
"""


def take_path(root: Path, rel: str) -> Path | None:
    """``root/rel`` resolved (symlinks included), or None unless inside ``root/build/takes``,
    itself inside the project (a ``build/takes`` linked elsewhere holds no take: hostile
    helper-42)."""
    if not isinstance(rel, str) or not rel or "\0" in rel or os.path.isabs(rel):
        return None
    try:
        takes = (root / TAKES_DIR).resolve()
        p = (root / rel).resolve()
        takes.relative_to(root.resolve())
        p.relative_to(takes)
    except (ValueError, RuntimeError, OSError):  # outside, or a symlink loop (helper-46 F6)
        return None
    return p if p != takes else None


def linked_away(root: Path, rel: str) -> bool:
    """``rel`` is a take's path in build/takes as written (no ``..``), but a link on the way
    leads it elsewhere: the link is at fault, not the entry naming it (helper-46 F10)."""
    norm = os.path.normpath(rel)
    return norm.startswith(f"{TAKES_DIR}/") and take_path(root, rel) is None


def written_where_named(root: Path, rel: str) -> bool:
    """Writing ``root/rel`` writes that very path: no link below build/takes on the way
    (build/takes/a linked to b would write a's take over b's: helper-46 F1)."""
    takes = root / TAKES_DIR
    try:
        real = takes.resolve() / Path(rel).relative_to(TAKES_DIR)
        return (root / rel).resolve() == real
    except (ValueError, RuntimeError, OSError):
        return False


def in_own_folder(node: str, rel: str) -> bool:
    """``rel`` names a file right in the node's own folder, ``build/takes/FOLDER/NAME`` (no
    ``..``, no sub-folder), as every take is written: a lock or journal entry naming another
    node's take (a bad merge, an edit) would put that take in this node's place."""
    parts = rel.split("/")
    want = f"{TAKES_DIR}/{take_folder(node)}".split("/")
    return len(parts) == len(want) + 1 and parts[:-1] == want and parts[-1] not in ("", ".", "..")


def sha256_file(path: Path) -> str:
    """The file's sha256, read in chunks (a take may be gigabytes)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


class HashCache:
    """File hashes remembered in the journal, valid while size, mtime and inode are unchanged."""

    def __init__(self, db: Any):
        self.db = db
        db.executescript(SCHEMA)

    def sha256(self, path: Path) -> str | None:
        """The file's hash (from the cache when it did not change), None when unreadable."""
        try:
            st = path.stat()
            row = self.db.execute(
                "SELECT sha256 FROM file_hashes WHERE file=? AND size=? AND mtime_ns=? AND ino=?",
                (str(path), st.st_size, st.st_mtime_ns, st.st_ino),
            ).fetchone()
            if row:
                return str(row[0])
            digest = sha256_file(path)
        except OSError:
            return None
        self.remember(path, digest)
        return digest

    def remember(self, path: Path, digest: str) -> None:
        """Note a hash just computed elsewhere (a download), so it is not read again."""
        try:
            st = path.stat()
            self.db.execute(
                "INSERT OR REPLACE INTO file_hashes VALUES (?,?,?,?,?)",
                (str(path), st.st_size, st.st_mtime_ns, st.st_ino, digest),
            )
        except (OSError, sqlite3.Error):
            pass  # only a cache
