"""The README's Python blocks run, in order, as a reader would run them from the repo.

They run in a copy of the example project, on the emulator (no key). Only for speed, the copy's
8 s scenes are 4 s and its film is made at the emulator's --draft size and frame rate (320x180,
10 fps); the code blocks themselves run exactly as printed.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from pathlib import Path

import pytest
from helpers import REPO

BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks(markdown: str) -> list[tuple[int, str]]:
    """(line number, code) of every ```python block."""
    return [(markdown[: m.start()].count("\n") + 2, m.group(1)) for m in BLOCK.finditer(markdown)]


def run_blocks(blocks: list[tuple[int, str]], name: str = "README.md") -> str:
    """Run the blocks in one namespace; returns what they printed. A failing block raises."""
    namespace: dict[str, object] = {"__name__": "__readme__"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for line, code in blocks:
            # the file name and line offset make a traceback point into the README
            exec(compile("\n" * (line - 1) + code, name, "exec"), namespace)
    return out.getvalue()


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    dest = tmp_path / "projects" / "lighthouse"
    shutil.copytree(
        REPO / "projects" / "lighthouse",
        dest,
        ignore=shutil.ignore_patterns("build", "storyboard.lock"),
    )
    board = dest / "storyboard.yaml"
    text = board.read_text(encoding="utf-8")
    assert "\noutput:\n" in text
    text = text.replace("\noutput:\n", "\noutput:\n  size: 320x180\n  fps: 10\n")
    text = text.replace("  duration: 8\n", "  duration: 4\n")  # 4 s clips: a fast test
    text = text.replace('"Goodnight, then.", at: 4.5', '"Goodnight, then.", at: 2.5')  # inside 4 s
    board.write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RUNWARE_API_KEY", raising=False)
    monkeypatch.delenv("RUNWARE_BASE_URL", raising=False)
    return dest


def test_the_readme_python_blocks_run(example: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = python_blocks(readme)
    assert len(blocks) >= 2 and any("storyboard.load(" in code for _, code in blocks)
    printed = run_blocks(blocks)
    assert "5 scenes, " in printed  # plan
    assert "dusk generated take 1" in printed  # render
    assert str(example / "build" / "the-last-keeper.mp4") in printed  # compose
    assert "lamp-room: take 1 is in the cut" not in printed  # pick returns, the CLI prints
    assert "over the --budget of $0.50" in printed  # the budget error
    assert (example / "storyboard.lock").is_file()


def test_a_broken_block_fails_and_points_at_its_readme_line() -> None:
    text = "intro\n\n```python\nx = 1\n```\n\n```python\ny = x +\n```\n"
    blocks = python_blocks(text)
    assert blocks == [(4, "x = 1\n"), (8, "y = x +\n")]
    with pytest.raises(SyntaxError) as err:
        run_blocks(blocks)
    assert err.value.lineno == 8
    with pytest.raises(NameError):
        run_blocks([(1, "print(undefined_name)\n")])
