"""Outputs only where outputs belong: ``export -o`` and ``output.file`` write a new path or an
existing regular file that is not an input, not state, not the film or one of its companions;
never a device, FIFO, socket or folder (each stays what it was)."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest
from helpers import write_project
from test_export import three_scenes

from storyboard.board.spec import load_project
from storyboard.cli.main import main
from storyboard.cut.compose import compose_film
from storyboard.errors import StoryboardError
from storyboard.generate.state import BuildState


def special(kind: str, path: Path) -> object:
    """Make a FIFO, a device node (a copy of /dev/null's), a socket or a folder at ``path``."""
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        try:
            os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        except PermissionError:
            pytest.skip("making a device node needs root")
    elif kind == "socket":
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(path))
        return s
    else:
        path.mkdir()
    return None


KINDS = {"fifo": stat.S_ISFIFO, "device": stat.S_ISCHR, "socket": stat.S_ISSOCK,
         "folder": stat.S_ISDIR}  # fmt: skip


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return three_scenes(tmp_path)


WORDS = {"fifo": "a FIFO", "device": "a device", "socket": "a socket", "folder": "a folder"}


@pytest.mark.parametrize("kind", list(KINDS))
def test_export_never_replaces_a_special_file(project: Path, kind: str, capsys) -> None:
    target = project.parent / f"target-{kind}"
    keep = special(kind, target)
    assert main(["export", str(project), "-o", str(target)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (
        f"--output: {str(target)!r} is {WORDS[kind]}; name a new file or an existing regular "
        "file such as cut.otio"
    )
    assert KINDS[kind](target.lstat().st_mode)
    del keep


@pytest.mark.parametrize(
    ("rel", "what"),
    [
        ("build/film.json", "the film's record (build/film.json)"),
        ("build/export-test.mp4", "the film"),
        ("build/export-test.srt", "the film's captions"),
        ("build/contact-sheet.png", "the build state (journal, takes, caches)"),
        ("build/.lock", "the build state (journal, takes, caches)"),
    ],
    ids=["film-json", "film", "srt", "contact-sheet", "writer-lock"],
)
def test_export_never_writes_over_state_or_the_film(
    project: Path,
    rel: str,
    what: str,
    capsys,
) -> None:
    target = project / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"precious")
    assert main(["export", str(project), "-o", str(target)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"--output: {str(target)!r} would overwrite {what}"), err
    assert target.read_bytes() == b"precious"


def test_export_replaces_an_earlier_export_and_writes_a_new_path(project: Path) -> None:
    target = project.parent / "cut.otio"
    target.write_bytes(b"old export")
    assert main(["export", str(project), "-o", str(target)]) == 0
    assert target.read_bytes() != b"old export"
    assert main(["export", str(project), "-o", str(project.parent / "new.otio")]) == 0


@pytest.mark.parametrize(
    ("fmt", "name"),
    [
        ("otio", "assets/tide-pad.mp3"),
        ("otio", "notes.fcpxml"),
        ("fcpxml", "cut.otio"),
        ("edl", "readme.txt"),
    ],
    ids=["otio-over-mp3", "otio-over-fcpxml", "fcpxml-over-otio", "edl-over-txt"],
)
def test_export_never_replaces_a_file_of_another_kind(
    project: Path, capsys, fmt: str, name: str
) -> None:
    """Hostile fix-44 P7: `export --format otio -o P/assets/tide-pad.mp3` replaced a project
    file the storyboard does not use with OTIO JSON. An existing file is replaced only when
    its suffix is the export's own (an earlier export)."""
    target = project / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"precious")
    assert main(["export", str(project), "--format", fmt, "-o", str(target)]) == 1
    err = capsys.readouterr().err.strip()
    ext = {"otio": ".otio", "fcpxml": ".fcpxml", "edl": ".edl"}[fmt]
    assert err == (
        f"--output: {str(target)!r} exists and is not an {ext} file; {fmt} export replaces "
        f"only an earlier {ext} export: name a new file such as cut{ext}"
    ), err
    assert target.read_bytes() == b"precious"


@pytest.mark.parametrize("fmt", ["otio", "fcpxml", "edl"])
def test_export_replaces_an_earlier_export_of_its_own_format(project: Path, fmt: str) -> None:
    target = project.parent / f"cut.{fmt.upper()}"  # the suffix in any case
    target.write_bytes(b"old export")
    assert main(["export", str(project), "--format", fmt, "-o", str(target)]) == 0
    assert target.read_bytes() != b"old export"


@pytest.mark.parametrize("kind", ["fifo", "socket", "folder"])
def test_output_file_never_a_special_file(tmp_path: Path, kind: str) -> None:
    p = write_project(
        tmp_path / "p",
        "title: T\nscenes:\n  - {id: a, prompt: A red kite over a grey sea., duration: 4}\n"
        "output: {file: film.mp4}\n",
    )
    keep = special(kind, p / "film.mp4")
    with pytest.raises(StoryboardError) as e:
        load_project(p)
    assert f"output.file: 'film.mp4' is {WORDS[kind]}; name a new file such as film.mp4" in str(
        e.value
    )
    assert KINDS[kind]((p / "film.mp4").lstat().st_mode)
    del keep


def test_compose_refuses_a_fifo_made_after_the_storyboard_was_read(tmp_path: Path) -> None:
    from test_chunks import four

    board, state = four(tmp_path, output="file: film.mp4")
    os.mkfifo(board.root / "film.mp4")
    with pytest.raises(StoryboardError) as e:
        compose_film(board, BuildState(board.root), log=lambda s: None)
    assert "film.mp4" in str(e.value) and "a FIFO" in str(e.value)
    assert stat.S_ISFIFO((board.root / "film.mp4").lstat().st_mode)


@pytest.mark.parametrize("parent", ["missing", "missing/deeper", "a-file"])
def test_export_into_a_missing_folder_is_refused(project: Path, capsys, parent: str) -> None:
    """Hostile F14: `export -o /nonexistent/x.otio` made /nonexistent; now one line."""
    (project.parent / "a-file").write_bytes(b"x")
    target = project.parent / parent / "cut.otio"
    assert main(["export", str(project), "-o", str(target)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert f"--output: {str(target)!r}" in err and "no folder" in err, err
    assert not (project.parent / "missing").exists()
    assert (project.parent / "a-file").read_bytes() == b"x"
