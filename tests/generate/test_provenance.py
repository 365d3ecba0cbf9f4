"""Provenance: every take records what made it; a placeholder never passes for a real take."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import stand_in, write_project

from storyboard.cli.main import main
from storyboard.emulator import Emulator, EmulatorConfig
from storyboard.generate.state import BuildState, maker_class

TWO = """
title: Two
defaults: {duration: 4}
scenes:
  - {id: a, prompt: "A harbour at dawn."}
  - {id: b, prompt: "The boat keeps going.", continuity: extend}
"""


def lock(project: Path) -> dict[str, Any]:
    return yaml.safe_load((project / "storyboard.lock").read_text())["scenes"]


def status_rows(out: str) -> dict[str, list[str]]:
    import re

    rows = [re.split(r"\s{2,}", line.strip()) for line in out.splitlines()[2:] if line.strip()]
    return {r[0]: r for r in rows if len(r) >= 5}


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNWARE_API_KEY", raising=False)
    monkeypatch.delenv("RUNWARE_BASE_URL", raising=False)


def test_draft_takes_are_stale_for_a_full_render_and_the_emulator_reports_no_spend(
    no_key: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = write_project(tmp_path / "two", TWO)
    args = ["render", str(p), "--no-compose", "--quiet", "--emulator-latency", "0.05"]
    assert main([*args, "--draft"]) == 0
    out = capsys.readouterr().out
    assert "spent $0 (would cost $0.80)" in out
    assert {e["made_by"] for e in lock(p).values()} == {"draft"}
    assert main(["status", str(p)]) == 0
    rows = status_rows(capsys.readouterr().out)
    assert rows["a"][2:4] == ["stale", "made as a --draft"]
    assert rows["b"][3].startswith("made as a --draft")
    # a second draft render reuses them: nothing is made again
    assert main([*args, "--draft"]) == 0
    assert "spent $0 (would cost $0.00)" in capsys.readouterr().out


def test_switching_from_the_emulator_to_a_key_makes_every_placeholder_stale(
    no_key: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    p = write_project(tmp_path / "one", TWO.split("  - {id: b")[0])
    assert main(["render", str(p), "--no-compose", "-q", "--emulator-latency", "0.05"]) == 0
    assert lock(p)["a"]["made_by"] == "emulator"
    capsys.readouterr()
    assert main(["status", str(p)]) == 0  # still offline: up to date
    assert "0 of 1 scenes stale" in capsys.readouterr().out
    # an emulator that does not say what it is stands in for the real service here
    with stand_in(monkeypatch, key="real-key") as emu:
        assert main(["status", str(p)]) == 0
        out = capsys.readouterr().out
        assert status_rows(out)["a"][2:4] == ["stale", "made by the emulator"]
        assert "1 of 1 scenes stale; next render: $0.40" in out
        # the placeholder cut is refused while a key is set
        assert main(["compose", str(p)]) == 1
        err = capsys.readouterr().err
        assert (
            "RUNWARE_API_KEY is set but the cut holds placeholder takes: "
            "a (take 1, made by the emulator)"
        ) in err
        assert main(["render", str(p), "--no-compose", "-q"]) == 0
        assert "spent $0.40" in capsys.readouterr().out
        assert len(emu.ledger) == 1
        assert lock(p)["a"]["made_by"] == f"runware {emu.base_url}"
        assert main(["status", str(p)]) == 0
        assert "0 of 1 scenes stale" in capsys.readouterr().out
    # back offline: the real take is kept (never replaced by a placeholder)
    monkeypatch.delenv("RUNWARE_API_KEY")
    monkeypatch.delenv("RUNWARE_BASE_URL")
    assert main(["status", str(p)]) == 0
    assert "0 of 1 scenes stale" in capsys.readouterr().out


def test_takes_from_before_provenance_are_judged_by_their_url(tmp_path: Path) -> None:
    assert maker_class(None, "http://127.0.0.1:5000/videos/x.mp4") == "emulator"
    assert maker_class(None, "http://localhost:5000/videos/x.mp4") == "emulator"
    assert maker_class(None, "https://vm.runware.ai/video/x.mp4") == "runware"
    assert maker_class("draft", "http://127.0.0.1/x") == "draft"
    assert maker_class("runware https://api.runware.ai/v1", None) == "runware"
    # an old journal without the made_by column is upgraded in place
    build = tmp_path / "build"
    build.mkdir()
    db = sqlite3.connect(build / "journal.sqlite")
    db.execute(
        "CREATE TABLE takes (scene TEXT NOT NULL, n INTEGER NOT NULL, key TEXT NOT NULL,"
        " source_take TEXT, task_uuid TEXT NOT NULL, video_uuid TEXT NOT NULL UNIQUE,"
        " video_id TEXT, url TEXT, file TEXT NOT NULL, size INTEGER NOT NULL,"
        " sha256 TEXT NOT NULL, cost REAL, duration REAL, offset REAL NOT NULL DEFAULT 0,"
        " nsfw INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL, PRIMARY KEY (scene, n))"
    )
    db.execute(
        "INSERT INTO takes VALUES ('a',1,'k',NULL,'t','v',NULL,"
        "'http://127.0.0.1:1/videos/v.mp4','build/takes/a/take-1.mp4',1,'h',0.4,4,0,0,0)"
    )
    db.commit()
    db.close()
    state = BuildState(tmp_path)
    try:
        (old,) = state.takes("a")
        assert old.made_by is None and old.maker == "emulator"
    finally:
        state.close()


def test_takes_from_a_standalone_emulator_with_a_key_stay_placeholders(
    no_key: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    """The README's recipe (a key pointed at `storyboard emulator`) makes placeholders: after
    switching to the real endpoint they are stale, never reused as real takes."""
    p = write_project(tmp_path / "one", TWO.split("  - {id: b")[0])
    with Emulator(EmulatorConfig(latency=0.05, draft=True)) as emu:
        monkeypatch.setenv("RUNWARE_API_KEY", "anything")
        monkeypatch.setenv("RUNWARE_BASE_URL", emu.base_url)
        assert main(["render", str(p), "--no-compose", "-q"]) == 0
        assert "spent $0 (would cost $0.40)" in capsys.readouterr().out
        assert lock(p)["a"]["made_by"] == f"draft {emu.base_url}"
    monkeypatch.setenv("RUNWARE_BASE_URL", "https://api.runware.ai/v1")
    assert main(["status", str(p)]) == 0
    rows = status_rows(capsys.readouterr().out)
    assert rows["a"][2] == "stale"
    assert rows["a"][3].startswith("made as a --draft")
    # nothing answers on a dead loopback port: its takes cannot be confirmed real either
    monkeypatch.setenv("RUNWARE_BASE_URL", "http://127.0.0.1:1/v1")
    assert main(["status", str(p)]) == 0
    assert status_rows(capsys.readouterr().out)["a"][2] == "stale"


def _dead_loopback_port() -> int:
    """A loopback port with nothing listening on it (bound, then closed)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_loopback_endpoint_is_a_placeholder_maker_unless_it_answers_as_a_proxy() -> None:
    """Unreachable: it cannot be confirmed as a proxy to Runware, so its takes are placeholders;
    one that answers, but not as the emulator, is a proxy (real takes); the emulator says so."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from storyboard.generate.backend import BackendOptions

    dead = f"http://127.0.0.1:{_dead_loopback_port()}/v1"
    opts = BackendOptions(api_key="k", base_url=dead)
    assert opts.maker == "emulator"
    assert opts.made_by == f"emulator {dead}"
    assert maker_class(opts.made_by) == "emulator"

    class Proxy(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        proxy = f"http://127.0.0.1:{server.server_address[1]}/v1"
        assert BackendOptions(api_key="k", base_url=proxy).maker == "runware"
    finally:
        server.shutdown()
        server.server_close()
    with Emulator(EmulatorConfig(latency=0.05)) as emu:
        assert BackendOptions(api_key="k", base_url=emu.base_url).maker == "emulator"
    with Emulator(EmulatorConfig(latency=0.05, draft=True)) as emu:
        assert BackendOptions(api_key="k", base_url=emu.base_url).maker == "draft"


def test_a_lock_edited_to_call_a_placeholder_real_is_still_refused_with_a_key(
    no_key: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    """Hostile helper-30: storyboard.lock's `made_by: emulator` edited to `runware ...` let
    a placeholder into a film composed with a key; the journal knew where it came from."""
    p = write_project(tmp_path / "one", TWO.split("  - {id: b")[0])
    assert main(["render", str(p), "--no-compose", "-q", "--emulator-latency", "0.05"]) == 0
    text = (p / "storyboard.lock").read_text()
    assert "made_by: emulator" in text
    (p / "storyboard.lock").write_text(
        text.replace("made_by: emulator", "made_by: runware https://api.runware.ai/v1")
    )
    capsys.readouterr()
    monkeypatch.setenv("RUNWARE_API_KEY", "real-key")
    assert main(["compose", str(p), "--force"]) == 1
    err = capsys.readouterr().err
    assert "the cut holds placeholder takes: a (take 1, made by the emulator)" in err


def test_a_lost_placeholder_is_made_again_for_nothing(
    no_key: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """hostile helper-42: a placeholder's file deleted, each keyless render said "render again
    to retry", downloading from the port of an emulator long stopped; then it said to
    --retake. Hostile helper-55: it should not need one: the next render makes it again, at no
    cost (a keyless render's emulator is gone with its files)."""
    p = write_project(
        tmp_path / "one", "title: One\nscenes:\n  - {id: a, prompt: A kite., duration: 4}\n"
    )
    args = ["render", str(p), "--no-compose", "--quiet", "--emulator-latency", "0.05", "--draft"]
    assert main(args) == 0
    (p / "build" / "takes" / "a" / "take-1.mp4").unlink()
    capsys.readouterr()
    assert main(["status", str(p), "--draft"]) == 0
    row = next(r for r in capsys.readouterr().out.splitlines() if r.startswith("a "))
    assert "file missing" in row and "re-download" not in row, row
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "not bought again" not in err and "--retake" not in err, err
    lock = (p / "storyboard.lock").read_text()
    assert "take: 2" in lock and (p / "build" / "takes" / "a" / "take-2.mp4").is_file()


def test_a_render_stopped_while_downloading_placeholders_recovers(
    no_key: None, tmp_path: Path
) -> None:
    """hostile helper-45: stopped while downloading (Ctrl-C, or a progress callback that
    raised), each later keyless render tried the stopped emulator's URLs for ever: the project
    could not be rendered again, and `status` listed the tasks as paid but not collected."""
    import storyboard

    p = write_project(tmp_path / "two", TWO)
    project = storyboard.load(p)

    class Stop(Exception):
        pass

    def stop_at_download(event: object) -> None:
        if isinstance(event, storyboard.SceneUpdate) and event.state == "downloading":
            raise Stop

    first = project.render(draft=True, emulator_latency=0.05, progress=stop_at_download)
    assert not first.ok  # each scene stopped at its download (one scene's failure is a result)
    again = storyboard.load(p).render(draft=True, emulator_latency=0.05)
    assert again.ok, [s.error for s in again.scenes]
    assert storyboard.load(p).status().uncollected == []


SOUNDED = """
title: Sounded
defaults: {duration: 4}
narrator: {model: xai:tts@0, voice: Eve}
scenes:
  - id: a
    prompt: "A harbour at dawn."
    narration: ["The boats go out."]
    sounds: [{prompt: "a gull cries", at: 1, duration: 1}]
edit: {music: {prompt: "a slow accordion"}}
"""


def test_a_key_refuses_placeholder_lines_sounds_and_music_under_real_clips(
    no_key: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    """Hostile helper-66: with a key, compose refused placeholder clips only; the emulator's
    speech, effects and music went into the real film without a word."""
    p = write_project(tmp_path / "sounded", TWO.split("  - {id: b")[0])
    with stand_in(monkeypatch, key="real-key"):
        assert main(["render", str(p), "--no-compose", "-q"]) == 0
    assert lock(p)["a"]["made_by"].startswith("runware")
    (p / "storyboard.yaml").write_text(SOUNDED)  # same scene: its real clip is kept
    monkeypatch.delenv("RUNWARE_API_KEY")
    monkeypatch.delenv("RUNWARE_BASE_URL")
    assert main(["render", str(p), "--no-compose", "-q", "--emulator-latency", "0.05"]) == 0
    assert lock(p)["a"]["made_by"].startswith("runware")
    assert lock(p)["music"]["made_by"] == "emulator"
    capsys.readouterr()
    with stand_in(monkeypatch, key="real-key") as emu:
        for force in ([], ["--force"]):
            assert main(["compose", str(p), *force]) == 1
            err = capsys.readouterr().err
            assert "the cut holds placeholder takes: " in err
            for node in ("line:a/1", "sfx:a/1", "music"):
                assert f"{node} (take 1, made by the emulator)" in err
            assert "a (take" not in err  # the real clip is not named
        assert not emu.ledger
    assert not list((p / "build").glob("*.mp4"))
