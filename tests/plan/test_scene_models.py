"""Issue 16 per scene: model, seed, negative_prompt, settings, number_results, references,
price; continuity across models; unknown prices; a three-model film on the emulator."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import png_bytes, stand_in, write_project

from storyboard.board.spec import load_project
from storyboard.cli.main import main
from storyboard.errors import BudgetError, PlanError
from storyboard.plan.compile import compile_project

MIXED = """
title: Three models
model: alibaba:wan@2.6
size: 1280x720
defaults: {duration: 5}
scenes:
  - {id: a, prompt: A lighthouse at dusk., seed: 42, negative_prompt: blur}
  - id: b
    model: klingai:kling-video@3-pro
    size: 1920x1080
    prompt: The keeper climbs the stairs.
    negative_prompt: text
    continuity: last_frame
  - id: c
    model: google:3@3
    prompt: The lamp turns.
    duration: 4
    seed: 7
    settings: {providerSettings: {google: {generateAudio: false}}}
"""


def project(tmp: Path, text: str, files: dict[str, Any] | None = None) -> Path:
    base = {"first.png": png_bytes(), "ref.png": png_bytes(), "v.mp4": b"\0" * 64}
    return write_project(tmp / "p", textwrap.dedent(text), {**base, **(files or {})})


def problems(tmp: Path, text: str) -> str:
    project(tmp, text)
    with pytest.raises(PlanError) as e:
        compile_project(load_project(tmp / "p"))
    return str(e.value)


def test_each_scene_has_its_model_seed_and_negative_prompt(tmp_path: Path, capsys: Any) -> None:
    p = project(tmp_path, MIXED)
    plan = compile_project(load_project(p))
    a, b, c = (t.request for t in plan.tasks)
    assert (a["model"], a["seed"], a["negativePrompt"]) == ("alibaba:wan@2.6", 42, "blur")
    assert b["model"] == "klingai:kling-video@3-pro" and b["negativePrompt"] == "text"
    assert "seed" not in b and "width" not in b  # Kling: frame images or width/height
    assert b["inputs"]["frameImages"][0]["image"] == "${lastFrame:a}"
    assert c["model"] == "google:3@3" and c["seed"] == 7 and c["duration"] == 4
    assert c["providerSettings"] == {"google": {"generateAudio": False}}
    assert main(["plan", str(p), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [t["model"] for t in data["tasks"]] == [
        "alibaba:wan@2.6",
        "klingai:kling-video@3-pro",
        "google:3@3",
    ]


def test_the_three_model_film_renders_on_the_emulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with stand_in(monkeypatch, key="k") as emu:
        # the film at the --draft clips' size (only for speed: it is composed all the same)
        p = project(tmp_path, MIXED + "output: {size: 320x180, fps: 10}\n")
        assert main(["render", str(p), "-q"]) == 0
        sent = [em.request for em in emu.tasks.values()]
        uploads = len(emu.images)
    assert sorted(t["model"] for t in sent) == [
        "alibaba:wan@2.6",
        "google:3@3",
        "klingai:kling-video@3-pro",
    ]
    assert uploads == 1  # the last frame of a, sent to Kling (by mediaStorage)
    lock = yaml.safe_load((p / "storyboard.lock").read_text())["scenes"]
    assert set(lock) == {"a", "b", "c"}
    assert (p / "build" / "three-models.mp4").is_file() or list((p / "build").glob("*.mp4"))


@pytest.mark.parametrize(
    ("scene", "field", "message"),
    [
        ("{id: a, prompt: P, model: bytedance:seedance@2.5, duration: 5, seed: 1}", "seed",
         "ByteDance Seedance 2.5 (bytedance:seedance@2.5) takes no seed"),
        ("{id: a, prompt: P, model: google:3@3, duration: 4, negative_prompt: x}",
         "negative_prompt", "takes no negativePrompt"),
        ("{id: a, prompt: P, duration: 5, settings: {fps: 24}}", "settings",
         "settings.fps: Wan2.6 (alibaba:wan@2.6) has no field 'fps'"),
        ("{id: a, prompt: P, duration: 5, settings: {seed: 3}}", "settings",
         "settings.seed: the storyboard sets seed itself; use the scene field 'seed'"),
        ("{id: a, prompt: P, duration: 5, settings: {taskUUID: x}}", "settings",  # helper-47
         "settings.taskUUID: the storyboard sets taskUUID itself; it cannot be set"),
        ("{id: a, prompt: P, duration: 5, references: {images: [ref.png]}}", "references",
         "references.images: no source says which input of Wan2.6"),
        ("{id: a, prompt: P, duration: 5, references: {images: [nope.png]}}", "references",
         "references.images: file not found: nope.png"),
        ("{id: a, prompt: P, duration: 5, model: 'pixverse:1@9'}", "model",
         "unknown model 'pixverse:1@9'"),
    ],
)  # fmt: skip
def test_a_scene_field_the_model_does_not_take_is_an_error_at_its_line(
    tmp_path: Path, scene: str, field: str, message: str
) -> None:
    board = f"title: T\nmodel: alibaba:wan@2.6\nsize: 1280x720\nscenes:\n  - {scene}\n"
    project(tmp_path, board)
    from storyboard.errors import StoryboardError

    with pytest.raises(StoryboardError) as e:
        compile_project(load_project(tmp_path / "p"))
    text = str(e.value)
    assert f"storyboard.yaml:5: scenes[0].{field}" in text and message in text, text


def test_references_go_in_the_model_s_own_field_within_its_limit(tmp_path: Path) -> None:
    project(
        tmp_path,
        """
        title: T
        model: bytedance:seedance@2.5
        size: 1280x720
        scenes:
          - {id: a, prompt: Pp, duration: 5, references: {images: [ref.png, "https://h/r.png"],
             videos: v.mp4}}
        """,
    )
    (t,) = compile_project(load_project(tmp_path / "p")).tasks
    assert t.request["inputs"] == {
        "referenceImages": ["${file:ref.png}", "https://h/r.png"],
        "referenceVideos": ["${file:v.mp4}"],
    }
    text = problems(
        tmp_path,
        """
        title: T
        model: alibaba:wan@2.6
        size: 1280x720
        scenes:
          - {id: a, prompt: P, duration: 5, references: {audio: [v.mp4, v.mp4]}}
        """,
    )
    assert "references.audio: Wan2.6 takes at most 1 in inputs.audio, got 2" in text


def test_number_results_up_to_the_model_s_limit(tmp_path: Path) -> None:
    text = problems(
        tmp_path,
        "title: T\nmodel: openai:3@1\nscenes:\n  - {id: a, prompt: Pp, duration: 4, "
        "number_results: 5}\n",
    )
    assert "number_results must be 1 to 4, got 5" in text
    # no source gives Wan2.6's limit: the SDK types an int, so 3 goes through
    project(tmp_path, "title: T\nmodel: alibaba:wan@2.6\nscenes:\n  - {id: a, prompt: P, "
            "duration: 5, number_results: 3}\n")  # fmt: skip
    (t,) = compile_project(load_project(tmp_path / "p")).tasks
    assert t.request["numberResults"] == 3


def test_continuity_across_models(tmp_path: Path) -> None:
    text = problems(
        tmp_path,
        """
        title: T
        model: bytedance:seedance@2.5
        size: 1280x720
        scenes:
          - {id: a, prompt: A boat., duration: 5}
          - {id: b, prompt: It sails on., duration: 5, model: bfl:flux@3-video,
             continuity: extend}
        """,
    )
    assert "storyboard.yaml:7: scenes[1].continuity" in text
    assert "a clip is extended only by the model that made it" in text
    assert "use continuity: last_frame" in text


def test_a_model_known_only_from_the_registry_has_an_unknown_price(
    tmp_path: Path, capsys: Any
) -> None:
    board = """
        title: T
        size: 1280x720
        scenes:
          - {id: a, prompt: A boat., duration: 5, model: 'pixverse:1@8', seed: 3}
          - {id: b, prompt: A gull., duration: 5, model: 'alibaba:wan@2.6'}
    """
    p = project(tmp_path, board)
    plan = compile_project(load_project(p))
    a, b = plan.tasks
    assert not a.price_known and b.price_known and a.request["seed"] == 3
    assert main(["plan", str(p)]) == 0
    out = capsys.readouterr().out
    assert "unknown" in out and "price unknown (no source gives it) for a" in out
    assert main(["render", str(p), "--budget", "100"]) != 0
    err = capsys.readouterr().err
    assert "no source gives the price of a (pixverse:1@8)" in err and "nothing was spent" in err
    # a price the storyboard gives lets --budget hold it
    project(tmp_path, board.replace("seed: 3}", "seed: 3, price: 0.05}"))
    plan = compile_project(load_project(p))
    assert plan.tasks[0].price_known and plan.tasks[0].cost == pytest.approx(0.25)
    assert not plan.unpriced
    assert BudgetError  # the error class render raises for both


def test_a_size_the_scenes_own_model_refuses_names_the_scene(tmp_path: Path) -> None:
    """Hostile F13: the top-level size refused by one scene's own model said only
    `size: LTX-2.3 accepts sizes ...`: which scene? Now the scene is named."""
    p = write_project(
        tmp_path / "p",
        "title: T\nmodel: openai:3@1\nsize: 1280x720\ndefaults: {duration: 4}\nscenes:\n"
        "  - {id: a, prompt: A lighthouse at dusk.}\n"
        "  - {id: b, prompt: The keeper climbs., model: lightricks:ltx@2.3, duration: 6}\n",
    )
    with pytest.raises(PlanError) as e:
        compile_project(load_project(p))
    [problem] = [q for q in e.value.problems if "accepts sizes" in q.message]
    assert problem.where == "size" and problem.message.startswith("scene 'b': LTX-2.3 accepts")


def test_a_default_size_the_model_refuses_points_at_the_model(tmp_path: Path) -> None:
    """Hostile2 H17: with no `size:` in the file, `size: Kling ... got 1280x720` pointed at
    line 1 (the title). Now it points at the model's line and says the size is the default."""
    p = write_project(
        tmp_path / "p",
        "title: T\nmodel: klingai:kling-video@3-pro\ndefaults: {duration: 5}\nscenes:\n"
        "  - {id: a, prompt: A lighthouse at dusk.}\n",
    )
    with pytest.raises(PlanError) as e:
        compile_project(load_project(p))
    [problem] = [q for q in e.value.problems if "accepts sizes" in q.message]
    assert problem.line == 2, problem
    assert "got 1280x720 (the default size: set `size:` to one it accepts)" in problem.message
