"""A fetched clip is read for the cut while other scenes generate: its stream layout (which GOPs
a compose may copy) is in build/media before any compose, so a compose after a one-scene edit
does not read it in its own time."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from helpers import stand_in, write_project

from storyboard.cli.main import main
from storyboard.media import gop
from storyboard.media.probe import media_key

# --emulator-latency: as quick as the emulator here, so the client polls a task when it can
# be done (at the default 1 s it waits 0.5 s first); only for speed
FAST = ["--emulator-latency", "0.05"]

BOARD = (
    "title: Ready\ndefaults: {duration: 4}\n"
    "scenes:\n  - {id: a, prompt: A red kite.}\n  - {id: b, prompt: A grey sea.}\n"
)


def test_layouts_are_read_when_the_clips_arrive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    with stand_in(monkeypatch, key="k"):
        p = write_project(tmp_path / "p", BOARD)
        assert main(["render", str(p), *FAST, "-q", "--no-compose"]) == 0
    lock = yaml.safe_load((p / "storyboard.lock").read_text())["scenes"]
    for scene in ("a", "b"):
        e = lock[scene]
        key = media_key(e["sha256"], e["size"])
        assert (p / "build" / "media" / f"{key}.layout-3.json").is_file(), scene
    read: list[Path] = []
    real = gop.stream_layout
    monkeypatch.setattr(gop, "stream_layout", lambda path: read.append(path) or real(path))
    capsys.readouterr()
    assert main(["compose", str(p)]) == 0
    takes = p / "build" / "takes"
    assert [r for r in read if takes in Path(r).parents] == []  # the compose found them all
