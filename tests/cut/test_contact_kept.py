"""The contact sheet is drawn again only when what it shows changed: a compose that changed
only the sound (a music volume) keeps it, and a sheet that is not the one drawn (tampered,
replaced by a link, gone) is drawn again."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from PIL import Image
from test_film_key import edit_yaml, music_bed, reload, three

from storyboard.cut.compose import compose_film


def sheet_id(p: Path) -> tuple[int, int]:
    st = p.lstat()
    return st.st_ino, st.st_mtime_ns


def test_a_sound_only_change_keeps_the_sheet_and_a_tampered_one_is_drawn_again(
    tmp_path: Path,
) -> None:
    music_bed(tmp_path)
    project, state = three(tmp_path, edit="{loudness: 'off', music: {file: bed.wav, volume: 0.3}}")
    first = compose_film(project, state, log=lambda s: None)
    sheet = first.contact_sheet
    assert sheet is not None
    drawn = sheet.read_bytes()
    before = sheet_id(sheet)

    edit_yaml(project, "volume: 0.3", "volume: 0.5")  # the film changes, not what the sheet shows
    again = compose_film(*reload(project), log=lambda s: None)
    assert not again.up_to_date and again.contact_sheet == sheet
    assert sheet_id(sheet) == before and sheet.read_bytes() == drawn

    sheet.write_bytes(b"not a contact sheet")  # tampered: drawn again
    edit_yaml(project, "volume: 0.5", "volume: 0.4")
    compose_film(*reload(project), log=lambda s: None)
    assert sheet.read_bytes() == drawn

    elsewhere = tmp_path / "elsewhere.png"  # a link to the right bytes is not the sheet drawn
    elsewhere.write_bytes(drawn)
    sheet.unlink()
    sheet.symlink_to(elsewhere)
    edit_yaml(project, "volume: 0.4", "volume: 0.3")
    compose_film(*reload(project), log=lambda s: None)
    assert not sheet.is_symlink() and sheet.read_bytes() == drawn
    assert elsewhere.read_bytes() == drawn  # nothing written through the link


def test_what_the_sheet_shows_changing_draws_it_again(tmp_path: Path) -> None:
    project, state = three(tmp_path)
    first = compose_film(project, state, log=lambda s: None)
    sheet = first.contact_sheet
    assert sheet is not None
    before = sheet.read_bytes()
    edit_yaml(project, "{type: crossfade, duration: 0.3}", "{type: fade, duration: 0.3}")
    compose_film(*reload(project), log=lambda s: None)
    with Image.open(sheet) as im:
        im.verify()
    assert sheet.read_bytes() != before  # the rows say "in: fade" now


def test_the_sheet_is_drawn_once_the_pictures_encodes_are_under_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19: the sheet (fonts, images, a PNG) took the interpreter from the picture's
    planning, which an edit waits on before its first encode starts; it is drawn beside the
    encodes instead."""
    import storyboard.cut.compose as compose
    import storyboard.cut.picture as picture

    project, state = three(tmp_path)
    submitted = threading.Event()
    seen: list[bool] = []
    order = picture.encode_order

    def submitting(*args: object, **kwargs: object) -> object:
        time.sleep(0.2)  # a sheet drawn before this would have started by now
        submitted.set()
        return order(*args, **kwargs)  # type: ignore[arg-type]

    drawer = compose.contact_sheet

    def sheet(*args: object, **kwargs: object) -> object:
        seen.append(submitted.is_set())
        return drawer(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(picture, "encode_order", submitting)
    monkeypatch.setattr(compose, "contact_sheet", sheet)
    res = compose_film(project, state, log=lambda s: None)
    assert seen == [True]
    assert res.contact_sheet is not None and res.contact_sheet.is_file()


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_a_sheet_path_that_is_not_a_file_is_refused_before_anything_is_made(
    tmp_path: Path, kind: str
) -> None:
    """Hostile helper-52: a folder where the sheet goes raised IsADirectoryError (a traceback)
    after the film was in place, with no captions or stamp written. It is refused first, as the
    film's and the captions' own paths are."""
    from storyboard.cut.compose import contact_sheet_path, output_path
    from storyboard.errors import ComposeError

    project, state = three(tmp_path)
    sheet = contact_sheet_path(project)
    sheet.parent.mkdir(parents=True, exist_ok=True)
    if kind == "folder":
        sheet.mkdir()
    else:
        os.mkfifo(sheet)
    with pytest.raises(ComposeError, match=rf"cannot write {sheet}: it is a"):
        compose_film(project, state, log=lambda s: None)
    assert not output_path(project).exists()
    assert not (project.build / "chunks").exists() or not any(
        (project.build / "chunks").rglob("*.mp4")
    )


def test_a_folder_put_where_the_sheet_goes_while_composing_is_one_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storyboard.cut.compose as compose
    from storyboard.errors import StoryboardError

    project, state = three(tmp_path)
    drawer = compose.contact_sheet

    def sheet(tl, root, title, dest, *rest):  # type: ignore[no-untyped-def]
        dest.mkdir(parents=True)  # appears after the check
        return drawer(tl, root, title, dest, *rest)

    monkeypatch.setattr(compose, "contact_sheet", sheet)
    with pytest.raises(StoryboardError, match="contact-sheet.png"):
        compose_film(project, state, log=lambda s: None)


def test_sha256_of_a_folder_is_none(tmp_path: Path) -> None:
    from storyboard.cut.chunks import sha256_nofollow

    assert sha256_nofollow(tmp_path) is None


def test_a_picture_that_never_says_it_started_still_gets_its_sheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hostile helper-52: the call that draws the sheet when the picture never started any
    encode sat after a ``raise`` (unreachable); the sheet must come either way."""
    import storyboard.cut.compose as compose

    project, state = three(tmp_path)
    render = compose.render_video

    def silent(*args, started=None, **kwargs):  # type: ignore[no-untyped-def]
        return render(*args, **kwargs)  # never calls started

    monkeypatch.setattr(compose, "render_video", silent)
    res = compose_film(project, state, log=lambda s: None)
    assert res.contact_sheet is not None and res.contact_sheet.is_file()
