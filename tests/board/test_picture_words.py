"""Pictures the storyboard names are judged in their own words (hostile H13g): a too-large cast
picture is not called "a first frame", and an https URL that names no usable host (a space in
it) is refused at its line wherever a picture may be a URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_project
from test_hostile import png_header

from storyboard.board.spec import load_project
from storyboard.errors import SpecError

HEAD = "title: T\nmodel: google:3@3\nimage_model: bfl:6@1\ndefaults: {duration: 4}\n"


def problems(tmp_path: Path, text: str, files: dict | None = None) -> list[str]:
    with pytest.raises(SpecError) as e:
        load_project(write_project(tmp_path / "p", HEAD + text, files))
    return [f"{p.where}: {p.message}" for p in e.value.problems]


def test_a_too_large_cast_picture_is_not_called_a_first_frame(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        "cast:\n  tower: {description: a lighthouse, images: [big.png]}\n"
        "scenes:\n  - {id: a, prompt: The lighthouse., cast: [tower]}\n",
        {"big.png": png_header(8000, 6000)},
    )
    assert found == [
        "cast.tower.images[0]: 'big.png' is 8000x6000 (48 megapixels); an image may have at "
        "most 40 megapixels"
    ]


BAD_URL = "https://exa mple.com/x.png"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (
            f"cast:\n  tower: {{description: a lighthouse, images: ['{BAD_URL}']}}\n"
            "scenes:\n  - {id: a, prompt: The lighthouse., cast: [tower]}\n",
            "cast.tower.images[0]",
        ),
        (f"scenes:\n  - {{id: a, prompt: The lighthouse., first_frame: '{BAD_URL}'}}\n",
         "scenes[0].first_frame"),
        (f"scenes:\n  - {{id: a, prompt: Tower., references: {{images: ['{BAD_URL}']}}}}\n",
         "scenes[0].references"),
        ("scenes:\n  - {id: a, prompt: The lighthouse., first_frame: 'https:///x.png'}\n",
         "scenes[0].first_frame"),
    ],
    ids=["cast", "first-frame", "reference", "no-host"],
)  # fmt: skip
def test_an_https_url_without_a_usable_host_is_refused(
    tmp_path: Path, text: str, where: str
) -> None:
    found = problems(tmp_path, text)
    assert len(found) == 1 and found[0].startswith(f"{where}: "), found
    assert "not a usable https URL" in found[0], found
