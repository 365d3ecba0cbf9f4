"""A render repeated when nothing changed is answered from the stamp the last no-op render
left (build/.noop-render.json), with the same words; every change of what a render reads
defeats it. A render that did work rehearses the no-op that would follow it (in its own
process, silently) and leaves that one's stamp, so the first render again is answered too."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import write_project

import storyboard.api as sb
from storyboard.cli import noop
from storyboard.cli.main import main
from storyboard.emulator import Emulator, EmulatorConfig

BOARD = (
    "title: Again\ndefaults: {duration: 4}\n"
    "scenes:\n  - {id: a, prompt: A red kite.}\n  - {id: b, prompt: A grey sea.}\n"
    "output: {size: 320x180, fps: 10}\n"  # the film at the draft clips' size: only for speed
)


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(latency=0.05, draft=True, identify=False)) as emu:
        yield emu


@pytest.fixture(scope="module")
def first_render(tmp_path_factory: pytest.TempPathFactory, emulator: Emulator) -> Path:
    """The project after its first render (which did work, then rehearsed the no-op): made
    once for the module, copied for each test (the takes and the film are what a render
    leaves; the copy's stamp is made again in its own folder)."""
    with pytest.MonkeyPatch.context() as m:
        m.setenv("RUNWARE_API_KEY", "key-4b1d-never-written")
        m.setenv("RUNWARE_BASE_URL", emulator.base_url)
        m.setattr(noop, "VOLATILE", noop.VOLATILE | {"PYTEST_CURRENT_TEST"})
        p = write_project(tmp_path_factory.mktemp("first") / "p", BOARD, {"notes/a.txt": "x"})
        assert main(["render", str(p), "-q"]) == 0
    assert (p / "build" / noop.STAMP).is_file()
    (p / "build" / noop.STAMP).unlink()
    return p


@pytest.fixture
def rendered(
    tmp_path: Path,
    first_render: Path,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys,
) -> Path:
    monkeypatch.setenv("RUNWARE_API_KEY", "key-4b1d-never-written")
    monkeypatch.setenv("RUNWARE_BASE_URL", emulator.base_url)
    # pytest names the running test and its phase in the environment
    monkeypatch.setattr(noop, "VOLATILE", noop.VOLATILE | {"PYTEST_CURRENT_TEST"})
    p = tmp_path / "p"
    shutil.copytree(first_render, p, symlinks=True)
    capsys.readouterr()
    assert main(["render", str(p), "-q"]) == 0  # nothing to do: the stamp is left
    assert (p / "build" / noop.STAMP).is_file()
    capsys.readouterr()
    return p


def again(p: Path, capsys, *extra: str) -> tuple[bool, str, str]:
    """Render again: (answered from the stamp?, stdout, stderr)."""
    calls: list[int] = []
    real = sb.load

    def load(*a: object, **k: object) -> object:
        calls.append(1)
        return real(*a, **k)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as m:
        m.setattr(sb, "load", load)
        assert main(["render", str(p), "-q", *extra]) == 0
    out = capsys.readouterr()
    return not calls, out.out, out.err


def test_a_repeated_no_op_is_answered_from_the_stamp_with_the_same_words(
    rendered: Path, capsys
) -> None:
    (p := rendered)
    fast, out, err = again(p, capsys)
    assert fast
    assert "film up to date" in err and "(up to date)" in out and "cached" in out
    stamp = (p / "build" / noop.STAMP).read_text()
    assert "key-4b1d-never-written" not in stamp  # the API key is not kept
    os.utime(p / "storyboard.yaml")  # a save with the same bytes: checked in full once
    slow, out2, err2 = again(p, capsys)

    def words(s: str) -> str:
        return re.sub(r" in \d+\.\d s", " in T s", s)

    assert not slow
    assert words(out2) == words(out), (out2, out)
    assert words(err2) == words(err), (err2, err)
    assert again(p, capsys)[0]  # and its stamp answers the next one


EDITS: dict[str, Callable[[Path, pytest.MonkeyPatch], object]] = {
    "prompt edited": lambda p, m: (p / "storyboard.yaml").write_text(
        BOARD.replace("red kite", "blue kite")
    ),
    "same bytes written again": lambda p, m: (p / "storyboard.yaml").write_text(BOARD),
    "file added": lambda p, m: (p / "notes" / "b.txt").write_text("y"),
    "file removed": lambda p, m: (p / "notes" / "a.txt").unlink(),
    "take replaced": lambda p, m: next((p / "build" / "takes").rglob("*.mp4")).write_bytes(b""),
    "film removed": lambda p, m: next((p / "build").glob("*.mp4")).unlink(),
    "lock edited": lambda p, m: (p / "storyboard.lock").write_text(
        (p / "storyboard.lock").read_text() + "\n"
    ),
    "environment": lambda p, m: m.setenv("STORYBOARD_JOBS", "1"),
    "service": lambda p, m: m.setenv("RUNWARE_BASE_URL", os.environ["RUNWARE_BASE_URL"] + "/"),
    "version": lambda p, m: m.setattr("storyboard.__version__", "9.9.9"),
    "working folder": lambda p, m: m.chdir(p),
}


@pytest.mark.parametrize("change", list(EDITS))
def test_every_change_defeats_the_stamp(
    rendered: Path, capsys, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    EDITS[change](rendered, monkeypatch)
    calls: list[int] = []
    monkeypatch.setattr(noop, "replay", lambda argv, real=noop.replay: calls.append(1) or None
                        if real(argv) is None else 0)  # fmt: skip
    main(["render", str(rendered), "-q"])
    capsys.readouterr()
    assert calls  # asked, and refused: the render ran in full


def test_other_command_lines_are_never_answered_from_it(rendered: Path, capsys) -> None:
    assert noop.project_of(["render", str(rendered), "-q"]) == rendered
    for argv in (
        ["render", str(rendered)],  # another command line than the recorded one
        ["render", str(rendered), "-q", "--retake", "a"],
        ["render", str(rendered), "-q", "--force"],
        ["compose", str(rendered)],
    ):
        assert noop.replay(argv) is None


def test_a_file_the_render_read_elsewhere_defeats_it_when_it_changes(
    rendered: Path, capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("a")
    (rendered / "storyboard.yaml").write_text(BOARD + "\n")
    monkeypatch.setattr(noop, "_package", lambda: tmp_path / "pkg")  # (code: a tree of its own)
    (tmp_path / "pkg").mkdir()
    real = noop.Recorder.finish

    def finish(self: noop.Recorder, code: int) -> None:
        self.first[str(outside)] = noop._stat(str(outside))  # as if the render had read it
        self.opened.add(str(outside))
        real(self, code)

    monkeypatch.setattr(noop.Recorder, "finish", finish)
    assert main(["render", str(rendered), "-q"]) == 0
    assert noop.replay(["render", str(rendered), "-q"]) == 0
    outside.write_text("b")
    assert noop.replay(["render", str(rendered), "-q"]) is None
    (tmp_path / "pkg" / "x.py").write_text("")
    outside.write_text("a")
    assert noop.replay(["render", str(rendered), "-q"]) is None  # storyboard's code changed


def test_no_stamp_when_the_storyboard_changed_while_the_render_ran(
    rendered: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    (rendered / "build" / noop.STAMP).unlink()
    yaml = rendered / "storyboard.yaml"
    real = sb.load

    def load(*a: object, **k: object) -> object:
        project = real(*a, **k)  # type: ignore[arg-type]
        # saved by another program (an editor) once the render has read it
        new = BOARD.replace("red kite", "blue kite")
        subprocess.run(["sh", "-c", 'printf "%s" "$1" > "$2"', "sh", new, str(yaml)], check=True)
        return project

    monkeypatch.setattr(sb, "load", load)
    assert main(["render", str(rendered), "-q"]) == 0
    assert not (rendered / "build" / noop.STAMP).exists()


def test_a_project_named_relative_to_the_working_folder_gets_its_stamp(
    rendered: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``storyboard render projects/x`` (as users type it): a file the render wrote itself
    beside the storyboard (the lock) is told apart from one changed under its feet, whatever
    form the project's path has."""
    (rendered / "build" / noop.STAMP).unlink()
    monkeypatch.chdir(rendered.parent)
    argv = ["render", rendered.name, "-q"]
    lock = Path(rendered.name) / "storyboard.lock"

    def rewrite_lock() -> None:  # written again by the render itself
        lock.write_text(lock.read_text())

    real_saw = noop.saw

    def saw(step: str) -> None:
        if step == "compose":
            rewrite_lock()
        real_saw(step)

    monkeypatch.setattr(noop, "saw", saw)
    assert main(argv) == 0
    assert (rendered / "build" / noop.STAMP).is_file()
    capsys.readouterr()
    monkeypatch.setattr(noop, "saw", real_saw)
    assert noop.replay(argv) == 0


def _words(s: str) -> str:
    return re.sub(r" in \d+\.\d s", " in T s", s)


def test_a_render_that_did_work_leaves_the_stamp_of_the_no_op_after_it(
    tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("RUNWARE_API_KEY", "key-4b1d-never-written")
    monkeypatch.setenv("RUNWARE_BASE_URL", emulator.base_url)
    monkeypatch.setattr(noop, "VOLATILE", noop.VOLATILE | {"PYTEST_CURRENT_TEST"})
    p = write_project(tmp_path / "p", BOARD)
    charged = len(emulator.ledger)
    assert main(["render", str(p), "-q"]) == 0
    first = capsys.readouterr()
    assert len(emulator.ledger) == charged + 2
    assert first.out.count("spent ") == 1  # the rehearsal printed nothing
    assert "composed in" in first.err and "film up to date" not in first.err
    fast, out, err = again(p, capsys)
    assert fast  # the first render again is answered from the stamp
    assert "film up to date" in err and "(up to date)" in out
    (p / "build" / noop.STAMP).unlink()
    slow, out2, err2 = again(p, capsys)  # the same render, checked in full
    assert not slow
    assert (_words(out), _words(err)) == (_words(out2), _words(err2))
    assert len(emulator.ledger) == charged + 2


def test_the_rehearsal_never_spends_or_composes(
    tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """Something changed between the render and its rehearsal (its check passed, then an
    editor saved): the rehearsal buys nothing, composes nothing and leaves no stamp."""
    monkeypatch.setenv("RUNWARE_API_KEY", "key-4b1d-never-written")
    monkeypatch.setenv("RUNWARE_BASE_URL", emulator.base_url)
    p = write_project(tmp_path / "p", BOARD)
    film = p / "build" / "again.mp4"
    real = noop.nothing_to_do

    def then_edited(root: Path, edit: Callable[[], object]) -> bool:
        ok = real(root)
        edit()
        return ok

    for edit in (
        lambda: (p / "storyboard.yaml").write_text(BOARD.replace("red kite", "green kite")),
        lambda: (p / "storyboard.yaml").write_text(BOARD + "edit: {fade_in: 1}\n"),
    ):
        (p / "storyboard.yaml").write_text(BOARD)
        assert main(["render", str(p), "-q"]) == 0  # whatever it had to do
        capsys.readouterr()
        (p / "storyboard.yaml").write_text(BOARD + "# a comment\n")  # the film is current
        charged, made = len(emulator.ledger), film.stat().st_mtime_ns
        with pytest.MonkeyPatch.context() as m:
            m.setattr(noop, "nothing_to_do", lambda root, e=edit: then_edited(root, e))
            m.setattr(noop.Recorder, "did_work", lambda self: True)  # as if it had
            assert main(["render", str(p), "-q"]) == 0
        capsys.readouterr()
        assert len(emulator.ledger) == charged  # nothing bought
        assert film.stat().st_mtime_ns == made  # nothing composed
        assert noop.replay(["render", str(p), "-q"]) is None  # no stamp of the edited board


def test_a_render_that_failed_rehearses_nothing(
    tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("RUNWARE_API_KEY", "key-4b1d-never-written")
    monkeypatch.setenv("RUNWARE_BASE_URL", emulator.base_url)
    p = write_project(tmp_path / "p", BOARD)
    calls: list[Path] = []
    monkeypatch.setattr(noop, "nothing_to_do", lambda root: calls.append(root) or True)
    assert main(["render", str(p), "-q", "--no-compose"]) == 0  # not a plain render
    assert main(["render", str(p / "nowhere"), "-q"]) != 0
    assert calls == []


# hostile3 N1-N4: the stamp is read and written defensively, and covers the shared templates


def test_a_shared_template_edited_defeats_the_stamp(
    rendered: Path, capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A regular install keeps the shared templates under sys.prefix/share (which the audit
    hook does not record): they are part of what the stamp checks, like the package's code."""
    shared = tmp_path / "share" / "templates"
    shared.mkdir(parents=True)
    (shared / "shot.j2").write_text("{{ prompt }}")
    monkeypatch.setattr("storyboard.files.shared_templates", lambda: shared)
    (rendered / "build" / noop.STAMP).unlink()
    assert main(["render", str(rendered), "-q"]) == 0
    capsys.readouterr()
    assert noop.replay(["render", str(rendered), "-q"]) == 0
    capsys.readouterr()
    (shared / "shot.j2").write_text("{{ prompt }}, in the rain")
    assert noop.replay(["render", str(rendered), "-q"]) is None
    (shared / "shot.j2").write_text("{{ prompt }}")
    (rendered / "build" / noop.STAMP).unlink()
    assert main(["render", str(rendered), "-q"]) == 0
    capsys.readouterr()
    assert noop.replay(["render", str(rendered), "-q"]) == 0
    capsys.readouterr()
    # N14: a template looked for and not found (`include ... ignore missing`) appears
    (shared / "house-look.j2").write_text("warm light")
    assert noop.replay(["render", str(rendered), "-q"]) is None


def test_paths_are_judged_by_whole_parts() -> None:
    """N1: a project under /usr-data or beside the venv is not taken for Python's own files."""
    assert noop._under("/usr/lib/x.py", ("/usr",))
    assert noop._under("/usr", ("/usr/",))
    assert not noop._under("/usrdata/p/storyboard.yaml", ("/usr",))
    assert not noop._under("/work/venv-projects/p", ("/work/venv",))


def test_a_library_installed_or_upgraded_defeats_the_stamp(
    rendered: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert noop.replay(["render", str(rendered), "-q"]) == 0
    monkeypatch.setattr(noop, "_site", lambda: [[1, 2, 3, 4]])
    assert noop.replay(["render", str(rendered), "-q"]) is None


def test_a_stamp_that_is_a_link_is_replaced_not_written_through(
    rendered: Path, capsys, tmp_path: Path
) -> None:
    outside = tmp_path / "precious.txt"
    outside.write_text("precious")
    stamp = rendered / "build" / noop.STAMP
    stamp.unlink()
    stamp.symlink_to(outside)
    assert noop.replay(["render", str(rendered), "-q"]) is None  # a link is not read
    assert main(["render", str(rendered), "-q"]) == 0
    capsys.readouterr()
    assert outside.read_text() == "precious"
    assert stamp.is_file() and not stamp.is_symlink()


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "huge", "folder"])
def test_a_stamp_that_is_no_plain_file_is_ignored_at_once(
    rendered: Path, capsys, kind: str
) -> None:
    import threading

    stamp = rendered / "build" / noop.STAMP
    stamp.unlink()
    if kind == "fifo":
        os.mkfifo(stamp)
    elif kind == "dev-zero":
        stamp.symlink_to("/dev/zero")
    elif kind == "huge":
        with open(stamp, "wb") as f:
            f.truncate(2**30)  # sparse: no disk used
    else:
        stamp.mkdir()
    answer: list[int | None] = []
    t = threading.Thread(
        target=lambda: answer.append(noop.replay(["render", str(rendered), "-q"])), daemon=True
    )
    t.start()
    t.join(10)
    assert not t.is_alive() and answer == [None]


FORGED = {
    "words changed by hand": lambda d: d.update(
        words=[[fd, t.replace("cached", "FORGED")] for fd, t in d["words"]]
    ),
    "words not a list of pairs": lambda d: d.update(words=5),
    "a stream that is not 1 or 2": lambda d: d.update(words=[[7, "x"]]),
    "words missing": lambda d: d.pop("words"),
    "seen a list": lambda d: d.update(seen=["x"]),
    "others a list": lambda d: d["seen"].update(others=["x"]),
    "a NUL in a path": lambda d: d["seen"]["others"].update({"/tmp/a\x00b": None}),
    "not an object": lambda d: d.clear(),
}


@pytest.mark.parametrize("change", list(FORGED))
def test_a_stamp_changed_by_hand_is_never_replayed(rendered: Path, capsys, change: str) -> None:
    import json

    stamp = rendered / "build" / noop.STAMP
    wrapped = json.loads(stamp.read_text())
    FORGED[change](wrapped["stamp"])  # the digest beside it is left as it was
    stamp.write_text(json.dumps(wrapped))
    assert noop.replay(["render", str(rendered), "-q"]) is None
    assert main(["render", str(rendered), "-q"]) == 0  # the render runs in full, as always
    out = capsys.readouterr().out
    assert "FORGED" not in out and "cached" in out


@pytest.mark.parametrize("change", [c for c in FORGED if c != "words changed by hand"])
def test_a_stamp_of_the_wrong_shape_is_ignored_even_with_its_digest(
    rendered: Path, capsys, change: str
) -> None:
    """Whatever the stamp holds, a replay never raises: the render runs in full."""
    import hashlib
    import json

    stamp = rendered / "build" / noop.STAMP
    wrapped = json.loads(stamp.read_text())
    FORGED[change](wrapped["stamp"])
    body = json.dumps(wrapped["stamp"], sort_keys=True)
    wrapped["sha256"] = hashlib.sha256(body.encode()).hexdigest()
    stamp.write_text(json.dumps(wrapped))
    assert noop.replay(["render", str(rendered), "-q"]) is None


def _recorded(p: Path, words: list[tuple[int, str]], **noop_flags: bool) -> noop.Recorder:
    """A recorder over ``p`` that saw a no-op render print ``words``."""
    rec = noop.Recorder(["render", str(p), "-q"], p, echo=False)
    rec.restore()
    rec.words[:] = words
    rec.noop.update({"generate": True, "compose": True, **noop_flags})
    return rec


class _Both:
    """stdout and stderr into one list, in order."""

    def __init__(self, fd: int, sink: list[tuple[int, str]]):
        self.fd, self.sink = fd, sink

    def write(self, s: str) -> int:
        self.sink.append((self.fd, s))
        return len(s)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def _replayed(p: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]] | None:
    got: list[tuple[int, str]] = []
    with monkeypatch.context() as m:
        m.setattr("sys.stdout", _Both(1, got))
        m.setattr("sys.stderr", _Both(2, got))
        code = noop.replay(["render", str(p), "-q"])
    return got if code == 0 else None


def test_the_words_come_back_in_their_order_and_only_the_timing_changes(
    rendered: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """N6, N11: stdout and stderr interleaved as printed; only the render's own timing is
    filled in, never text that looks like it in a path."""
    (rendered / "build" / noop.STAMP).unlink()
    words = [
        (2, "[   0.0s] a: cached: take 1\n"),
        (1, "a  cached  1\n"),
        (1, "spent $0 (would cost $0.00) in 7.3 s; lock: /x{seconds}/take in 4.0 s; lock: /l\n"),
        (2, "film up to date: /x{seconds}/take in 4.0 s/f.mp4\n"),
        (1, "film: /x{seconds}/f.mp4 (up to date)\n"),
    ]
    _recorded(rendered, words).finish(0)
    got = _replayed(rendered, monkeypatch)
    assert got is not None
    assert [fd for fd, _ in got] == [fd for fd, _ in words]
    texts = [t for _, t in got]
    assert texts[2].startswith("spent $0 (would cost $0.00) in 0.")
    assert texts[2].endswith(" s; lock: /x{seconds}/take in 4.0 s; lock: /l\n")
    assert texts[3:] == [t for _, t in words][3:]


def test_another_terminal_size_is_not_replayed(
    rendered: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (rendered / "build" / noop.STAMP).unlink()
    monkeypatch.setattr(noop, "_terminal_size", lambda: [100, 40])
    _recorded(rendered, [(1, "x\n")]).finish(0)
    assert _replayed(rendered, monkeypatch) is not None
    monkeypatch.setattr(noop, "_terminal_size", lambda: [40, 60])
    assert _replayed(rendered, monkeypatch) is None


def test_a_render_that_waited_for_another_leaves_no_stamp(rendered: Path) -> None:
    """N9: its words hold "waiting", which a later render would repeat forever."""
    (rendered / "build" / noop.STAMP).unlink()
    for busy in (
        "another compose of this project is running (pid 20974); waiting\n",
        "another render of this project is running; waiting\n",
    ):
        _recorded(rendered, [(2, busy), (1, "a  cached  1\n")]).finish(0)
        assert not (rendered / "build" / noop.STAMP).exists()


def test_a_film_removed_by_another_program_while_it_ran_leaves_no_stamp(
    rendered: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """N5: files under build/ are exempt only when the render wrote them itself."""
    (rendered / "build" / noop.STAMP).unlink()
    film = next((rendered / "build").glob("*.mp4"))
    real_saw = noop.saw

    def saw(step: str) -> None:
        real_saw(step)
        if step == "compose":
            film.unlink()  # another program, after the render found the film up to date

    monkeypatch.setattr(noop, "saw", saw)
    assert main(["render", str(rendered), "-q"]) == 0
    assert not (rendered / "build" / noop.STAMP).exists()


def test_ctrl_c_during_the_rehearsal_is_quiet(
    tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """N7: the render had finished: its own result stands, with no traceback."""
    monkeypatch.setenv("RUNWARE_API_KEY", "k")
    monkeypatch.setenv("RUNWARE_BASE_URL", emulator.base_url)
    p = write_project(tmp_path / "p", BOARD)

    def interrupted(root: Path) -> bool:
        raise KeyboardInterrupt

    monkeypatch.setattr(noop, "nothing_to_do", interrupted)
    assert main(["render", str(p), "-q"]) == 0
    assert "Traceback" not in capsys.readouterr().err
    assert not (p / "build" / noop.STAMP).exists()


def test_the_rehearsal_waits_for_nobody(
    tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """N8: another command took the project once the render was done: the rehearsal stops at
    once (and leaves no stamp) instead of waiting, silently, for it."""
    import threading
    import time

    from storyboard.generate.writer import project_writer

    monkeypatch.setenv("RUNWARE_API_KEY", "k")
    monkeypatch.setenv("RUNWARE_BASE_URL", emulator.base_url)
    p = write_project(tmp_path / "p", BOARD)
    held = threading.Event()

    def other() -> None:
        with project_writer(p, "compose"):
            held.set()
            time.sleep(20)  # far longer than the render: a wait would show

    real = noop.nothing_to_do

    def then_busy(root: Path) -> bool:
        ok = real(root)
        threading.Thread(target=other, daemon=True).start()
        held.wait(10)
        return ok

    monkeypatch.setattr(noop, "nothing_to_do", then_busy)
    t0 = time.monotonic()
    assert main(["render", str(p), "-q"]) == 0
    assert time.monotonic() - t0 < 15
    assert not (p / "build" / noop.STAMP).exists()


def test_a_replay_into_a_closed_pipe_ends_quietly(
    rendered: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """N10: as a full render does (exit 141, no traceback)."""

    def gone(argv: list[str]) -> int:
        raise BrokenPipeError

    monkeypatch.setattr(noop, "replay", gone)
    monkeypatch.setattr(sys.modules["storyboard.cli.main"], "_silence_output", lambda: None)
    assert main(["render", str(rendered), "-q"]) == 141


def test_a_render_asked_only_to_check_sends_nothing(
    tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """N13: the rehearsal's guard does not depend on prices (a model whose price no source
    gives counts $0, which a $0 budget lets through): nothing at all is sent."""
    from storyboard.errors import StoryboardError

    monkeypatch.setenv("RUNWARE_API_KEY", "k")
    monkeypatch.setenv("RUNWARE_BASE_URL", emulator.base_url)
    p = write_project(tmp_path / "p", BOARD)
    charged = len(emulator.ledger)
    with pytest.raises(StoryboardError, match="nothing sent"):
        sb.load(p).render(only_if_up_to_date=True)
    assert len(emulator.ledger) == charged
    assert not list((p / "build").glob("takes/*/*"))


def test_code_changed_while_the_render_ran_leaves_no_stamp(
    tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """hostile4 P1: the rehearsal runs the code the render loaded when it started; storyboard's
    files (or a library) changed on disk since are not what it ran, so it stamps nothing."""
    monkeypatch.setenv("RUNWARE_API_KEY", "k")
    monkeypatch.setenv("RUNWARE_BASE_URL", emulator.base_url)
    p = write_project(tmp_path / "p", BOARD)
    seen: list[int] = []
    real_code, real_site = noop._code, noop._site

    def code() -> dict[str, list[int] | None]:
        seen.append(1)
        return {**real_code(), "/pkg/prompts.py": [len(seen) > 1]}  # edited after the start

    monkeypatch.setattr(noop, "_code", code)
    assert main(["render", str(p), "-q"]) == 0
    assert not (p / "build" / noop.STAMP).exists()
    monkeypatch.setattr(noop, "_code", real_code)
    calls: list[int] = []

    def site() -> list[list[int] | None]:
        calls.append(1)
        return [*real_site(), [len(calls) > 1]]  # a library upgraded after the start

    monkeypatch.setattr(noop, "_site", site)
    (p / "storyboard.yaml").write_text(BOARD.replace("red kite", "blue kite"))
    assert main(["render", str(p), "-q"]) == 0
    assert not (p / "build" / noop.STAMP).exists()


def test_the_rehearsals_stamp_lists_what_the_render_loaded(
    tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """hostile4 P3: a library outside Python's own folders (on PYTHONPATH, or an editable
    install) was read when the render imported it, before the rehearsal began: the rehearsal's
    stamp still checks it, as a full no-op render's stamp does."""
    monkeypatch.setenv("RUNWARE_API_KEY", "k")
    monkeypatch.setenv("RUNWARE_BASE_URL", emulator.base_url)
    monkeypatch.setattr(noop, "VOLATILE", noop.VOLATILE | {"PYTEST_CURRENT_TEST"})
    p = write_project(tmp_path / "p", BOARD)
    lib = tmp_path / "pylib" / "jinja2x.py"
    lib.parent.mkdir()
    lib.write_text("X = 1\n")
    real = noop.rehearse

    def rehearse(argv: list[str], root: Path, run: object, origin: noop.Recorder) -> None:
        origin.first[str(lib)] = noop._stat(str(lib))  # as if the render had imported it
        origin.opened.add(str(lib))
        real(argv, root, run, origin=origin)  # type: ignore[arg-type]

    monkeypatch.setattr(noop, "rehearse", rehearse)
    assert main(["render", str(p), "-q"]) == 0
    capsys.readouterr()
    assert noop.replay(["render", str(p), "-q"]) == 0
    capsys.readouterr()
    lib.write_text("X = 2\n")
    assert noop.replay(["render", str(p), "-q"]) is None
