"""Hostile storyboards: bombs, huge and deep files, non-finite numbers, sneaky ids and paths.

Each case is one file a hostile (or unlucky) user could write; each must give its pinned
one-line message and exit code 1, never a traceback and never a hang.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import pytest
from helpers import png_bytes, write_project

from storyboard.cli.main import main

SCENE = "  - {id: a, prompt: A red kite over a grey sea., duration: 8}\n"

BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
)

# (id, storyboard text, extra files, the whole pinned stderr)
CASES: list[tuple[str, str, dict[str, str | bytes], str]] = [
    (
        "alias-bomb",
        "title: T\nvars:\n"
        + "".join("  " + line + "\n" for line in BOMB.splitlines())
        + "scenes:\n"
        + SCENE,
        {},
        "proj/storyboard.yaml:8: vars.f: aliases expand to more than 200000 values"
        " (an alias bomb?); write the values out instead",
    ),
    (
        "recursive-alias",
        "title: T\nvars: {loop: &x [1, *x]}\nscenes:\n" + SCENE,
        {},
        "proj/storyboard.yaml:2: vars.loop: an alias refers to a value that contains it"
        " (a recursive alias)",
    ),
    (
        "deep-nesting",
        "title: T\nvars: {x: " + "[" * 5000 + "]" * 5000 + "}\nscenes:\n" + SCENE,
        {},
        "proj/storyboard.yaml:2: vars.x: values nest more than 50 levels deep",
    ),
    (
        "deep-through-aliases",
        "title: T\nvars:\n  a: &a "
        + "[" * 30
        + "]" * 30
        + "\n  b: "
        + "[" * 30
        + "*a"
        + "]" * 30
        + "\nscenes:\n"
        + SCENE,
        {},
        "proj/storyboard.yaml:4: vars.b: values nest more than 50 levels deep",
    ),
    (
        "huge-integer",
        "title: T\nscenes:\n  - id: a\n    prompt: A red kite over a grey sea.\n"
        "    duration: " + "9" * 5000 + "\n",
        {},
        "proj/storyboard.yaml:5: scenes[0].duration: a number with more than 4300 digits",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_hostile_storyboard_gets_one_clear_message(case, in_tmp: Path, capsys) -> None:
    _, text, files, expected = case
    write_project(in_tmp / "proj", text, files)
    assert main(["validate", "proj"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip() == expected


def test_huge_storyboard_is_refused_before_it_is_read(in_tmp: Path, capsys) -> None:
    proj = write_project(in_tmp / "proj", "title: T\nscenes:\n" + SCENE)
    with open(proj / "storyboard.yaml", "a") as fh:
        fh.write("#" * (2 * 1024 * 1024) + "\n")
    assert main(["validate", "proj"]) == 1
    assert capsys.readouterr().err.strip() == (
        "proj/storyboard.yaml: the file is 2.0 MiB; a storyboard may be at most 2 MiB"
    )


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` in its header (a decompression bomb's first
    bytes): nothing but the header is needed to refuse it."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
        + struct.pack(">I", 0)
        + b"IEND"
        + struct.pack(">I", zlib.crc32(b"IEND"))
    )


def board(*lines: str, scene: str = SCENE) -> str:
    return "title: T\n" + "".join(line + "\n" for line in lines) + "scenes:\n" + scene


FF = "  - {id: a, prompt: A red kite over a grey sea., duration: 8, first_frame: %s}\n"

# (id, storyboard text, extra files, the whole pinned stderr)
MORE: list[tuple[str, str, dict[str, str | bytes], str]] = [
    (
        "inf-fade-in",
        board("edit: {fade_in: .inf}"),
        {},
        "proj/storyboard.yaml:2: edit.fade_in: expected a finite number, got inf",
    ),
    (
        "nan-duration",
        board(scene="  - {id: a, prompt: A red kite over a grey sea., duration: .nan}\n"),
        {},
        "proj/storyboard.yaml:3: scenes[0].duration: expected a finite number, got nan",
    ),
    (
        "inf-loudness",
        board("edit: {loudness: -.inf}"),
        {},
        "proj/storyboard.yaml:2: edit.loudness: expected a finite number, got -inf",
    ),
    (
        "nan-trim",
        board(scene="  - {id: a, prompt: A red kite, duration: 8, trim: [.nan, 2]}\n"),
        {},
        "proj/storyboard.yaml:3: scenes[0].trim[0]: expected a finite number, got nan",
    ),
    (
        "inf-in-vars",
        board("vars: {speed: .inf}"),
        {},
        "proj/storyboard.yaml:2: vars.speed: expected a finite number, got inf",
    ),
    (
        "every-non-finite-number",  # all at once, not one a run (hostile helper-56)
        board(
            "edit: {fade_in: .inf, loudness: -.inf}",
            scene="  - {id: a, prompt: A red kite, duration: .nan, trim: [.nan, 2]}\n",
        ),
        {},
        "proj/storyboard.yaml:2: edit.fade_in: expected a finite number, got inf\n"
        "proj/storyboard.yaml:2: edit.loudness: expected a finite number, got -inf\n"
        "proj/storyboard.yaml:4: scenes[0].duration: expected a finite number, got nan\n"
        "proj/storyboard.yaml:4: scenes[0].trim[0]: expected a finite number, got nan",
    ),
    (
        "id-trailing-newline",
        board(scene='  - {id: "a\\n", prompt: A red kite over a grey sea., duration: 8}\n'),
        {},
        "proj/storyboard.yaml:3: scenes[0].id: 'a\\n' is not a slug (use lowercase letters,"
        " digits, '-' and '_')",
    ),
    (
        "size-trailing-newline",
        board('size: "1280x720\\n"'),
        {},
        "proj/storyboard.yaml:2: size: expected WIDTHxHEIGHT such as 1280x720, got '1280x720\\n'",
    ),
    (
        "size-unicode-digits",
        board('size: "１２８０x720"'),
        {},
        "proj/storyboard.yaml:2: size: expected WIDTHxHEIGHT such as 1280x720, got '１２８０x720'",
    ),
    (
        "output-huge-size",
        board("output: {size: 100000x100000}"),
        {},
        "proj/storyboard.yaml:2: output.size: the film may be at most 3840x3840 and at least"
        " 16x16, got 100000x100000",
    ),
    (
        "size-odd",  # hostile helper-37: the film's size when output.size is not set
        board("size: 321x181"),
        {},
        "proj/storyboard.yaml:2: size: the film's width and height must be even (4:2:0 video),"
        " got 321x181: 320x180?",
    ),
    (
        "output-fps-bool",  # hostile helper-30: `duration: true` was taken as 1
        board("output: {fps: true}"),
        {},
        "proj/storyboard.yaml:2: output.fps: expected a number, got true",
    ),
    (
        "output-odd-size",  # hostile helper-30: validate said OK, then x264 refused it
        board("output: {size: 1000x563}"),
        {},
        "proj/storyboard.yaml:2: output.size: the film's width and height must be even (4:2:0"
        " video), got 1000x563: 1000x562?",
    ),
    (
        "output-is-the-storyboard",
        board("output: {file: storyboard.yaml}"),
        {},
        "proj/storyboard.yaml:2: output.file: 'storyboard.yaml' would overwrite the storyboard;"
        " name a new file such as film.mp4",
    ),
    (
        "output-is-the-lock",
        board("output: {file: ./storyboard.lock, format: MOV}"),
        {},
        "proj/storyboard.yaml:2: output.file: './storyboard.lock' would overwrite the lock file;"
        " name a new file such as film.mov",
    ),
    (
        "output-is-the-journal",
        board("output: {file: build/journal.sqlite}"),
        {},
        "proj/storyboard.yaml:2: output.file: 'build/journal.sqlite' would overwrite the build"
        " state (journal, takes, caches); name a new file such as film.mp4",
    ),
    (
        "output-is-a-take",
        board("output: {file: build/takes/a/take-1.mp4}"),
        {"build/takes/a/take-1.mp4": b"\x00"},
        "proj/storyboard.yaml:2: output.file: 'build/takes/a/take-1.mp4' would overwrite the"
        " build state (journal, takes, caches); name a new file such as film.mp4",
    ),
    (
        "output-in-templates",
        board("output: {file: templates/film.mp4}"),
        {},
        "proj/storyboard.yaml:2: output.file: 'templates/film.mp4' would overwrite the prompt"
        " templates; name a new file such as film.mp4",
    ),
    (
        "output-is-the-music",
        board("edit: {music: {file: bed.mp4}}", "output: {file: bed.mp4}"),
        {"bed.mp4": b"\x00"},
        "proj/storyboard.yaml:2: edit.music.file: 'bed.mp4' has no audio stream (music must be a"
        " sound file: m4a, mp3, wav, ...)\n"
        "proj/storyboard.yaml:3: output.file: 'bed.mp4' would overwrite an input of the film"
        " (edit.music.file); name a new file such as film.mp4",
    ),
    (
        "output-is-the-first-frame",
        board("output: {file: start.mp4}", scene=FF % "start.mp4"),
        {"start.mp4": b"\x00"},
        "proj/storyboard.yaml:2: output.file: 'start.mp4' would overwrite an input of the film"
        " (scenes[0].first_frame); name a new file such as film.mp4\n"
        "proj/storyboard.yaml:4: scenes[0].first_frame: 'start.mp4' is not an image (png, jpg,"
        " webp, bmp, gif)",
    ),
    (
        "output-wrong-extension",
        board("output: {file: film.srt}"),
        {},
        "proj/storyboard.yaml:2: output.file: 'film.srt' does not end in .mp4 (output.format"
        " is MP4); name a new file such as film.mp4",
    ),
    (
        "first-frame-text-as-png",
        board(scene=FF % "start.png"),
        {"start.png": "just some text, not an image\n"},
        "proj/storyboard.yaml:3: scenes[0].first_frame: 'start.png' is not an image Pillow"
        " can read",
    ),
    (
        "first-frame-bomb",
        board(scene=FF % "bomb.png"),
        {"bomb.png": png_header(60000, 60000)},
        "proj/storyboard.yaml:3: scenes[0].first_frame: 'bomb.png' has more than 40"
        " megapixels (a decompression bomb?); an image may have at most 40 megapixels",
    ),
    (
        "first-frame-too-big",
        board(scene=FF % "big.png"),
        {"big.png": png_header(8000, 6000)},
        "proj/storyboard.yaml:3: scenes[0].first_frame: 'big.png' is 8000x6000 (48"
        " megapixels); an image may have at most 40 megapixels",
    ),
    (
        "end-frame-random-bytes",
        board(
            scene=FF
            % "start.png"
            + "  - {id: b, prompt: The kite lands., duration: 8, first_frame: start.png,"
            " end_frame: assets/g.jpg}\n",
        ),
        {"start.png": png_bytes(), "assets/g.jpg": bytes(range(256)) * 4},
        "proj/storyboard.yaml:4: scenes[1].end_frame: 'assets/g.jpg' is not an image Pillow"
        " can read",
    ),
    (
        "id-too-long",
        board(
            scene="  - {id: %s, prompt: A red kite over a grey sea., duration: 8}\n" % ("a" * 65)
        ),
        {},
        "proj/storyboard.yaml:3: scenes[0].id: a scene id may have at most 64 characters, got 65",
    ),
]


@pytest.mark.parametrize("case", MORE, ids=[c[0] for c in MORE])
def test_hostile_value_gets_one_clear_message(case, in_tmp: Path, capsys) -> None:
    test_hostile_storyboard_gets_one_clear_message(case, in_tmp, capsys)


def test_output_file_symlinked_to_the_storyboard(in_tmp: Path, capsys) -> None:
    proj = write_project(in_tmp / "proj", board("output: {file: film.mp4}"))
    os.symlink(proj / "storyboard.yaml", proj / "film.mp4")
    assert main(["validate", "proj"]) == 1
    assert capsys.readouterr().err.strip() == (
        "proj/storyboard.yaml:2: output.file: 'film.mp4' would overwrite the storyboard;"
        " name a new file such as film.mp4"
    )


def test_first_frame_symlinked_out_of_the_project(in_tmp: Path, capsys) -> None:
    (in_tmp / "elsewhere.png").write_bytes(png_bytes())
    proj = write_project(in_tmp / "proj", board(scene=FF % "start.png"))
    os.symlink(in_tmp / "elsewhere.png", proj / "start.png")
    assert main(["validate", "proj"]) == 1
    assert capsys.readouterr().err.strip() == (
        "proj/storyboard.yaml:3: scenes[0].first_frame: 'start.png' is outside the project folder"
    )


def test_a_real_first_frame_validates(in_tmp: Path, capsys) -> None:
    write_project(in_tmp / "proj", board(scene=FF % "start.png"), {"start.png": png_bytes()})
    assert main(["validate", "proj"]) == 0, capsys.readouterr().err


def test_a_bad_cast_name_hides_no_other_problem(tmp_path: Path) -> None:
    """Hostile helper-30: one cast name that is not a slug hid every other cast problem (and
    made a member that is defined "unknown" elsewhere); each is now one line of one run."""
    from helpers import write_project

    from storyboard.board.spec import load_project
    from storyboard.errors import SpecError

    text = (
        "title: T\ndefaults: {duration: 4}\ncast:\n"
        '  Wren: {description: "Wren, old"}\n'
        '  tom: {description: "{{ x }}"}\n'
        "scenes:\n"
        '  - {id: a, prompt: "A.", cast: [tom]}\n'
    )
    with pytest.raises(SpecError) as e:
        load_project(write_project(tmp_path / "p", text))
    shown = [str(p).split("storyboard.yaml:")[1] for p in e.value.problems]
    assert shown[0].startswith("4: cast.Wren: cast name 'Wren' is not a slug")
    assert shown[1].startswith("5: cast.tom.description: a description is plain text")
    assert len(shown) == 2, shown
