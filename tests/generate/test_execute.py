"""Rendering on the emulator over loopback: cache, journal, takes, failures, crash recovery."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import REPO, png_bytes, stand_in, write_project

from storyboard.cli.main import main
from storyboard.emulator import Emulator, EmulatorConfig, Fault

SIX = """
title: Six
defaults: {duration: 4}
scenes:
  - {id: s1, prompt: "Scene one: a harbour at dawn."}
  - {id: s2, prompt: "Scene two: gulls over the water."}
  - {id: s3, prompt: "Scene three: a boat leaves the harbour."}
  - {id: s4, prompt: "Scene four: the boat keeps going.", continuity: extend}
  - {id: s5, prompt: "Scene five: the open sea.", continuity: last_frame}
  - {id: s6, prompt: "Scene six: the empty harbour."}
"""


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Any:
    with stand_in(monkeypatch, 0.15) as e:
        yield e


def prompts_charged(emu: Emulator, since: int = 0) -> list[str]:
    return [c["prompt"].split(":")[0] for c in emu.ledger[since:] if not c.get("refunded")]


def table_rows(out: str) -> list[list[str]]:
    import re

    return [
        re.split(r"\s{2,}", line.strip())
        for line in out.splitlines()[2:]
        if line.strip() and not line.startswith(("-", " "))
    ]


def render(project: Path, *extra: str) -> int:
    # --emulator-latency: the emulator's 0.15 s, so the client polls a task when it can be done
    # (at the default 1 s it waits 0.5 s first); only for speed
    fast = ["--emulator-latency", "0.15"]
    return main(["render", str(project), "--no-compose", "--quiet", *fast, *extra])


def lock(project: Path) -> dict[str, Any]:
    return yaml.safe_load((project / "storyboard.lock").read_text())["scenes"]


def test_first_render_then_noop_rerender_charges_nothing(
    emu: Emulator, tmp_path: Path, capsys
) -> None:
    p = write_project(tmp_path / "six", SIX)
    assert render(p) == 0
    assert len(emu.ledger) == 6
    assert set(lock(p)) == {"s1", "s2", "s3", "s4", "s5", "s6"}
    for entry in lock(p).values():
        assert (p / entry["file"]).stat().st_size == entry["size"]
    n = len(emu.ledger)
    requests = emu.requests
    assert render(p) == 0  # its speed (< 1 s) is measured by bench/render.py
    assert len(emu.ledger) == n and emu.requests == requests  # not even a poll
    capsys.readouterr()
    assert main(["status", str(p)]) == 0
    assert "0 of 6 scenes stale; next render: $0.00" in capsys.readouterr().out


def test_editing_a_scene_regenerates_it_and_what_continues_from_it(
    emu: Emulator, tmp_path: Path, capsys
) -> None:
    p = write_project(tmp_path / "six", SIX)
    assert render(p) == 0
    n = len(emu.ledger)
    text = (p / "storyboard.yaml").read_text()
    (p / "storyboard.yaml").write_text(text.replace("a boat leaves", "a red boat leaves"))
    capsys.readouterr()
    main(["status", str(p)])
    out = capsys.readouterr().out
    rows = {r[0]: r for r in table_rows(out)}
    assert rows["s3"][2:4] == ["stale", "prompt changed"]
    assert rows["s1"][2] == "up to date"
    assert "source 's3' will be re-generated" in out and "source 's4' will be re-generated" in out
    main(["plan", str(p)])
    assert "12 s to generate, $1.20" in capsys.readouterr().out
    assert render(p) == 0
    assert sorted(prompts_charged(emu, n)) == ["Scene five", "Scene four", "Scene three"]
    n = len(emu.ledger)
    (p / "storyboard.yaml").write_text(
        (p / "storyboard.yaml")
        .read_text()
        .replace("the empty harbour", "the empty harbour at night")
    )
    assert render(p) == 0
    assert prompts_charged(emu, n) == ["Scene six"]
    # reverting a change finds the earlier take: free
    n = len(emu.ledger)
    (p / "storyboard.yaml").write_text(text)
    assert render(p) == 0
    assert prompts_charged(emu, n) == []


def test_extend_and_last_frame_use_the_source_outputs(emu: Emulator, tmp_path: Path) -> None:
    p = write_project(tmp_path / "six", SIX)
    assert render(p) == 0
    lk = lock(p)
    reqs = {t.request["positivePrompt"].split(":")[0]: t.request for t in emu.tasks.values()}
    assert reqs["Scene four"]["inputs"] == {"videoId": lk["s3"]["video_id"]}
    assert "width" not in reqs["Scene four"]
    ref = reqs["Scene five"]["inputs"]["frameImages"][0]
    assert ref["frame"] == "first" and ref["image"] in emu.images
    assert lk["s4"]["source_take"] == lk["s3"]["video_uuid"]


def test_a_failing_scene_leaves_the_others_intact(emu: Emulator, tmp_path: Path, capsys) -> None:
    p = write_project(tmp_path / "six", SIX)
    emu.add_fault(
        Fault(
            "error",
            prompt_contains="Scene three",
            code="timeoutProvider",
            message="The provider timed out",
            times=1,
        )
    )
    assert render(p) == 1
    err = capsys.readouterr().err
    assert "s3: scene 's3', timeoutProvider: The provider timed out" in err
    assert "s4: source 's3' failed" in err and "s5: source 's4' failed" in err
    assert set(lock(p)) == {"s1", "s2", "s6"}
    n = len(emu.ledger)
    assert render(p) == 0
    assert sorted(prompts_charged(emu, n)) == ["Scene five", "Scene four", "Scene three"]


def test_retake_and_keep_downstream_and_pick(emu: Emulator, tmp_path: Path, capsys) -> None:
    p = write_project(tmp_path / "six", SIX)
    assert render(p) == 0
    n = len(emu.ledger)
    assert render(p, "--retake", "s3") == 0
    assert sorted(prompts_charged(emu, n)) == ["Scene five", "Scene four", "Scene three"]
    assert lock(p)["s3"]["take"] == 2
    n = len(emu.ledger)
    assert render(p, "--retake", "s3", "--keep-downstream") == 0
    assert prompts_charged(emu, n) == ["Scene three"]
    assert lock(p)["s3"]["take"] == 3 and lock(p)["s4"]["take"] == 2
    capsys.readouterr()
    assert main(["status", str(p)]) == 0
    assert "0 of 6 scenes stale" in capsys.readouterr().out
    assert main(["takes", str(p), "s3"]) == 0
    out = capsys.readouterr().out
    assert "3*" in out and "take-1.mp4" in out and "take-2.mp4" in out
    assert main(["pick", str(p), "s3", "1"]) == 0
    assert lock(p)["s3"]["take"] == 1
    capsys.readouterr()
    main(["status", str(p)])
    rows = {r[0]: r for r in table_rows(capsys.readouterr().out)}
    # s4's take 1 was made from s3's take 1: the cache finds it again, and the pick put it in
    # the cut with s3's (and s5's, made from it)
    assert rows["s4"][2] == "up to date" and rows["s5"][2] == "up to date"
    assert lock(p)["s4"]["take"] == 1 and lock(p)["s5"]["take"] == 1
    (p / "build" / "takes" / "s4" / "take-1.mp4").unlink()
    main(["status", str(p)])
    rows = {r[0]: r for r in table_rows(capsys.readouterr().out)}
    # the take in the cut lost its file: fetched again from the service, not bought again
    assert rows["s4"][2:4] == ["re-download", "1"]
    assert main(["pick", str(p), "s3", "9"]) == 1
    assert main(["render", str(p), "--retake", "s33", "--dry-run"]) == 1
    assert "did you mean 's3'" in capsys.readouterr().err


def test_number_results_gives_several_takes_from_one_task(
    emu: Emulator, tmp_path: Path, capsys
) -> None:
    p = write_project(
        tmp_path / "p",
        """
        title: T
        scenes:
          - {id: a, prompt: A kite in the wind., duration: 4, number_results: 2}
    """,
    )
    assert render(p) == 0
    assert len(emu.ledger) == 1
    capsys.readouterr()
    main(["takes", str(p), "a"])
    out = capsys.readouterr().out
    assert "1*" in out and "\n2 " in out


def test_budget_refuses_before_spending(emu: Emulator, tmp_path: Path, capsys) -> None:
    p = write_project(tmp_path / "six", SIX)
    assert render(p, "--budget", "1.00") == 1
    assert "would cost $2.40, over the --budget of $1.00" in capsys.readouterr().err
    assert emu.ledger == []
    assert render(p, "--dry-run") == 0
    assert "$2.40" in capsys.readouterr().out and emu.ledger == []


def test_missing_file_is_downloaded_again_not_bought_again(emu: Emulator, tmp_path: Path) -> None:
    p = write_project(tmp_path / "six", SIX)
    assert render(p) == 0
    n = len(emu.ledger)
    f = p / lock(p)["s2"]["file"]
    f.unlink()
    assert render(p) == 0
    assert len(emu.ledger) == n and f.is_file()


def test_extension_returning_the_whole_video_is_detected(tmp_path: Path, monkeypatch) -> None:
    with Emulator(EmulatorConfig(latency=0.05, draft=True, extend_returns="whole")) as emu:
        monkeypatch.setenv("RUNWARE_API_KEY", "k")
        monkeypatch.setenv("RUNWARE_BASE_URL", emu.base_url)
        p = write_project(
            tmp_path / "p",
            """
            title: T
            scenes:
              - {id: a, prompt: A kite in the wind., duration: 4}
              - {id: b, prompt: The kite climbs., duration: 4, continuity: extend}
        """,
        )
        assert render(p) == 0
    b = lock(p)["b"]
    assert b["duration"] == pytest.approx(8, abs=0.2) and b["offset"] == pytest.approx(4, abs=0.1)


def test_first_frame_of_another_size_is_cover_cropped(
    emu: Emulator, tmp_path: Path, capsys
) -> None:
    p = write_project(
        tmp_path / "p",
        """
        title: T
        scenes:
          - {id: a, prompt: A kite in the wind., duration: 4, first_frame: assets/square.png}
    """,
        {"assets/square.png": png_bytes(100, 100)},
    )
    assert main(["render", str(p), "--no-compose"]) == 0
    assert "assets/square.png is 100x100; cover-cropped to 1280x720" in capsys.readouterr().err
    (data,) = emu.images.values()
    import io

    from PIL import Image

    assert Image.open(io.BytesIO(data)).size == (1280, 720)


def exif_rotated_jpeg(width: int, height: int) -> bytes:
    """A JPEG stored ``width``x``height`` whose EXIF Orientation (6) turns it upright."""
    import io

    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to view
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (30, 90, 160)).save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("stored", "note"),
    [
        ((720, 1280), None),  # upright 1280x720: the film's size, nothing to say
        ((360, 640), "assets/rot.jpg is 640x360; scaled to 1280x720 (no crop)"),
        ((1280, 1280), "assets/rot.jpg is 1280x1280; cover-cropped to 1280x720"),
    ],
    ids=["upright-fits", "upright-scaled", "upright-cropped"],
)
def test_an_exif_rotated_first_frame_is_noted_at_its_upright_size(
    emu: Emulator, tmp_path: Path, capsys, stored: tuple[int, int], note: str | None
) -> None:
    """Hostile fix-44 P4: a picture turned upright by its EXIF orientation was noted at its
    stored size with a crop that did not happen (`720x1280; cover-cropped to 1280x720`)."""
    p = write_project(
        tmp_path / "p",
        """
        title: T
        scenes:
          - {id: a, prompt: A kite in the wind., duration: 4, first_frame: assets/rot.jpg}
    """,
        {"assets/rot.jpg": exif_rotated_jpeg(*stored)},
    )
    assert main(["render", str(p), "--no-compose"]) == 0
    err = capsys.readouterr().err
    said = [line for line in err.splitlines() if "assets/rot.jpg is" in line]
    assert said == ([f"note: a: {note}"] if note else []), err


def test_resume_after_crash_before_the_answer(emu: Emulator, tmp_path: Path) -> None:
    """A task journaled as pending (crash between journal and submit) is sent with its UUID."""
    p = write_project(
        tmp_path / "p",
        """
        title: T
        scenes:
          - {id: a, prompt: A kite in the wind., duration: 4}
    """,
    )
    from storyboard.board.spec import load_project
    from storyboard.generate.staleness import scene_keys
    from storyboard.generate.state import BuildState
    from storyboard.plan.compile import compile_project

    plan = compile_project(load_project(p))
    st = BuildState(p)
    req = dict(plan.tasks[0].request)
    st.record_task(req["taskUUID"], "a", scene_keys(plan)["a"], None, req)
    st.close()
    assert render(p) == 0
    assert emu.charges() == {req["taskUUID"]: 1}


def test_sigkill_during_processing_then_render_again_pays_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Emulator(EmulatorConfig(latency=2.0, draft=True)) as emu:
        p = write_project(tmp_path / "six", SIX)
        env = {
            **os.environ,
            "RUNWARE_API_KEY": "k",
            "RUNWARE_BASE_URL": emu.base_url,
            "PYTHONPATH": str(REPO),
        }
        cmd = [sys.executable, "-m", "storyboard", "render", str(p), "--no-compose", "--quiet"]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        journal = p / "build" / "journal.sqlite"
        deadline = time.monotonic() + 30
        submitted = 0
        while time.monotonic() < deadline and submitted < 4:
            time.sleep(0.05)
            if journal.exists():
                try:
                    with sqlite3.connect(journal) as db:
                        submitted = db.execute(
                            "SELECT COUNT(*) FROM tasks WHERE state='submitted'"
                        ).fetchone()[0]
                except sqlite3.Error:
                    pass
        assert submitted >= 4, "tasks were never submitted"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        charged_before = len(emu.ledger)
        assert charged_before >= 4
        # killed while processing: the service had not yet answered any of them as done
        assert all(t.noticed_at is None for t in emu.tasks.values())
        # only for speed: what the render again sends now (s4, s5) need not process for long
        emu.config.latency = 0.15
        monkeypatch.setenv("RUNWARE_API_KEY", "k")
        monkeypatch.setenv("RUNWARE_BASE_URL", emu.base_url)
        assert render(p) == 0
        charges = emu.charges()
        assert len(charges) == 6 and set(charges.values()) == {1}
        entries = lock(p)
        assert set(entries) == {"s1", "s2", "s3", "s4", "s5", "s6"}
        for e in entries.values():
            assert (p / e["file"]).stat().st_size == e["size"]


@pytest.mark.timeout(120)
def test_independent_scenes_run_concurrently(tmp_path: Path, monkeypatch) -> None:
    """All eight are in flight together: no task finishes until all eight were submitted."""
    config = EmulatorConfig(latency=0.0, draft=True, hold_until_accepted=8)
    with Emulator(config) as emu:
        monkeypatch.setenv("RUNWARE_API_KEY", "k")
        monkeypatch.setenv("RUNWARE_BASE_URL", emu.base_url)
        scenes = "\n".join(f"  - {{id: c{i}, prompt: 'Shot {i} of eight.'}}" for i in range(8))
        p = write_project(
            tmp_path / "p", f"title: T\ndefaults: {{duration: 8}}\nscenes:\n{scenes}\n"
        )
        assert render(p, "--jobs", "8") == 0
        tasks = list(emu.tasks.values())
    assert len(tasks) == 8
    assert all(x.noticed_at is not None for x in tasks)
