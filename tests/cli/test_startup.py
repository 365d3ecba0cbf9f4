"""Start-up imports only what a command needs: ``--version`` and ``--help`` load none of the
heavy libraries, and checking a storyboard loads no HTTP client, video or image library.
(What is imported, checked in a fresh interpreter: not a timed test.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ["pydantic", "jinja2", "httpx", "moviepy", "numpy", "rich", "PIL", "yaml", "asyncio"]

PROBE = """
import contextlib, io, json, sys
from storyboard.cli.main import main
out = io.StringIO()
try:
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(sys.argv[1:])
except SystemExit as e:
    code = e.code
loaded = sorted({m.split(".")[0] for m in sys.modules})
print(json.dumps({"code": code, "out": out.getvalue(), "loaded": loaded}))
"""


def imported_by(*argv: str, cwd: Path | None = None) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, cwd=cwd, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["render", "--help"]], ids=str)
def test_version_and_help_import_no_heavy_module(argv: list[str]) -> None:
    got = imported_by(*argv)
    assert got["code"] == 0
    assert "storyboard" in str(got["out"])
    heavy = sorted(set(HEAVY) & set(got["loaded"]))  # type: ignore[arg-type]
    assert heavy == [], f"`storyboard {' '.join(argv)}` imported {heavy}"


def test_importing_the_package_imports_no_heavy_module() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "import sys, storyboard; print(sorted(sys.modules))"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert not [m for m in HEAVY if f"'{m}'" in proc.stdout]


def test_the_public_names_still_resolve() -> None:
    import storyboard

    for name in storyboard.__all__:
        assert getattr(storyboard, name) is not None
    with pytest.raises(AttributeError):
        _ = storyboard.no_such_name  # type: ignore[attr-defined]


def test_validate_imports_no_http_client_video_or_image_library(tmp_path: Path) -> None:
    (tmp_path / "storyboard.yaml").write_text(
        "title: T\nscenes:\n  - {id: a, prompt: 'A harbour at dawn.', duration: 4}\n"
    )
    got = imported_by("validate", str(tmp_path))
    assert got["code"] == 0, got
    loaded = set(got["loaded"])  # type: ignore[arg-type]
    assert sorted(loaded & {"httpx", "moviepy", "numpy", "PIL", "rich"}) == []
