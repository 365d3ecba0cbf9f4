"""Variants in the storyboard file: what a variant changes, and its problems at its own lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_project

from storyboard.board.spec import load_project
from storyboard.board.variants import load_variant, variant_names
from storyboard.errors import SpecError

BOARD = """
title: Tide
size: 1280x720
vars: {lang: en, place: harbour}
defaults: {duration: 4}
scenes:
  - {id: harbour, prompt: "A {{ place }} at dawn."}
  - id: baker
    prompt: "The baker speaks {{ lang }}."
    dialogue: [{who: Baker, line: "Good morning!"}]
  - {id: storm, prompt: "A storm.", transition: crossfade}
output: {file: out/tide.mp4}
variants:
  vertical: {size: 720x1280, reframe: crop, focus: [0.3, 0.5]}
  native: {size: 720x1280}
  french:
    vars: {lang: fr}
    scenes:
      baker: {dialogue: [{who: Boulanger, line: "Bonjour !"}], duration: 8}
    edit: {captions: burn}
    skip: [storm]
"""


def test_a_variant_is_the_main_film_with_its_changes(tmp_path: Path) -> None:
    main = load_project(write_project(tmp_path / "p", BOARD))
    assert variant_names(main) == ["vertical", "native", "french"]
    v = load_variant(main, "vertical")
    assert (v.variant, v.reframe, v.focus, v.suffix) == (
        "vertical",
        "crop",
        (0.3, 0.5),
        ".vertical",
    )
    assert v.board.size == "1280x720" and v.board.output.size == "720x1280"  # takes reused
    assert v.board.output.file == "out/tide.vertical.mp4"  # never the main film's file
    n = load_variant(main, "native")
    assert n.board.size == "720x1280" and n.reframe == "pad"  # generated again at 9:16
    f = load_variant(main, "french")
    assert [s.id for s in f.board.scenes] == ["harbour", "baker"]
    assert f.board.vars == {"lang": "fr", "place": "harbour"}  # vars merge key by key
    baker = f.board.scenes[1]
    assert baker.dialogue[0].line == "Bonjour !" and baker.duration == 8
    assert baker.prompt == "The baker speaks {{ lang }}."  # untouched fields stay
    assert f.board.edit.captions == "burn" and f.board.edit.loudness == -16  # edit merges
    assert main.board.scenes[1].dialogue[0].line == "Good morning!"  # the main is unchanged
    assert main.variant is None and main.suffix == ""


@pytest.mark.parametrize(
    "variant, line, message",
    [
        (
            "x: {scenes: {bakery: {duration: 8}}}",
            13,
            "variants.x.scenes.bakery: no scene 'bakery' (scenes: harbour, baker, storm)",
        ),
        ("x: {skip: [harbour, baker, storm]}", 13, "variants.x.skip: skips every scene"),
        ("x: {scenes: {baker: {duraton: 8}}}", 13, "variant 'x': unknown key 'duraton'"),
        ("x: {scenes: {baker: {duration: soon}}}", 13, "variant 'x': "),
        ("x: {reframe: crop}", 13, "'reframe' needs a 'size'"),
        ("x: {size: 720x1280, focus: [0.5, 0.5]}", 13, "it needs 'reframe: crop'"),
        ("x: {size: 720x1280, reframe: zoom}", 13, "reframe"),
        ("all: {size: 720x1280}", 13, "'all' is reserved"),
        ("animatic: {size: 720x1280}", 13, "'animatic' is reserved (the boards' animatic is"),
        ("x: {size: 721x1280}", 13, "must be even (4:2:0 video), got 721x1280: 720x1280?"),
        ("Big: {size: 720x1280}", 13, "'Big' is not a slug"),
        ("x: {edit: {captions: loud}}", 13, "variant 'x': "),
        ("x: {titel: Marée}", 13, "titel"),
    ],
    ids=[
        "unknown-scene",
        "skip-all",
        "typo-in-scene-field",
        "bad-scene-value",
        "reframe-without-size",
        "focus-without-crop",
        "bad-reframe",
        "reserved-name",
        "reserved-animatic",
        "odd-size",
        "not-a-slug",
        "bad-edit",
        "unknown-top-level",
    ],
)
def test_a_broken_variant_is_one_problem_at_its_line(
    in_tmp: Path, variant: str, line: int, message: str
) -> None:
    text = BOARD.split("variants:")[0] + "variants:\n  " + variant + "\n"
    write_project(in_tmp / "p", text)
    with pytest.raises(SpecError) as err:
        load_project(in_tmp / "p")
    shown = str(err.value)
    assert message in shown, shown
    assert shown.startswith(f"p/storyboard.yaml:{line}"), shown
    assert "Traceback" not in shown


def test_a_scene_field_override_is_checked_at_the_variants_line(in_tmp: Path) -> None:
    text = BOARD.replace("duration: 8}", "duration: 8, size: huge}")
    write_project(in_tmp / "p", text)
    with pytest.raises(SpecError) as err:
        load_project(in_tmp / "p")
    assert str(err.value).startswith("p/storyboard.yaml:18: scenes[1].size: variant 'french': ")


def test_an_unknown_variant_names_the_known_ones(tmp_path: Path) -> None:
    main = load_project(write_project(tmp_path / "p", BOARD))
    with pytest.raises(SpecError, match="no variant 'vertcal' \\(variants: vertical, native"):
        load_variant(main, "vertcal")


def test_a_variants_film_file_stays_inside_the_project(in_tmp: Path) -> None:
    text = BOARD.replace("  native: {size: 720x1280}", "  native: {output: {file: ../../x.mp4}}")
    write_project(in_tmp / "p", text)
    with pytest.raises(SpecError) as err:
        load_project(in_tmp / "p")
    shown = str(err.value)
    assert shown.startswith(
        "p/storyboard.yaml:14: variants.native.output.file: variant 'native': "
    ), shown
    assert "outside the project" in shown


def test_a_variant_named_with_digits_is_quoted(tmp_path: Path) -> None:
    """Hostile helper-31: `2024:` (a number to YAML) passed the checks as the name "2024" and
    then every command died with a KeyError traceback; helper-37: `007:` became variant 7 and
    `0x1F:` 31, and `7:` with `007:` one variant. A name YAML reads as a number is one problem
    at its line, saying to quote it; quoted, it is the name as written."""
    head = BOARD.split("variants:")[0] + "variants:\n"
    p = write_project(tmp_path / "p", head + "  '007': {size: 720x1280, reframe: crop}\n")
    main = load_project(p)
    assert variant_names(main) == ["007"]
    assert load_variant(main, "007").board.output.size == "720x1280"
    write_project(tmp_path / "q", head + "  007: {size: 720x1280, reframe: crop}\n")
    with pytest.raises(SpecError) as err:
        load_project(tmp_path / "q")
    shown = str(err.value)
    assert "variant name 7 is a number to YAML, not the text you wrote" in shown, shown
    # at the name's own line, not at `variants:` (hostile fix-44 P1)
    assert "q/storyboard.yaml:13: variants: " in shown and "Traceback" not in shown


def test_a_long_title_and_a_long_variant_name_make_a_file_name_a_disk_takes(
    tmp_path: Path,
) -> None:
    """Hostile helper-31: a 220-character title and a 64-character variant passed `validate`
    and failed at the compose: "File name too long". The title's part of the name is cut."""
    from storyboard.board.assets import film_path

    name = "v" * 64
    text = BOARD.split("variants:")[0].replace("title: ", "title: " + "Tide " * 44, 1)
    text = text.replace("output: {file: out/tide.mp4}\n", "")
    text += f"variants:\n  {name}: {{size: 720x1280, reframe: crop}}\n"
    main = load_project(write_project(tmp_path / "p", text))
    film = load_variant(main, name)
    for project in (main, film):
        path = film_path(project)
        assert len(path.name.encode()) <= 200 and path.name.startswith("tide-tide-")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.with_suffix(".animatic.mp4").write_bytes(b"")  # the longest name it writes


def test_a_variant_s_messages_name_its_render_command(tmp_path: Path) -> None:
    """Hostile helper-31: `compose --variant v` before the variant's first render said to run
    `storyboard render P`, the main film's command."""
    from storyboard.cut.timeline import build_timeline
    from storyboard.errors import ComposeError

    main = load_project(write_project(tmp_path / "p", BOARD))
    film = load_variant(main, "vertical")
    assert film.render_command == f"storyboard render {main.root} --variant vertical"
    assert main.render_command == f"storyboard render {main.root}"
    with pytest.raises(ComposeError, match="--variant vertical` first"):
        build_timeline(film, {}, {}, {})
