"""A render repeated when nothing changed is answered from the stamp the last no-op render
left (build/.noop-render.json), with the same words; every change of what a render reads
defeats it, and a render that did work leaves no stamp."""

from __future__ import annotations

import os
import re
import subprocess
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
)


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(latency=0.05, draft=True, identify=False)) as emu:
        yield emu


@pytest.fixture
def rendered(tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch, capsys) -> Path:
    monkeypatch.setenv("RUNWARE_API_KEY", "key-4b1d-never-written")
    monkeypatch.setenv("RUNWARE_BASE_URL", emulator.base_url)
    # pytest names the running test and its phase in the environment
    monkeypatch.setattr(noop, "VOLATILE", noop.VOLATILE | {"PYTEST_CURRENT_TEST"})
    p = write_project(tmp_path / "p", BOARD, {"notes/a.txt": "x"})
    assert main(["render", str(p), "-q"]) == 0  # did work: no stamp
    assert not (p / "build" / noop.STAMP).exists()
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
