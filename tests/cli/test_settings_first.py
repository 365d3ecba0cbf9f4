"""A bad STORYBOARD_JOBS / STORYBOARD_CACHE_MB is said by `render` before anything is spent
(hostile F8: it was said after the clips were made, by the compose at the end)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_project

from storyboard.cli.main import main


@pytest.mark.parametrize(
    ("name", "value"), [("STORYBOARD_JOBS", "0"), ("STORYBOARD_CACHE_MB", "nan")]
)
def test_render_refuses_a_bad_setting_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, name: str, value: str
) -> None:
    monkeypatch.delenv("RUNWARE_API_KEY", raising=False)
    monkeypatch.setenv(name, value)
    p = write_project(
        tmp_path / "p",
        "title: T\nscenes:\n  - {id: a, prompt: A kite over the sea., duration: 4}\n",
    )
    assert main(["render", str(p), "--draft", "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.splitlines()[-1].startswith(f"{name}={value!r}"), err
    assert "Traceback" not in err
    assert not (p / "build" / "takes").exists()
    monkeypatch.delenv(name)
    fast = ["--emulator-latency", "0.05"]  # only for speed
    assert main(["render", str(p), "--draft", "--quiet", "--no-compose", *fast]) == 0
