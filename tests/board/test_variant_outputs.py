"""Two films of one storyboard never write the same file (hostile finding H12: a variant's
`output.file` equal to the main film's was accepted; each compose overwrote the other)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_project

from storyboard.board.spec import load_project
from storyboard.board.variants import load_variant
from storyboard.errors import SpecError

BOARD = """
title: Same
defaults: {duration: 4}
scenes:
  - {id: a, prompt: "A harbour at dawn, gulls circling."}
variants:
  v: {size: 720x1280, reframe: crop}
  w: {output: {file: build/same.mp4}, edit: {fade_in: 2}}
  x: {output: {file: build/same.webm, format: WEBM}}
"""


def test_a_variant_writing_another_films_file_is_an_error_at_its_line(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as e:
        load_project(write_project(tmp_path / "p", BOARD))
    found = [str(p) for p in e.value.problems]
    assert len(found) == 2, found
    assert any(
        ":7: variants.w.output.file: " in p and "build/same.mp4" in p and "main" in p for p in found
    )
    assert any(":8: variants.x.output.file: " in p and "build/same.srt" in p for p in found), found


def test_variants_with_their_own_files_load(tmp_path: Path) -> None:
    load_project(write_project(tmp_path / "p", BOARD.split("  w:")[0]))


ANIMATICS = """
title: Same
defaults: {duration: 4}
scenes:
  - {id: a, prompt: "A harbour at dawn, gulls circling."}
variants:
  y: {output: {file: build/same.animatic.mp4}}
  z:
    edit: {fade_in: 2}
    output:
      file: cuts/same.mp4
  v: {size: 720x1280, reframe: crop}
  u: {output: {file: build/same.v.animatic.mp4}}
"""


def test_a_film_writing_an_animatic_or_its_captions_is_an_error_at_its_line(
    in_tmp: Path,
) -> None:
    """`render --boards` cuts build/NAME.animatic.mp4 beside each film (with its .srt): a
    film there, or a second film whose animatic lands there, overwrote one with the other."""
    with pytest.raises(SpecError) as e:
        load_project(write_project(in_tmp / "p", ANIMATICS))
    assert [str(p) for p in e.value.problems] == [
        "p/storyboard.yaml:6: variants.y.output.file: variant 'y' would write "
        "p/build/same.animatic.mp4 (its film), which the film 'main' writes (its animatic): "
        "each would overwrite the other; give it its own output.file",
        "p/storyboard.yaml:10: variants.z.output.file: variant 'z' would write "
        "p/build/same.animatic.mp4 (its animatic), which the film 'main' writes (its "
        "animatic): each would overwrite the other; give it its own output.file",
        "p/storyboard.yaml:12: variants.u.output.file: variant 'u' would write "
        "p/build/same.v.animatic.mp4 (its film), which the film 'v' writes (its animatic): "
        "each would overwrite the other; give it its own output.file",
    ]


def test_a_title_derived_file_is_an_error_at_the_variant(in_tmp: Path) -> None:
    """A variant without output.file writes the main film's name with its own before the
    extension: when that is another film's file, the variant's line says so."""
    board = ANIMATICS.split("variants:")[0] + (
        "output: {file: build/same.k.mp4}\n"
        "variants:\n"
        "  j: {output: {file: build/same.k.k.mp4}}\n"
        "  k: {edit: {fade_in: 2}}\n"
    )
    with pytest.raises(SpecError) as e:
        load_project(write_project(in_tmp / "p", board))
    assert [str(p) for p in e.value.problems] == [
        "p/storyboard.yaml:8: variants.k: variant 'k' would write p/build/same.k.k.mp4 (its "
        "film), which the film 'j' writes (its film): each would overwrite the other; give it "
        "its own output.file",
    ]


def _wav() -> bytes:
    import io
    import wave

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000), w.writeframes(b"\0\0" * 800)
    return buf.getvalue()


@pytest.mark.parametrize(
    "board, where",
    [
        (  # the main film's file is a variant's music
            "output: {file: assets/m.mp4}\nvariants:\n  w: {edit: {music: {file: assets/m.mp4}}}\n",
            ":3: output.file: the film 'main' would write ",
        ),
        (  # a variant's file is the main film's music
            "edit: {music: {file: assets/m.mp4}}\nvariants:\n"
            "  v: {output: {file: assets/m.mp4}, edit: {music: {file: assets/t.mp4}}}\n",
            ":5: variants.v.output.file: the film 'v' would write ",
        ),
        (  # a variant's file is another variant's music
            "variants:\n  u: {output: {file: assets/m.mp4}}\n"
            "  w: {edit: {music: {file: assets/m.mp4}}}\n",
            ":4: variants.u.output.file: the film 'u' would write ",
        ),
    ],
    ids=["main-over-variant", "variant-over-main", "variant-over-variant"],
)
def test_a_film_writing_what_another_film_is_made_from_is_an_error(
    in_tmp: Path, board: str, where: str
) -> None:
    """hostile helper-41: validate said OK, and the first render wrote the main film over the
    variant's music (each film's own inputs were checked, not the other films')."""
    head = 'title: Tiny\nscenes: [{id: a, prompt: "A red boat.", duration: 4}]\n'
    files = {"assets/m.mp4": _wav(), "assets/t.mp4": _wav()}
    with pytest.raises(SpecError) as e:
        load_project(write_project(in_tmp / "p", head + board, files))
    found = [str(p) for p in e.value.problems]
    assert len(found) == 1 and where in found[0], found
    assert "assets/m.mp4 (its film), which the film " in found[0]
    assert "is made from (edit.music.file)" in found[0]


def test_a_variant_of_another_format_takes_its_extension_and_its_own_fields_are_named(
    in_tmp: Path,
) -> None:
    """hostile helper-41: `output: {format: WEBM}` under a main `output.file: out/film.mp4` was
    refused as 'out/film.v.mp4 does not end in .webm' at the main's line; and a problem with a
    field the variant sets was named `output.file`, not `variants.w.output.file`."""
    from storyboard.board.assets import film_path

    head = 'title: T\nscenes: [{id: a, prompt: "A red boat.", duration: 4}]\n'
    board = head + "output: {file: out/film.mp4}\nvariants:\n  v: {output: {format: WEBM}}\n"
    project = load_project(write_project(in_tmp / "p", board))
    assert film_path(load_variant(project, "v")).name == "film.v.webm"
    with pytest.raises(SpecError) as e:
        load_project(write_project(in_tmp / "q", board + "  w: {output: {file: ''}}\n"))
    assert [str(p) for p in e.value.problems] == [
        "q/storyboard.yaml:6: variants.w.output.file: variant 'w': '' is a folder; name a new "
        "file such as film.mp4"
    ]
