"""generate/state.py rule by rule, without rendering: the journal, takes and lock of a project
built directly in ``tmp_path`` (for mutation testing: each test runs in well under a second).

What is pinned: which takes are used (newest usable, same content, same source, same maker, not
flagged, file intact), when a take's file is trusted (inside build/takes, on disk, same size and
sha256), which tasks are "paid, not yet ours" (uncollected / open), what counts as paid against
what a placeholder would have cost, the lock's fields, and the writer lock around it all.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from storyboard.errors import StoryboardError
from storyboard.generate import state as state_module
from storyboard.generate.journaldb import Guarded
from storyboard.generate.journalrows import RowError
from storyboard.generate.state import (
    DRAFT,
    EMULATOR,
    LOCK_NAME,
    RUNWARE,
    BuildState,
    JournalTask,
    Take,
    lock_name,
    maker_class,
)
from storyboard.generate.writer import WriterBusy, holder
from storyboard.media.probe import media_key


def take(scene: str = "a", n: int = 1, **kw: Any) -> Take:
    fields: dict[str, Any] = {
        "scene": scene,
        "n": n,
        "key": f"key-{scene}",
        "source_take": None,
        "task_uuid": f"task-{scene}-{n}",
        "video_uuid": f"video-{scene}-{n}",
        "video_id": f"id-{scene}-{n}",
        "url": f"https://x.test/{scene}-{n}.mp4",
        "file": f"build/takes/{scene}/take-{n}.mp4",
        "size": 10,
        "sha256": "0" * 64,
        "cost": 0.4,
        "duration": 4.0,
        "offset": 0.5,
        "nsfw": False,
        "created_at": 1_700_000_000.0,
        "made_by": "runware https://api.runware.ai/v1",
    }
    fields.update(kw)
    return Take(**fields)


def put(root: Path, t: Take, data: bytes | None = None) -> Take:
    """Write the take's file with ``data`` and give the take its true size and hash."""
    data = data if data is not None else f"clip {t.scene} {t.n}".encode()
    path = root / t.file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    t.size, t.sha256 = len(data), hashlib.sha256(data).hexdigest()
    return t


@pytest.fixture
def st(tmp_path: Path) -> Any:
    s = BuildState(tmp_path)
    yield s
    s.close()


def raw(root: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """What another connection (another process) sees in the journal now."""
    db = sqlite3.connect(root / "build" / "journal.sqlite")
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def results(*uuids: str) -> list[dict[str, Any]]:
    return [{"taskUUID": "t", "videoUUID": u, "videoURL": f"https://x.test/{u}.mp4"} for u in uuids]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """``time.time`` as the journal sees it: the first value of the list (tests move it)."""
    now = [1000.0]
    monkeypatch.setattr(state_module.time, "time", lambda: now[0])
    return now


# -- provenance --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("made_by", "url", "want"),
    [
        ("runware https://api.runware.ai/v1", "http://127.0.0.1:9/x.mp4", RUNWARE),
        ("emulator", "https://cdn.example/x.mp4", EMULATOR),
        ("draft", None, DRAFT),
        (None, "http://127.0.0.1:8123/v/x.mp4", EMULATOR),
        (None, "http://localhost:8123/x.mp4", EMULATOR),
        (None, "http://localhost/x.mp4", EMULATOR),
        (None, "http://[::1]:8123/x.mp4", EMULATOR),
        ("", "http://127.0.0.1/x.mp4", EMULATOR),
        (None, "http://localhost.example.com/x.mp4", RUNWARE),
        (None, "https://127.0.0.1/x.mp4", RUNWARE),
        (None, "http://10.127.0.0.1/x.mp4", RUNWARE),
        (None, "https://cdn.runware.ai/x.mp4", RUNWARE),
        (None, None, RUNWARE),
        (None, "", RUNWARE),
    ],
)
def test_what_made_a_take(made_by: str | None, url: str | None, want: str) -> None:
    """Its own word first; before provenance was kept, a loopback http:// URL marks the
    emulator (it only ever serves from one); anything else is the real service."""
    assert maker_class(made_by, url) == want
    assert take(made_by=made_by, url=url).maker == want


def test_a_takes_media_key_is_its_content() -> None:
    t = take(sha256="ab" * 32, size=1234)
    assert t.media_key == media_key("ab" * 32, 1234) == "ab" * 16 + "-1234"


# -- the lock's fields -------------------------------------------------------------------------


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_take_is_written_to_the_lock_field_by_field_in_order(utc: Any) -> None:
    t = take("a", 3, source_take="b/2", nsfw=True, created_at=1_700_000_000.7)
    assert list(t.to_lock().items()) == [
        ("take", 3),
        ("key", "key-a"),
        ("task_uuid", "task-a-3"),
        ("video_uuid", "video-a-3"),
        ("video_id", "id-a-3"),
        ("url", "https://x.test/a-3.mp4"),
        ("cost", 0.4),
        ("file", "build/takes/a/take-3.mp4"),
        ("size", 10),
        ("sha256", "0" * 64),
        ("duration", 4.0),
        ("offset", 0.5),
        ("source_take", "b/2"),
        ("nsfw", True),
        ("created", "2023-11-14T22:13:20Z"),
        ("made_by", "runware https://api.runware.ai/v1"),
    ]


def test_a_lock_entry_is_read_back_as_the_same_take(utc: Any) -> None:
    t = take("a", 3, source_take="b/2", nsfw=True, offset=1.25, created_at=1_700_000_000.0)
    back = Take.from_lock("a", t.to_lock())
    assert back == t
    assert type(back.n) is int and type(back.size) is int and type(back.offset) is float


def test_a_short_lock_entry_gets_the_defaults() -> None:
    d = {
        "take": "2",
        "key": "k",
        "task_uuid": "t",
        "video_uuid": "v",
        "file": "build/takes/a/take-2.mp4",
        "size": "7",
        "sha256": "s",
    }
    assert Take.from_lock("a", d) == Take(
        scene="a",
        n=2,
        key="k",
        source_take=None,
        task_uuid="t",
        video_uuid="v",
        video_id=None,
        url=None,
        file="build/takes/a/take-2.mp4",
        size=7,
        sha256="s",
        cost=None,
        duration=None,
        offset=0.0,
        nsfw=False,
        created_at=0.0,
        made_by=None,
    )


# -- a task's price ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cost", "estimate", "price"),
    [(0.7, 0.4, 0.7), (0.0, 0.4, 0.0), (None, 0.4, 0.4), (None, None, 0.0), (None, 0.0, 0.0)],
)
def test_a_tasks_price_is_the_services_figure_once_known(
    cost: float | None, estimate: float | None, price: float
) -> None:
    t = JournalTask("u", "a", "k", None, {}, "done", None, cost, None, estimate=estimate)
    assert t.price == price


# -- opening the journal -----------------------------------------------------------------------


def test_the_journal_is_made_in_build_and_every_write_is_seen_at_once(tmp_path: Path) -> None:
    root = tmp_path / "new" / "project"  # not made yet
    st = BuildState(root)
    try:
        assert (root / "build" / "journal.sqlite").is_file()
        assert st.build == root / "build" and st.lock_path == root / LOCK_NAME
        assert st.db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert st.db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
        st.record_task("u1", "a", "k", None, {"taskUUID": "u1"})
        assert raw(root, "SELECT task_uuid, state FROM tasks") == [("u1", "pending")]
    finally:
        st.close()
    again = BuildState(root)  # an existing build folder and journal
    assert [t.task_uuid for t in again.all_tasks()] == ["u1"]
    again.close()


def test_a_variant_has_its_own_lock_and_shares_the_journal(tmp_path: Path) -> None:
    assert lock_name() == lock_name(None) == lock_name("") == "storyboard.lock" == LOCK_NAME
    assert lock_name("short") == "storyboard.short.lock"
    st = BuildState(tmp_path, variant="short")
    assert st.lock_path == tmp_path / "storyboard.short.lock"
    st.close()


def test_a_journal_from_before_estimates_and_provenance_is_brought_up_to_date(
    tmp_path: Path,
) -> None:
    (tmp_path / "build").mkdir()
    db = sqlite3.connect(tmp_path / "build" / "journal.sqlite")
    db.executescript(
        """
        CREATE TABLE tasks (task_uuid TEXT PRIMARY KEY, scene TEXT NOT NULL, key TEXT NOT NULL,
            source_take TEXT, request TEXT NOT NULL, state TEXT NOT NULL, results TEXT,
            cost REAL, error TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL);
        CREATE TABLE takes (scene TEXT NOT NULL, n INTEGER NOT NULL, key TEXT NOT NULL,
            source_take TEXT, task_uuid TEXT NOT NULL, video_uuid TEXT NOT NULL UNIQUE,
            video_id TEXT, url TEXT, file TEXT NOT NULL, size INTEGER NOT NULL,
            sha256 TEXT NOT NULL, cost REAL, duration REAL, offset REAL NOT NULL DEFAULT 0,
            nsfw INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL, PRIMARY KEY (scene, n));
        INSERT INTO tasks VALUES ('old', 'a', 'k', NULL, '{}', 'done', '[]', 0.5, NULL, 1, 1);
        INSERT INTO takes VALUES ('a', 1, 'k', NULL, 'old', 'v1', NULL,
            'http://127.0.0.1:9/v1.mp4', 'build/takes/a/take-1.mp4', 3, 's', 0.5, 4, 0, 0, 1);
        """
    )
    db.commit()
    db.close()
    st = BuildState(tmp_path)
    try:
        old = st.task("old")
        assert old is not None and old.estimate is None and old.cost == 0.5
        [t] = st.takes("a")
        assert t.made_by is None and t.maker == EMULATOR  # judged by its loopback URL
        st.record_task("new", "a", "k", None, {}, estimate=0.25)
        assert st.task("new").estimate == 0.25  # type: ignore[union-attr]
        st.add_take(take("a", 2, made_by="draft"))
        assert [x.made_by for x in st.takes("a")] == [None, "draft"]
    finally:
        st.close()
    cols = [r[1] for r in raw(tmp_path, "PRAGMA table_info(takes)")]
    assert cols[-1] == "made_by" and cols.count("made_by") == 1
    cols = [r[1] for r in raw(tmp_path, "PRAGMA table_info(tasks)")]
    assert cols[-1] == "estimate" and cols.count("estimate") == 1
    BuildState(tmp_path).close()  # brought up to date once: opened again as it is


@pytest.mark.parametrize(
    "edit", ["UPDATE tasks SET cost='free'", "UPDATE takes SET size='big'"], ids=["task", "take"]
)
def test_a_wrong_row_is_refused_when_the_journal_is_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: str
) -> None:
    """Every row is checked before any work, and the connection is closed (no backup made
    over the last good journal) and the writer lock let go."""
    st = BuildState(tmp_path)
    st.record_task("u1", "a", "k", None, {})
    st.add_take(take("a"))
    st.close()
    db = sqlite3.connect(tmp_path / "build" / "journal.sqlite")
    db.execute(edit)
    db.commit()
    db.close()
    closed: list[Path] = []
    real_close = Guarded.close

    def spy(self: Guarded) -> None:
        closed.append(self.path)
        real_close(self)

    monkeypatch.setattr(Guarded, "close", spy)
    with pytest.raises(RowError, match="was the journal edited by hand"):
        BuildState(tmp_path, writer="render")
    monkeypatch.undo()
    assert closed == [tmp_path / "build" / "journal.sqlite"]
    with pytest.raises(RowError):  # not WriterBusy: the writer lock was let go
        in_thread(lambda: BuildState(tmp_path, writer="pick", wait=False))
    assert holder(tmp_path) == ("pick", os.getpid())


@pytest.mark.parametrize("what", ["build-is-a-file", "journal-is-a-folder"])
def test_a_journal_that_cannot_be_opened_is_one_message(tmp_path: Path, what: str) -> None:
    if what == "build-is-a-file":
        (tmp_path / "build").write_text("not a folder")
    else:
        (tmp_path / "build" / "journal.sqlite").mkdir(parents=True)
    with pytest.raises(StoryboardError) as e:
        BuildState(tmp_path)
    assert str(e.value).startswith(f"{tmp_path / 'build'}: cannot open the build journal: ")


def test_closing_backs_up_the_journal_and_closes_it(tmp_path: Path) -> None:
    st = BuildState(tmp_path)
    st.record_task("u1", "a", "k", None, {"x": 1})
    st.close()
    bak = sqlite3.connect(tmp_path / "build" / "journal.sqlite.bak")
    assert bak.execute("SELECT task_uuid, request FROM tasks").fetchall() == [("u1", '{"x": 1}')]
    bak.close()
    with pytest.raises(sqlite3.ProgrammingError):
        st.db._db.execute("SELECT 1")  # the connection is closed


# -- the writer lock ---------------------------------------------------------------------------


def in_thread(fn: Any) -> Any:
    """Run ``fn`` in another thread (the writer lock excludes other threads) and return its
    result or raise its exception."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed back to the test
            out["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(30)
    assert not t.is_alive()
    if "error" in out:
        raise out["error"]
    return out["value"]


def test_a_writer_holds_the_project_until_it_closes(tmp_path: Path) -> None:
    st = BuildState(tmp_path, writer="render")
    try:
        assert holder(tmp_path) == ("render", os.getpid())
        with pytest.raises(WriterBusy) as e:
            in_thread(lambda: BuildState(tmp_path, writer="pick", wait=False))
        assert str(e.value) == (
            f"another render of this project is running (pid {os.getpid()}); not waiting"
        )
        in_thread(lambda: BuildState(tmp_path).close())  # a reader takes no writer lock
    finally:
        st.close()
    in_thread(lambda: BuildState(tmp_path, writer="pick", wait=False).close())
    assert holder(tmp_path) == ("pick", os.getpid())


def test_a_waiting_writer_says_so_and_gets_the_project_when_it_is_free(tmp_path: Path) -> None:
    st = BuildState(tmp_path, writer="render")
    said: list[str] = []
    waiting = threading.Event()

    def on_wait(msg: str) -> None:
        said.append(msg)
        waiting.set()

    failed: list[BaseException] = []

    def second_writer() -> None:
        try:
            BuildState(tmp_path, writer="pick", on_wait=on_wait).close()
        except BaseException as e:  # noqa: BLE001 - handed back to the test
            failed.append(e)
            waiting.set()

    t = threading.Thread(target=second_writer, daemon=True)
    t.start()
    try:
        assert waiting.wait(30)
    finally:
        st.close()
    t.join(30)
    assert not t.is_alive() and failed == []
    assert said == [f"another render of this project is running (pid {os.getpid()}); waiting"]
    assert holder(tmp_path) == ("pick", os.getpid())


# -- tasks -------------------------------------------------------------------------------------


def test_a_task_is_journaled_once_before_it_is_sent(st: BuildState, clock: list[float]) -> None:
    st.record_task("u1", "a", "k", "b/1", {"taskUUID": "u1", "n": [1]}, estimate=0.4)
    clock[0] = 2000.0
    st.record_task("u1", "z", "other", None, {"changed": True}, estimate=9.0)  # ignored
    t = st.task("u1")
    assert t == JournalTask(
        "u1", "a", "k", "b/1", {"taskUUID": "u1", "n": [1]}, "pending", None, None, None,
        created_at=1000.0, estimate=0.4,
    )  # fmt: skip
    assert raw(st.root, "SELECT created_at, updated_at FROM tasks") == [(1000.0, 1000.0)]
    assert st.task("missing") is None


def test_marking_a_task_keeps_what_it_does_not_change(st: BuildState, clock: list[float]) -> None:
    st.record_task("u1", "a", "k", None, {})
    clock[0] = 1500.0
    st.mark("u1", "submitted")
    assert raw(st.root, "SELECT state, results, cost, error, updated_at FROM tasks") == [
        ("submitted", None, None, None, 1500.0)
    ]
    st.mark("u1", "done", results=results("v1"), cost=0.5, error="slow")
    clock[0] = 1600.0
    st.mark("u1", "failed")  # results and cost kept, the error replaced
    t = st.task("u1")
    assert t is not None and (t.state, t.results, t.cost, t.error) == (
        "failed",
        results("v1"),
        0.5,
        None,
    )
    assert raw(st.root, "SELECT created_at, updated_at FROM tasks") == [(1000.0, 1600.0)]
    st.mark("u1", "done", results=[], cost=0.0)  # empty and zero are values, not "unchanged"
    t = st.task("u1")
    assert t is not None and t.results == [] and t.cost == 0.0


def test_every_task_and_take_is_listed_in_order(st: BuildState, clock: list[float]) -> None:
    for uid, when in [("u2", 3000.0), ("u1", 1000.0), ("u3", 2000.0)]:
        clock[0] = when
        st.record_task(uid, "a", "k", None, {})
    assert [t.task_uuid for t in st.all_tasks()] == ["u2", "u1", "u3"]  # as journaled
    for t in [take("b", 2), take("b", 1), take("a", 9), take("c", 1)]:
        st.add_take(t)
    assert [(t.scene, t.n) for t in st.all_takes()] == [("a", 9), ("b", 1), ("b", 2), ("c", 1)]
    assert [t.n for t in st.takes("b")] == [1, 2] and st.takes("none") == []


def test_what_is_paid_but_not_yet_ours(st: BuildState, clock: list[float]) -> None:
    """``pending``, ``submitted`` and ``done`` tasks whose clips are not all downloaded, oldest
    first; ``failed`` tasks and fully collected ones are not."""
    plan = [
        ("late", 5000.0, "submitted", None),
        ("collected", 1000.0, "done", results("c1", "c2")),
        ("half", 4000.0, "done", results("h1", "h2")),
        ("empty", 3000.0, "done", []),
        ("failed", 500.0, "failed", None),
        ("pending", 2000.0, "pending", None),
        ("submitted-with-clip", 2500.0, "submitted", results("s1")),
    ]
    for uid, when, state, res in plan:
        clock[0] = when
        st.record_task(uid, "a", "k", None, {})
        if state != "pending":
            st.mark(uid, state, results=res)
    for i, (uid, video) in enumerate([("collected", "c1"), ("collected", "c2"), ("half", "h1"),
                                      ("submitted-with-clip", "s1")]):  # fmt: skip
        st.add_take(take("a", i + 1, task_uuid=uid, video_uuid=video))
    st.add_take(take("b", 1, task_uuid="other", video_uuid="h2"))  # h2, but of another task
    assert [t.task_uuid for t in st.uncollected()] == [
        "pending",
        "submitted-with-clip",
        "empty",
        "half",
        "late",
    ]
    assert [t.task_uuid for t in st.open_tasks("a", "k", None)] == [
        "pending",
        "submitted-with-clip",
        "empty",
        "half",
        "late",
    ]


def test_open_tasks_are_those_of_this_scene_content_and_source(
    st: BuildState, clock: list[float]
) -> None:
    for uid, scene, key, source in [
        ("plain", "a", "k", None),
        ("extended", "a", "k", "a/1"),
        ("other-source", "a", "k", "a/2"),
        ("other-key", "a", "k2", None),
        ("other-scene", "b", "k", None),
    ]:
        clock[0] += 1
        st.record_task(uid, scene, key, source, {})
    st.record_task("failed", "a", "k", None, {})
    st.mark("failed", "failed", error="no")
    assert [t.task_uuid for t in st.open_tasks("a", "k", None)] == ["plain"]
    assert [t.task_uuid for t in st.open_tasks("a", "k", "a/1")] == ["extended"]
    assert st.open_tasks("a", "k3", None) == []


def test_spent_is_every_cost_known(st: BuildState) -> None:
    for uid, cost in [("u1", 0.5), ("u2", None), ("u3", 0.25)]:
        st.record_task(uid, "a", "k", None, {}, estimate=9.0)
        st.mark(uid, "done", cost=cost)
    assert st.spent() == 0.75


def test_paid_is_split_from_what_placeholders_would_have_cost(st: BuildState) -> None:
    """Each task counts by its first take's maker; a task without takes (or whose first take
    predates provenance and has no URL) counts as made by the backend in use now."""
    tasks = {
        "real": 1.0,  # first take by the service
        "emu": 2.0,  # made_by emulator
        "old-loopback": 4.0,  # no made_by, loopback URL: the emulator
        "old-https": 8.0,  # no made_by, https URL: the service
        "unknown": 16.0,  # no made_by, no URL: the backend in use
        "no-take": 32.0,
        "mixed": 64.0,  # first take (n=1, scene b) a draft, a later one (n=2, scene a) real
        "free": None,
        "free-real": None,
    }
    for uid, cost in tasks.items():
        st.record_task(uid, "a", "k", None, {})
        st.mark(uid, "done", cost=cost)
    for t in [
        take("a", 1, task_uuid="real"),
        take("a", 3, task_uuid="emu", made_by="emulator"),
        take("a", 4, task_uuid="old-loopback", made_by=None, url="http://127.0.0.1:9/x.mp4"),
        take("a", 5, task_uuid="old-https", made_by=None, url="https://cdn.example/x.mp4"),
        take("a", 6, task_uuid="unknown", made_by=None, url=None),
        take("a", 2, task_uuid="mixed"),
        take("b", 1, task_uuid="mixed", made_by="draft"),
        take("c", 1, task_uuid="free", made_by="emulator"),
        take("c", 2, task_uuid="free-real"),
    ]:
        st.add_take(t)
    assert st.spent_split(placeholder_backend=False) == (1.0 + 8.0 + 16.0 + 32.0, 2.0 + 4.0 + 64.0)
    assert st.spent_split(placeholder_backend=True) == (1.0 + 8.0, 2.0 + 4.0 + 16.0 + 32.0 + 64.0)


def test_a_journal_that_cannot_be_written_is_one_message(st: BuildState) -> None:
    st.db._db.execute("PRAGMA query_only=ON")
    path = st.build / "journal.sqlite"
    for write in [
        lambda: st.record_task("u1", "a", "k", None, {}),
        lambda: st.mark("u1", "done"),
        lambda: st.add_take(take("a")),
    ]:
        with pytest.raises(StoryboardError) as e:
            write()
        assert str(e.value) == (
            f"{path}: cannot write the journal: attempt to write a readonly database"
            " (is the disk full?)"
        )
    st.db._db.execute("PRAGMA query_only=OFF")


# -- takes -------------------------------------------------------------------------------------


def test_a_take_is_kept_field_by_field(st: BuildState) -> None:
    t = take("a", 2, source_take="a/1", nsfw=True, made_by="draft", cost=None, duration=None)
    st.add_take(t)
    assert st.takes("a") == [t]
    assert st.take_by_video("video-a-2") == t and st.take_by_video("nope") is None
    assert raw(st.root, "SELECT nsfw FROM takes") == [(1,)]
    again = take("a", 2, video_uuid="video-a-2b", sha256="1" * 64)  # same scene and number
    st.add_take(again)
    assert st.takes("a") == [again]


def test_the_next_take_number_follows_the_highest(st: BuildState) -> None:
    assert st.next_take_number("a") == 1
    st.add_take(take("a", 1))
    st.add_take(take("a", 4))
    st.add_take(take("b", 7))
    assert st.next_take_number("a") == 5 and st.next_take_number("b") == 8


def test_a_takes_file_is_trusted_only_inside_build_takes_whole_and_unchanged(
    st: BuildState,
) -> None:
    root = st.root
    good = put(root, take("a", 1))
    assert st.path_of(good) == (root / good.file).resolve() and st.file_ok(good)
    assert st.file_ok(good)  # the hash remembered: same answer
    outside = root / "elsewhere.mp4"
    outside.write_bytes(b"clip a 1")
    escaped = take("a", 1, file="build/takes/../../elsewhere.mp4", size=8,
                   sha256=hashlib.sha256(b"clip a 1").hexdigest())  # fmt: skip
    assert st.path_of(escaped) is None and not st.file_ok(escaped)
    (root / "build/takes/link").symlink_to(outside)
    linked = take("a", 1, file="build/takes/link", size=8, sha256=escaped.sha256)
    assert st.path_of(linked) is None and not st.file_ok(linked)
    missing = take("a", 1, file="build/takes/a/none.mp4")
    assert st.path_of(missing) == root / "build/takes/a/none.mp4" and not st.file_ok(missing)
    folder = take("a", 1, file="build/takes/a", size=good.size, sha256=good.sha256)
    assert not st.file_ok(folder)
    assert not st.file_ok(take("a", 1, file=good.file, size=good.size + 1, sha256=good.sha256))
    assert not st.file_ok(take("a", 1, file=good.file, size=good.size, sha256="0" * 64))
    long_name = take("a", 1, file="build/takes/a/" + "x" * 300, size=1, sha256=good.sha256)
    assert not st.file_ok(long_name)  # stat fails (name too long): not trusted, no traceback


def test_a_take_whose_bytes_changed_is_not_trusted(st: BuildState) -> None:
    t = put(st.root, take("a", 1), b"0123456789")
    assert st.file_ok(t)
    (st.root / t.file).write_bytes(b"0123456780")  # same size, one byte changed
    assert not st.file_ok(t)


def test_the_take_used_is_the_newest_usable_one_of_this_content(st: BuildState) -> None:
    root = st.root
    t1 = put(root, take("a", 1))
    t2 = put(root, take("a", 2))
    t3 = put(root, take("a", 3, key="other"))
    t4 = put(root, take("a", 4, source_take="a/1"))
    t5 = put(root, take("a", 5, nsfw=True))
    t6 = put(root, take("a", 6, made_by="emulator"))
    t7 = take("a", 7)  # its file was never written
    for t in (t1, t2, t3, t4, t5, t6, t7):
        st.add_take(t)
    assert st.cached_take("a", "key-a", None) == t6  # any maker: the newest usable
    assert st.cached_take("a", "key-a", None, maker=RUNWARE) == t2
    assert st.cached_take("a", "key-a", None, maker=EMULATOR) == t6
    assert st.cached_take("a", "key-a", None, maker=DRAFT) is None
    assert st.cached_take("a", "other", None) == t3
    assert st.cached_take("a", "key-a", "a/1") == t4
    assert st.cached_take("a", "key-a", "a/9") is None
    assert st.cached_take("b", "key-a", None) is None
    (root / t2.file).write_bytes(b"changed!!!")
    assert st.cached_take("a", "key-a", None, maker=RUNWARE) == t1
    (root / t1.file).unlink()
    # none usable: the newest paid one, to be fetched again from its URL (never bought again)
    assert st.cached_take("a", "key-a", None, maker=RUNWARE) == t7 and st.fetchable(t7)
    assert st.cached_take("a", "key-a", None, maker=EMULATOR) == t6  # usable
    (root / t6.file).unlink()
    assert st.cached_take("a", "key-a", None, maker=EMULATOR) is None  # made again, free


# -- the lock ----------------------------------------------------------------------------------


def test_the_lock_is_read_when_opened_and_again_on_demand(tmp_path: Path, utc: Any) -> None:
    st = BuildState(tmp_path)
    assert st.lock == {} and not st.lock_path.exists()
    st.write_lock(["a"])
    assert not st.lock_path.exists()  # nothing made yet: no empty lock
    st.lock = {"b": take("b", 2), "a": take("a", 1), "gone": take("gone", 1)}
    st.write_lock(["a", "b"])
    scenes = yaml.safe_load(st.lock_path.read_text())["scenes"]
    assert list(scenes) == ["a", "b"] and scenes["b"]["take"] == 2
    assert st.reload_lock() == {"a": take("a", 1), "b": take("b", 2)}
    st.close()
    again = BuildState(tmp_path)
    assert again.lock == {"a": take("a", 1), "b": take("b", 2)}
    again.close()
    variant = BuildState(tmp_path, variant="v")
    assert variant.lock == {}  # a variant's film has its own lock
    variant.close()


def test_a_hostile_lock_is_refused_when_the_state_is_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refused, and nothing is left open: the journal's connection is closed (it was left
    open until the object was collected) and the writer lock released."""
    opened: list[sqlite3.Connection] = []
    real = sqlite3.connect

    def connect(*a: Any, **k: Any) -> sqlite3.Connection:
        opened.append(real(*a, **k))
        return opened[-1]

    monkeypatch.setattr(state_module.sqlite3, "connect", connect)
    (tmp_path / LOCK_NAME).write_text("scenes:\n  a: {take: 1}\n")
    with pytest.raises(StoryboardError, match="unreadable lock file"):
        BuildState(tmp_path, writer="render", wait=False)
    assert opened
    for conn in opened:
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            conn.execute("SELECT 1")
    (tmp_path / LOCK_NAME).unlink()
    BuildState(tmp_path, writer="render", wait=False).close()  # the writer lock was released


def test_the_flagged_take_is_the_newest_intact_flagged_one_of_this_content(
    st: BuildState,
) -> None:
    """A take the provider flagged NSFW is paid for and kept, out of the cut: found again by
    its content (and source take, and maker), never bought again."""
    root = st.root
    t1 = put(root, take("a", 1, nsfw=True))
    t2 = put(root, take("a", 2, nsfw=True))
    t3 = put(root, take("a", 3))  # not flagged
    t4 = put(root, take("a", 4, nsfw=True, key="other"))
    t5 = put(root, take("a", 5, nsfw=True, source_take="a/1"))
    t6 = put(root, take("a", 6, nsfw=True, made_by="emulator"))
    t7 = take("a", 7, nsfw=True)  # its file was never written
    for t in (t1, t2, t3, t4, t5, t6, t7):
        st.add_take(t)
    assert st.flagged_take("a", "key-a", None) == t6
    assert st.flagged_take("a", "key-a", None, maker=RUNWARE) == t2
    assert st.flagged_take("a", "key-a", None, maker=EMULATOR) == t6
    assert st.flagged_take("a", "key-a", None, maker=DRAFT) is None
    assert st.flagged_take("a", "other", None) == t4
    assert st.flagged_take("a", "key-a", "a/1") == t5
    assert st.flagged_take("a", "key-a", "a/9") is None
    assert st.flagged_take("b", "key-a", None) is None
    (root / t2.file).write_bytes(b"changed!!!")
    assert st.flagged_take("a", "key-a", None, maker=RUNWARE) == t1
    (root / t1.file).unlink()
    assert st.flagged_take("a", "key-a", None, maker=RUNWARE) is None
    assert st.cached_take("a", "key-a", None, maker=RUNWARE) == t3
