"""The README's Python blocks run, in order, as a reader would run them from the repo.

They run in a copy of the example project, on the emulator (no key). Only for speed, the copy's
8 s scenes are 4 s, its film is made at the emulator's --draft size and frame rate (320x180,
10 fps) and the emulator answers in 0.1 s; the code blocks themselves run exactly as printed.
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
    # only for speed: the blocks' renders get the emulator's answers in 0.1 s, not its default
    # 1 s (nothing they print depends on it)
    from storyboard.api.project import Project

    monkeypatch.setitem(Project.render.__kwdefaults__, "emulator_latency", 0.1)
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


# -- the cast, the boards and the animatic: every command of the section, as shown ------------

CAST_SECTION = "## The cast, the boards and the animatic"
RELIEF = "projects/the-relief"


def section(readme: str, title: str) -> str:
    start = readme.index(title)
    return readme[start : readme.index("\n## ", start + len(title))]


@pytest.fixture
def relief(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    dest = tmp_path / RELIEF
    shutil.copytree(
        REPO / RELIEF, dest, ignore=shutil.ignore_patterns("build", "storyboard.lock", "*.jpg")
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RUNWARE_API_KEY", raising=False)
    monkeypatch.delenv("RUNWARE_BASE_URL", raising=False)
    return dest


def run(command: str, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """``storyboard ...`` as the README shows it (P: the example project); its output. Only for
    speed, a render's emulator answers in 0.1 s instead of its default 1 s (the hidden
    ``--emulator-latency``: what is bought and printed does not depend on it)."""
    from storyboard.cli.main import main

    argv = command.removeprefix("storyboard ").replace(" P ", f" {RELIEF} ").split()
    if argv[0] == "render":
        argv += ["--emulator-latency", "0.1"]
    assert main(argv) == 0, command
    got = capsys.readouterr()
    return got.out, got.err


def test_the_cast_section_commands_work_as_shown(
    relief: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = section((REPO / "README.md").read_text(encoding="utf-8"), CAST_SECTION)
    plain = " ".join(text.split())  # the section's words, whatever the line breaks

    # the price of each step: plan's line, validate's total, the table's commands
    out, _ = run(f"storyboard plan {RELIEF}", capsys)
    (prices,) = [ln for ln in out.splitlines() if ln.startswith("boards: ")]
    assert f"```\n{prices}\n```" in text
    out, _ = run(f"storyboard validate {RELIEF}", capsys)
    total = out.strip().split(": ", 1)[1]
    assert f"`{total}`" in plain
    # only for speed (prices do not depend on them: the boards are drawn at the scenes' size):
    # the animatic at the emulator's --draft size and frame rate, 320x180 at 10 frames a second
    board = relief / "storyboard.yaml"
    yaml_text = board.read_text(encoding="utf-8")
    assert "\noutput:\n" in yaml_text
    fast = yaml_text.replace("\noutput:\n", "\noutput:\n  size: 320x180\n  fps: 10\n")
    board.write_text(fast, encoding="utf-8")
    board_step = f"storyboard render {RELIEF} --boards"
    retake_step = f"storyboard render {RELIEF} --boards --retake board:jetty"
    for step, cost in ((board_step, "$0.48"), (retake_step, "$0.06")):
        assert f"| `{step}` |" in text
        assert f"(${cost[1:]} planned)" in run(step, capsys)[1]  # what the render says it buys
    assert (relief / "build" / "the-relief.animatic.mp4").is_file()
    film_step = f"storyboard render {RELIEF}"
    assert f"| `{film_step}` |" in text and "| $3.60 |" in text
    out = run(f"storyboard plan {RELIEF}", capsys)[0]
    assert sum(ln.endswith("generate") for ln in out.splitlines()) == 6  # the clips, no image

    # takes, pick and a retake of a sheet or board, as the section names them
    for shown in ("storyboard takes P cast:wren", "pick P board:jetty 2"):
        assert f"`{shown}`" in text
    assert "`render P --boards --retake board:jetty`" in text
    run("pick P board:jetty 2", capsys)
    out, _ = run("storyboard takes P cast:wren", capsys)
    assert "take-1.png" in out and "*" in out
