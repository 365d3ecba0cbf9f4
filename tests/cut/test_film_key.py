"""The film as an output with a key: what makes it stale, and a compose that encodes nothing."""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

from test_compose import make_clip, setup

from storyboard.board.spec import load_project
from storyboard.cut.compose import compose_film, film_state
from storyboard.generate.state import BuildState
from storyboard.media.ffmpeg import ffmpeg_exe

CROSSFADE = "{type: crossfade, duration: 0.3}"


def three(tmp_path: Path, edit: str = "", output: str = "") -> tuple:
    return setup(
        tmp_path,
        [
            {"id": "a", "seconds": 1.0, "clip": {"color": "red"}},
            {"id": "b", "seconds": 1.0, "clip": {"color": "green"}, "transition": CROSSFADE},
            {"id": "c", "seconds": 1.0, "clip": {"color": "blue"}, "transition": CROSSFADE},
        ],
        edit=edit,
        output=output,
    )


def music_bed(tmp_path: Path) -> None:
    """``p/bed.wav``: a 2 s tone, for a storyboard's ``music: {file: bed.wav}``."""
    bed = make_clip(tmp_path / "bed.mp4", 2.0, tone=220)
    (tmp_path / "p").mkdir(exist_ok=True)
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-i", str(bed), "-vn", str(tmp_path / "p/bed.wav")],
        check=True,
    )


def reload(project) -> tuple:  # type: ignore[no-untyped-def]
    p = load_project(project.root)
    return p, BuildState(p.root)


def edit_yaml(project, old: str, new: str) -> None:  # type: ignore[no-untyped-def]
    f = project.root / "storyboard.yaml"
    text = f.read_text()
    assert old in text
    f.write_text(text.replace(old, new))


def test_unchanged_key_encodes_nothing_and_says_film_up_to_date(tmp_path: Path) -> None:
    project, state = three(tmp_path)
    first = compose_film(project, state, log=lambda s: None)
    assert not first.up_to_date and first.encoded > 0
    before = first.path.read_bytes()
    lines: list[str] = []
    again = compose_film(*reload(project), log=lines.append)
    assert again.up_to_date and again.encoded == 0 and again.reused == 0
    assert lines == [f"film up to date: {first.path}"]
    assert again.path.read_bytes() == before
    assert again.contact_sheet == project.build / "contact-sheet.png"
    assert film_state(project, state.lock).up_to_date


def test_what_changes_the_key_and_why(tmp_path: Path) -> None:
    music_bed(tmp_path)
    project, state = three(tmp_path, edit="{loudness: 'off', music: {file: bed.wav, volume: 0.3}}")
    compose_film(project, state, log=lambda s: None)

    # a prompt is not part of the film: only the takes are
    edit_yaml(project, "'Scene a.'", "'Scene a, rewritten.'")
    p, st = reload(project)
    assert film_state(p, st.lock).reasons == []

    edit_yaml(project, "volume: 0.3", "volume: 0.5")
    p, st = reload(project)
    assert film_state(p, st.lock).reasons == ["music changed"]
    edit_yaml(project, "volume: 0.5", "volume: 0.3")

    # the music file's content, not its name or time
    (project.root / "bed.wav").write_bytes((project.root / "bed.wav").read_bytes()[:-400])
    p, st = reload(project)
    assert film_state(p, st.lock).reasons == ["music changed"]


def test_take_trim_output_and_missing_film_are_reasons(tmp_path: Path) -> None:
    project, state = three(tmp_path)
    res = compose_film(project, state, log=lambda s: None)
    p, st = reload(project)
    other = make_clip(p.root / "build/takes/b/take-2.mp4", 1.0, color="yellow")
    take = st.lock["b"]
    take.n, take.file = 2, "build/takes/b/take-2.mp4"
    take.size, take.sha256 = other.stat().st_size, hashlib.sha256(other.read_bytes()).hexdigest()
    assert film_state(p, st.lock).reasons == ["take of 'b' changed"]

    edit_yaml(project, "'Scene c.', duration: 4", "'Scene c.', duration: 4, trim: [0.1, 0.9]")
    edit_yaml(project, "fps: 10", "fps: 10, quality: 80")
    p, st2 = reload(project)
    assert film_state(p, st2.lock).reasons == [
        "trim, transition or dialogue of 'c' changed",
        "output settings changed",
    ]
    edit_yaml(project, ", trim: [0.1, 0.9]", "")
    edit_yaml(project, ", quality: 80", "")
    p, st3 = reload(project)
    assert film_state(p, st3.lock).up_to_date
    res.path.unlink()
    assert film_state(p, st3.lock).reasons == ["film missing"]
    res.path.write_bytes(b"not the film")
    assert film_state(p, st3.lock).reasons == ["film file changed on disk"]
    (project.build / "contact-sheet.png").unlink()
    assert "build/contact-sheet.png missing" in film_state(p, st3.lock).reasons


def test_a_film_never_composed_is_missing(tmp_path: Path) -> None:
    project, state = three(tmp_path)
    assert film_state(project, state.lock).reasons == ["film missing"]


def test_a_changed_compose_version_makes_the_film_stale(tmp_path: Path, monkeypatch) -> None:
    project, state = three(tmp_path)
    compose_film(project, state, log=lambda s: None)
    monkeypatch.setattr("storyboard.cut.filmkey.COMPOSE_VERSION", "test-next")
    assert film_state(project, state.lock).reasons == ["compose code changed"]
    lines: list[str] = []
    res = compose_film(project, state, log=lines.append)
    assert not res.up_to_date and re.match(r"compose: full path", lines[0])
    # same inputs, new code version: the chunk cache still holds every chunk
    assert res.encoded == 0 and res.reused > 0


def test_compose_command_says_film_up_to_date_and_names_its_companions(
    tmp_path: Path, capsys
) -> None:
    from storyboard.cli.main import main

    project, state = three(tmp_path)
    state.close()
    assert main(["compose", str(project.root), "--quiet"]) == 0
    first = capsys.readouterr()
    assert "composed in " in first.err and "film up to date" not in first.err
    # how much of the picture was encoded, and how much copied or taken from the cache
    m = re.search(r"; (\d+) of (\d+) frames encoded, the rest copied or cached", first.err)
    assert m is not None and 0 < int(m.group(1)) <= int(m.group(2))
    assert main(["compose", str(project.root), "--quiet"]) == 0
    again = capsys.readouterr()
    film = project.build / "test-film.mp4"
    assert again.out.splitlines() == [
        f"film: {film} (up to date)",
        f"contact sheet: {project.build / 'contact-sheet.png'}",
    ]
    assert again.err == f"film up to date: {film}\n"
    assert main(["compose", str(project.root), "--quiet", "--force"]) == 0
    assert "compose: full path" in capsys.readouterr().err
