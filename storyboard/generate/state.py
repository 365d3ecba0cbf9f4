"""Build state in ``projects/NAME/build/``: the task journal and takes (sqlite), and the lock file.

* ``build/journal.sqlite``: every task is written *before* it is submitted (scene, key, taskUUID,
  the exact request), then its acknowledgment, results and cost; every downloaded take.
* ``build/takes/SCENE/take-N.EXT``: every generated clip is kept.
* ``storyboard.lock`` (project root, YAML, meant to be committed): the take of each scene that
  makes the cut, with its key, videoUUID, videoId, URL, cost and file hash.
"""

from __future__ import annotations

import calendar
import json
import re
import sqlite3
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from storyboard.errors import StoryboardError
from storyboard.generate.writer import project_writer
from storyboard.media.probe import media_key

from .integrity import HashCache, take_path
from .journaldb import Guarded
from .journalrows import take_fields, task_fields
from .lockfile import read_lock, write_lock
from .protocol import VideoResult

LOCK_NAME = "storyboard.lock"
SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    task_uuid   TEXT PRIMARY KEY,
    scene       TEXT NOT NULL,
    key         TEXT NOT NULL,
    source_take TEXT,
    request     TEXT NOT NULL,
    state       TEXT NOT NULL,          -- pending | submitted | done | failed
    results     TEXT,
    cost        REAL,
    error       TEXT,
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL,
    estimate    REAL                    -- the planned cost, before the service says
);
CREATE TABLE IF NOT EXISTS takes (
    scene       TEXT NOT NULL,
    n           INTEGER NOT NULL,
    key         TEXT NOT NULL,
    source_take TEXT,
    task_uuid   TEXT NOT NULL,
    video_uuid  TEXT NOT NULL UNIQUE,
    video_id    TEXT,
    url         TEXT,
    file        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    cost        REAL,
    duration    REAL,
    offset      REAL NOT NULL DEFAULT 0,
    nsfw        INTEGER NOT NULL DEFAULT 0,
    created_at  REAL NOT NULL,
    PRIMARY KEY (scene, n)
);
"""
# columns added after the first release (ALTER TABLE appends them, so positions stay stable)
TAKE_COLUMNS_ADDED = (("made_by", "TEXT"),)

EMULATOR, DRAFT, RUNWARE = "emulator", "draft", "runware"
MAKER_REASONS = {
    EMULATOR: "made by the emulator",
    DRAFT: "made as a --draft",
    RUNWARE: "made by the real service",
}


LOOPBACK = re.compile(r"^http://(127\.|localhost[:/]|\[::1\])")  # where only the emulator serves


def maker_class(made_by: str | None, url: str | None = None) -> str:
    """``emulator``, ``draft`` or ``runware`` from a take's provenance.

    Takes recorded before provenance existed are judged by their URL: the emulator only ever
    serves from a loopback address, so a loopback ``http://`` URL marks a placeholder.
    """
    if made_by:
        return made_by.split()[0]
    if url and LOOPBACK.match(url):
        return EMULATOR
    return RUNWARE


@dataclass
class Take:
    """One generated clip of a scene."""

    scene: str
    n: int
    key: str
    source_take: str | None
    task_uuid: str
    video_uuid: str
    video_id: str | None
    url: str | None
    file: str  # relative to the project folder
    size: int
    sha256: str
    cost: float | None
    duration: float | None
    offset: float = 0.0  # seconds into the file where this scene's own footage starts
    nsfw: bool = False
    created_at: float = 0.0
    # what made it: "emulator", "draft", or "runware <endpoint>" (see maker_class)
    made_by: str | None = None

    @property
    def maker(self) -> str:
        """The take's provenance class: ``emulator``, ``draft`` or ``runware``."""
        return maker_class(self.made_by, self.url)

    @property
    def service_uuid(self) -> str:
        """The UUID the service knows this take's output by. A take copied from another
        node's (a spoken line renumbered: ``fetch.copy_take``) has ``UUID@NODE`` as its own
        identity; the service only knows the UUID (hostile: a lip sync sent the copy's
        identity, HTTP 400 on every render)."""
        return self.video_uuid.partition("@")[0]

    @property
    def media_key(self) -> str:
        """Cache key of the take's file (build/media, build/thumbs): its content hash and size."""
        return media_key(self.sha256, self.size)

    def to_lock(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("scene")
        d["take"] = d.pop("n")
        d["created"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(d.pop("created_at")))
        order = [
            "take",
            "key",
            "task_uuid",
            "video_uuid",
            "video_id",
            "url",
            "cost",
            "file",
            "size",
            "sha256",
            "duration",
            "offset",
            "source_take",
            "nsfw",
            "created",
            "made_by",
        ]
        return {k: d[k] for k in order}

    @classmethod
    def from_lock(cls, scene: str, d: dict[str, Any]) -> Take:
        created = d.get("created")
        # written in UTC (``to_lock``): read back in UTC, whatever the local time zone
        ts = (
            float(calendar.timegm(time.strptime(created, "%Y-%m-%dT%H:%M:%SZ"))) if created else 0.0
        )
        return cls(
            scene=scene,
            n=int(d["take"]),
            key=d["key"],
            source_take=d.get("source_take"),
            task_uuid=d["task_uuid"],
            video_uuid=d["video_uuid"],
            video_id=d.get("video_id"),
            url=d.get("url"),
            file=d["file"],
            size=int(d["size"]),
            sha256=d["sha256"],
            cost=d.get("cost"),
            duration=d.get("duration"),
            offset=float(d.get("offset", 0)),
            nsfw=bool(d.get("nsfw", False)),
            created_at=ts,
            made_by=d.get("made_by"),
        )


@dataclass
class JournalTask:
    task_uuid: str
    scene: str
    key: str
    source_take: str | None
    request: dict[str, Any]
    state: str
    results: list[dict[str, Any]] | None
    cost: float | None
    error: str | None
    created_at: float = 0.0
    estimate: float | None = None

    @property
    def price(self) -> float:
        """What the task costs: the service's figure once known, else the planned one."""
        return self.cost if self.cost is not None else (self.estimate or 0.0)


class BuildState:
    """The journal, takes and lock of one project.

    With ``writer`` (e.g. ``"render"``) the project's writer lock is taken *before* anything is
    read, so the lock file and takes seen are current, and held until :meth:`close`.
    """

    def __init__(
        self,
        project_root: Path,
        *,
        writer: str | None = None,
        wait: bool = True,
        on_wait: Callable[[str], None] | None = None,
        variant: str | None = None,
    ):
        self.root = project_root
        self.build = project_root / "build"
        self.lock_path = project_root / lock_name(variant)
        self._exit = ExitStack()
        if writer is not None:
            self._exit.enter_context(
                project_writer(project_root, writer, wait=wait, on_wait=on_wait)
            )
        try:
            self._open()
        except BaseException:
            if hasattr(self, "db"):
                self.db.close()  # no backup: a refused journal or lock leaves the last good one
            self._exit.close()
            raise

    def _open(self) -> None:
        try:
            self.build.mkdir(parents=True, exist_ok=True)
            self.db = Guarded(
                sqlite3.connect(self.build / "journal.sqlite", isolation_level=None),
                self.build / "journal.sqlite",
            )
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(SCHEMA)
            columns = {r[1] for r in self.db.execute("PRAGMA table_info(tasks)")}
            if "estimate" not in columns:  # a journal from before estimates were kept
                self.db.execute("ALTER TABLE tasks ADD COLUMN estimate REAL")
            have = {r[1] for r in self.db.execute("PRAGMA table_info(takes)")}
            for name, kind in TAKE_COLUMNS_ADDED:
                if name not in have:
                    self.db.execute(f"ALTER TABLE takes ADD COLUMN {name} {kind}")
            self.hashes = HashCache(self.db)
            self.all_tasks(), self.all_takes()  # every row checked before any work (issue 15)
        except StoryboardError:
            raise  # the caller closes the journal (no backup: it holds the last good one)
        except (OSError, sqlite3.Error) as e:
            raise StoryboardError(f"{self.build}: cannot open the build journal: {e}") from None
        self.lock: dict[str, Take] = self._read_lock()

    def close(self) -> None:
        """Back up the journal (it is readable now), close it and release the writer lock."""
        try:
            self.db.backup_to(self.build / "journal.sqlite.bak")
            self.db.close()
        finally:
            self._exit.close()

    # -- journal -------------------------------------------------------------------------------

    def record_task(
        self,
        task_uuid: str,
        scene: str,
        key: str,
        source_take: str | None,
        request: dict[str, Any],
        estimate: float | None = None,
    ) -> None:
        """Durably note a task *before* it is submitted."""
        now = time.time()
        self._exec(
            "INSERT OR IGNORE INTO tasks VALUES (?,?,?,?,?,'pending',NULL,NULL,NULL,?,?,?)",
            (task_uuid, scene, key, source_take, json.dumps(request), now, now, estimate),
        )

    def uncollected(self) -> list[JournalTask]:
        """Tasks sent (or maybe sent) whose clips are not all downloaded: paid, not yet ours.

        ``pending`` tasks were journaled but their submission was never confirmed; the others
        were accepted by the service. None of them is ever submitted as a new task again.
        """
        rows = self.db.execute(
            "SELECT * FROM tasks WHERE state IN ('pending','submitted','done') ORDER BY created_at"
        ).fetchall()
        tasks = [self._task(r) for r in rows]
        return [t for t in tasks if not (t.state == "done" and self._all_downloaded(t))]

    def mark(
        self,
        task_uuid: str,
        state: str,
        *,
        results: list[dict[str, Any]] | None = None,
        cost: float | None = None,
        error: str | None = None,
    ) -> None:
        self._exec(
            "UPDATE tasks SET state=?, results=COALESCE(?, results), cost=COALESCE(?, cost),"
            " error=?, updated_at=? WHERE task_uuid=?",
            (
                state,
                json.dumps(results) if results is not None else None,
                cost,
                error,
                time.time(),
                task_uuid,
            ),
        )

    def open_tasks(self, scene: str, key: str, source_take: str | None) -> list[JournalTask]:
        """Tasks for this scene+key that were submitted (or about to be) but have no take yet."""
        rows = self.db.execute(
            "SELECT * FROM tasks WHERE scene=? AND key=? AND source_take IS ? AND state IN "
            "('pending','submitted','done') ORDER BY created_at",
            (scene, key, source_take),
        ).fetchall()
        out = []
        for r in rows:
            t = self._task(r)
            if t.state == "done" and self._all_downloaded(t):
                continue
            out.append(t)
        return out

    def task(self, task_uuid: str) -> JournalTask | None:
        r = self.db.execute("SELECT * FROM tasks WHERE task_uuid=?", (task_uuid,)).fetchone()
        return self._task(r) if r else None

    def all_tasks(self) -> list[JournalTask]:
        """Every task of the journal, oldest first."""
        return [self._task(r) for r in self.db.execute("SELECT * FROM tasks ORDER BY rowid")]

    def all_takes(self) -> list[Take]:
        """Every take of the journal, by scene and number."""
        return [self._take(r) for r in self.db.execute("SELECT * FROM takes ORDER BY scene, n")]

    def spent(self) -> float:
        return sum(t.cost or 0.0 for t in self.all_tasks())

    def spent_split(self, placeholder_backend: bool) -> tuple[float, float]:
        """(paid, would have cost): every task's cost, split by what made its takes (a task
        without takes counts as made by the backend now in use)."""
        first: dict[str, Take] = {}  # each task's first take (its lowest number)
        for take in sorted(self.all_takes(), key=lambda t: t.n):
            first.setdefault(take.task_uuid, take)
        paid = placeholder = 0.0
        for task in self.all_tasks():
            made = first.get(task.task_uuid)
            if made is None or (made.made_by is None and made.url is None):
                fake = placeholder_backend
            else:
                fake = maker_class(made.made_by, made.url) != RUNWARE
            amount = task.cost
            if amount is None and task.state == "done":  # the service gave no figure
                amount = task.estimate
            if fake:
                placeholder += amount or 0.0
            else:
                paid += amount or 0.0
        return paid, placeholder

    def _all_downloaded(self, t: JournalTask) -> bool:
        uuids = [VideoResult.from_item(r).video_uuid for r in t.results or []]
        have = {
            row[0]
            for row in self.db.execute(
                "SELECT video_uuid FROM takes WHERE task_uuid=?", (t.task_uuid,)
            )
        }
        return bool(uuids) and all(u in have for u in uuids)

    def _task(self, r: tuple) -> JournalTask:
        return JournalTask(**task_fields(self.db, r))  # checked: hand-edited rows (issue 15)

    def _exec(self, sql: str, params: tuple) -> None:
        try:
            self.db.execute(sql, params)
        except sqlite3.Error as e:
            raise StoryboardError(
                f"{self.build / 'journal.sqlite'}: cannot write the journal: {e}"
                " (is the disk full?)"
            ) from None

    # -- takes ---------------------------------------------------------------------------------

    def next_take_number(self, scene: str) -> int:
        return max((t.n for t in self.takes(scene)), default=0) + 1

    def add_take(self, take: Take) -> None:
        self._exec(
            "INSERT OR REPLACE INTO takes VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                take.scene,
                take.n,
                take.key,
                take.source_take,
                take.task_uuid,
                take.video_uuid,
                take.video_id,
                take.url,
                take.file,
                take.size,
                take.sha256,
                take.cost,
                take.duration,
                take.offset,
                int(take.nsfw),
                take.created_at,
                take.made_by,
            ),
        )

    def takes(self, scene: str) -> list[Take]:
        rows = self.db.execute("SELECT * FROM takes WHERE scene=? ORDER BY n", (scene,)).fetchall()
        return [self._take(r) for r in rows]

    def take_by_video(self, video_uuid: str) -> Take | None:
        r = self.db.execute("SELECT * FROM takes WHERE video_uuid=?", (video_uuid,)).fetchone()
        return self._take(r) if r else None

    def cached_take(
        self, scene: str, key: str, source_take: str | None, maker: str | None = None
    ) -> Take | None:
        """The newest usable take made from exactly this content (and source take, and maker);
        failing that, the newest such take whose file is missing or damaged but can be
        fetched again from its URL (:meth:`fetchable`): it is downloaded, never bought again."""
        found = self._newest(scene, key, source_take, maker, nsfw=False)
        if found is None:
            found = self._newest(scene, key, source_take, maker, nsfw=False, fetch=True)
        return found

    def fetchable(self, take: Take) -> bool:
        """A take whose file is not usable and which can be fetched again from its URL: a
        paid one (hostile helper-54: one not in the cut was bought again), or a placeholder of
        the emulator this render talks to (the service's stand-in in tests). Any other
        placeholder's emulator is gone with its files (a keyless render starts its own, on a
        new port: hostile helper-55): it is made again, for nothing."""
        if not take.url or self.file_ok(take):
            return False
        return take.maker == RUNWARE or _served_here(take.url)

    def take_of_other_node(
        self, prefix: str, scene: str, key: str, source_take: str | None
    ) -> Take | None:
        """A usable take of exactly this content (``key``) of another node whose name starts
        with ``prefix`` (a spoken line renumbered by a line inserted before it: hostile
        helper-47): the one in the cut, else one picked, else the newest (hostile helper-56:
        a retake the user had turned down came back under the line's new number)."""
        rows = self.db.execute(
            "SELECT * FROM takes WHERE key=? AND scene<>? AND substr(scene, 1, ?)=? "
            "ORDER BY created_at DESC",
            (key, scene, len(prefix), prefix),
        ).fetchall()
        usable = [
            t
            for t in map(self._take, rows)
            if not t.nsfw and t.source_take == source_take and self.file_ok(t)
        ]
        from .picks import was_chosen

        in_cut = {t.video_uuid for t in self.lock.values()}
        return (
            next((t for t in usable if t.video_uuid in in_cut), None)
            or next((t for t in usable if was_chosen(self, t)), None)
            or next(iter(usable), None)
        )

    def flagged_take(
        self, scene: str, key: str, source_take: str | None, maker: str | None = None
    ) -> Take | None:
        """The newest take of exactly this content that the provider flagged NSFW (paid for,
        kept, out of the cut unless picked)."""
        return self._newest(scene, key, source_take, maker, nsfw=True)

    def _newest(
        self,
        scene: str,
        key: str,
        source_take: str | None,
        maker: str | None,
        nsfw: bool,
        fetch: bool = False,
    ) -> Take | None:
        for t in reversed(self.takes(scene)):
            if (
                t.key == key
                and t.source_take == source_take
                and (maker is None or t.maker == maker)
                and t.nsfw == nsfw
                and (self.fetchable(t) if fetch else self.file_ok(t))
            ):
                return t
        return None

    def path_of(self, take: Take) -> Path | None:
        """The take's file, resolved; None when it would lead outside ``build/takes``."""
        return take_path(self.root, take.file)

    def file_ok(self, take: Take) -> bool:
        """The take's file is inside the project, on disk, and its bytes match its hash."""
        p = self.path_of(take)
        try:
            if p is None or not p.is_file() or p.stat().st_size != take.size:
                return False
        except OSError:
            return False
        return self.hashes.sha256(p) == take.sha256

    def _take(self, r: tuple) -> Take:
        return Take(**take_fields(self.db, r))  # checked: hand-edited rows (issue 15)

    # -- lock ----------------------------------------------------------------------------------

    def reload_lock(self) -> dict[str, Take]:
        """``storyboard.lock`` as it is on disk now."""
        return self._read_lock()

    def _read_lock(self) -> dict[str, Take]:
        return read_lock(self.root, self.lock_path)

    def write_lock(self, order: list[str]) -> None:
        """Write ``storyboard.lock`` atomically, scenes in film order."""
        write_lock(self.lock_path, self.lock, order)


def lock_name(variant: str | None = None) -> str:
    """``storyboard.lock``; a variant's film has its own (``storyboard.VARIANT.lock``), while
    the journal and the takes are shared by every film of the project."""
    return f"storyboard.{variant}.lock" if variant else LOCK_NAME


def _served_here(url: str) -> bool:
    """``url`` is on the service this process talks to (``RUNWARE_BASE_URL``, with a key)."""
    from urllib.parse import urlsplit

    from .backend import DEFAULT_BASE_URL, BackendOptions

    opts = BackendOptions.from_env()
    if not opts.api_key:
        return False
    here, there = urlsplit(opts.base_url or DEFAULT_BASE_URL), urlsplit(url)
    return (here.scheme, here.netloc) == (there.scheme, there.netloc)
