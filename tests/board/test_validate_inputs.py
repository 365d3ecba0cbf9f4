"""``validate`` checks every input file the storyboard names (images decode and are images;
music has an audio stream) and reports every problem of every stage in one run."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from helpers import png_bytes, write_project

from storyboard.cli.main import main
from storyboard.media.ffmpeg import ffmpeg_exe

SCENE = "  - {id: a, prompt: A red kite over a grey sea., duration: 8}\n"


def tone(path: Path) -> bytes:
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=440:d=0.5",
         "-c:a", "aac", str(path)],
        check=True,
    )  # fmt: skip
    return path.read_bytes()


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_music_file_that_is_a_png_is_refused(in_tmp: Path, capsys) -> None:
    write_project(
        in_tmp / "proj",
        "title: T\nscenes:\n" + SCENE + "edit: {music: {file: bed.m4a}}\n",
        {"bed.m4a": png_bytes()},
    )
    assert main(["validate", "proj"]) == 1
    assert capsys.readouterr().err.strip() == (
        "proj/storyboard.yaml:4: edit.music.file: 'bed.m4a' has no audio stream"
        " (music must be a sound file: m4a, mp3, wav, ...)"
    )


def test_real_music_validates(in_tmp: Path, tmp_path: Path, capsys) -> None:
    write_project(
        in_tmp / "proj",
        "title: T\nscenes:\n" + SCENE + "edit: {music: {file: bed.m4a}}\n",
        {"bed.m4a": tone(tmp_path / "t.m4a")},
    )
    assert main(["validate", "proj"]) == 0, capsys.readouterr().err


def test_a_truncated_image_is_refused(in_tmp: Path, capsys) -> None:
    whole = png_bytes(64, 36)
    write_project(
        in_tmp / "proj",
        "title: T\nscenes:\n  - {id: a, prompt: A red kite over a grey sea., duration: 8,"
        " first_frame: start.png}\n",
        {"start.png": whole[: len(whole) - 30]},
    )
    assert main(["validate", "proj"]) == 1
    assert capsys.readouterr().err.strip() == (
        "proj/storyboard.yaml:3: scenes[0].first_frame: 'start.png' cannot be decoded"
        " (a damaged or truncated image)"
    )


def test_every_problem_of_every_stage_in_one_run(in_tmp: Path, capsys) -> None:
    """An unknown key (schema), a missing image (files) and a duration the model does not
    take (model rules): all three in one run, not one per fix."""
    write_project(
        in_tmp / "proj",
        "title: T\nmodel: openai:3@1\nscenes:\n"
        "  - {id: a, prompt: A red kite over a grey sea., duraton: 8}\n"
        "  - {id: b, prompt: The kite lands on the sand., duration: 5, first_frame: gone.png}\n",
    )
    assert main(["validate", "proj"]) == 1
    err = capsys.readouterr().err
    assert "scenes[0].duraton: unknown key 'duraton'; did you mean 'duration'?" in err
    assert "scenes[1].first_frame: image not found: gone.png" in err
    assert "scenes[1].duration" in err and "5" in err


def test_a_scene_sound_that_is_a_png_is_refused(in_tmp: Path, capsys) -> None:
    write_project(
        in_tmp / "proj",
        "title: T\nscenes:\n  - {id: a, prompt: A red kite over a grey sea., duration: 8,"
        " sounds: [{file: gull.wav}]}\n",
        {"gull.wav": png_bytes()},
    )
    assert main(["validate", "proj"]) == 1
    assert capsys.readouterr().err.strip() == (
        "proj/storyboard.yaml:3: scenes[0].sounds[0].file: 'gull.wav' has no audio stream"
        " (a sound must be a sound file: m4a, mp3, wav, ...)"
    )


def test_a_good_music_file_is_decoded_once_and_again_when_it_changes(
    in_tmp: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storyboard.board.assets as assets

    proj = write_project(
        in_tmp / "proj", "title: T\nscenes:\n" + SCENE + "edit: {music: {file: bed.m4a}}\n"
    )
    tone(proj / "bed.m4a")
    (proj / "build").mkdir()  # as after a first render (validate alone makes no build/)
    decoded: list[Path] = []
    real = assets.audio_problem
    monkeypatch.setattr(assets, "audio_problem", lambda p: decoded.append(p) or real(p))
    assert main(["validate", "proj"]) == 0
    assert main(["validate", "proj"]) == 0
    assert len(decoded) == 1  # found good once: remembered by its exact stat
    data = (proj / "bed.m4a").read_bytes()
    (proj / "bed.m4a").write_bytes(png_bytes()[: len(data)].ljust(len(data), b"\0"))
    capsys.readouterr()
    assert main(["validate", "proj"]) == 1  # rewritten (same size): decoded again, refused
    assert "has no audio stream" in capsys.readouterr().err


def test_a_huge_music_file_is_refused_at_once(in_tmp: Path, capsys) -> None:
    """Hostile F15: a 2 GiB file of zeros named .mp3 kept validate busy 60 s, then printed the
    ffmpeg command line. Now a size cap: one line at once, no command line."""
    root = write_project(
        in_tmp / "proj", "title: T\nscenes:\n" + SCENE + "edit: {music: {file: big.mp3}}\n"
    )
    with open(root / "big.mp3", "wb") as f:
        f.truncate(2 * 1024**3)  # sparse: no disk used
    started = time.monotonic()
    assert main(["validate", "proj"]) == 1
    assert time.monotonic() - started < 10
    err = capsys.readouterr().err.strip()
    assert err == (
        "proj/storyboard.yaml:4: edit.music.file: 'big.mp3' is 2048 MiB; a sound file may be at "
        "most 1024 MiB (music must be a sound file: m4a, mp3, wav, ...)"
    ), err


def test_a_slow_sound_file_says_so_without_the_command_line(tmp_path: Path, monkeypatch) -> None:
    """A file ffmpeg does not finish reading in time: words, not a command line."""
    from storyboard.media import probe

    def slow(args: list[str], timeout: float) -> None:
        raise subprocess.TimeoutExpired(args, timeout)

    monkeypatch.setattr(probe, "run_child", slow)
    (tmp_path / "x.mp3").write_bytes(b"\0" * 1000)
    why = probe.audio_problem(tmp_path / "x.mp3")
    assert why is not None and "ffmpeg-" not in why and "Command" not in why, why
    assert why.startswith("could not be read as sound within"), why


@pytest.mark.parametrize("field", ["first_frame", "end_frame"])
def test_a_folder_given_as_an_image_is_said_to_be_a_folder(
    in_tmp: Path, capsys, field: str
) -> None:
    """Hostile fix-44 P6: a folder as `first_frame` was `image not found: assets`."""
    write_project(
        in_tmp / "proj",
        f"title: T\nmodel: bytedance:seedance@2.5\nscenes:\n"
        f"  - {{id: a, prompt: x y, duration: 4, {field}: assets}}\n",
        {"assets/keep.txt": "x"},
    )
    assert main(["validate", "proj"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.strip() == (
        f"proj/storyboard.yaml:4: scenes[0].{field}: 'assets' is a folder, not an image file "
        "(png, jpg, webp, bmp, gif)"
    ), err


def test_every_file_field_says_when_it_is_given_a_folder(in_tmp: Path, capsys) -> None:
    """The music, a placed sound, a cast picture and a reference: each given a folder says so
    at its line, in the same run."""
    write_project(
        in_tmp / "proj",
        """\
        title: T
        model: bytedance:seedance@2.5
        cast:
          tower: {description: a lighthouse, images: [assets]}
        scenes:
          - id: a
            prompt: x y
            duration: 4
            sounds: [{file: assets, at: 1}]
            references: {images: [assets]}
        edit: {music: {file: assets}}
        """,
        {"assets/keep.txt": "x"},
    )
    assert main(["validate", "proj"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    for want in [
        "proj/storyboard.yaml:4: cast.tower.images[0]: 'assets' is a folder, not an image file "
        "(png, jpg, webp, bmp, gif)",
        "proj/storyboard.yaml:9: scenes[0].sounds[0].file: 'assets' is a folder, not a sound file",
        "proj/storyboard.yaml:10: scenes[0].references: references.images: 'assets' "
        "is a folder, not a file",
        "proj/storyboard.yaml:11: edit.music.file: 'assets' is a folder, not a sound file",
    ]:
        assert want in err, f"missing {want!r} in:\n{err}"
    assert "not found" not in err, err


@pytest.mark.parametrize("kind", ["a FIFO", "a socket"])
def test_every_file_field_says_when_it_is_given_a_fifo_or_socket(
    in_tmp: Path, capsys, kind: str
) -> None:
    """hostile helper-47 6: a FIFO, a socket or a device node inside the project was `image
    not found` (a folder already said what it was)."""
    import os
    import socket

    write_project(
        in_tmp / "proj",
        """\
        title: T
        model: bytedance:seedance@2.5
        cast:
          tower: {description: a lighthouse, images: [assets/odd.png]}
        scenes:
          - id: a
            prompt: x y
            duration: 4
            sounds: [{file: assets/odd.png, at: 1}]
            references: {images: [assets/odd.png]}
        edit: {music: {file: assets/odd.png}}
        """,
        {"assets/keep.txt": "x"},
    )
    odd = in_tmp / "proj" / "assets" / "odd.png"
    held = None
    if kind == "a FIFO":
        os.mkfifo(odd)
    else:
        held = socket.socket(socket.AF_UNIX)
        os.chdir(odd.parent)  # a socket's path is short: bind it by its name
        held.bind("odd.png")
        os.chdir(in_tmp)
    try:
        assert main(["validate", "proj"]) == 1
    finally:
        if held is not None:
            held.close()
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    for want in [
        f"proj/storyboard.yaml:4: cast.tower.images[0]: 'assets/odd.png' is {kind}, not an "
        "image file",
        f"scenes[0].sounds[0].file: 'assets/odd.png' is {kind}, not a sound file",
        f"references.images: 'assets/odd.png' is {kind}, not a file",
        f"edit.music.file: 'assets/odd.png' is {kind}, not a sound file",
    ]:
        assert want in err, f"missing {want!r} in:\n{err}"
    assert "not found" not in err, err


@pytest.mark.parametrize(
    ("model", "extra"),
    [
        ("alibaba:wan@2.6", ""),
        # with a first frame too: two frame images where Kling takes one (hostile helper-54:
        # "first_frame: takes at most 1 frame image(s)" as well)
        ("klingai:kling-video@3-pro", ", continuity: last_frame"),
    ],
)
def test_an_end_frame_the_model_cannot_take_is_one_problem(
    in_tmp: Path, capsys, model: str, extra: str
) -> None:
    """hostile helper-53: a Wan2.6 scene with an end_frame was refused at end_frame, then
    again at first_frame (a field the scene does not set) by the wire rules' second look."""
    size = "1920x1080" if "kling" in model else "1280x720"
    write_project(
        in_tmp / "proj",
        f"title: T\nmodel: {model}\nsize: {size}\nscenes:\n"
        "  - {id: s, prompt: A grey sea., duration: 5}\n"
        "  - {id: a, prompt: A red kite over a grey sea., duration: 5, "
        f"end_frame: last.png{extra}}}\n",
        {"last.png": png_bytes()},
    )
    assert main(["validate", "proj"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("proj/storyboard.yaml:6: scenes[1].end_frame: scene 'a': "), err
    assert "does not support end_frame" in err[0], err
