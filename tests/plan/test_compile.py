from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from helpers import REPO, png_bytes, write_project

from storyboard.board.models import PROFILES, SORA_2
from storyboard.board.spec import load_project
from storyboard.cli.main import main
from storyboard.plan.compile import compile_project

EXAMPLES = json.loads(
    (Path(__file__).parents[1] / "golden" / "sora2-model-page-examples.json").read_text()
)
ALLOWED_EXTRA = {"includeCost", "deliveryMethod"}


def _storyboard_for(example: dict) -> str:
    """Restate one model-page request as a storyboard a filmmaker would write."""
    scene: dict = {
        "id": "shot",
        "prompt": example["positivePrompt"],
        "duration": example["duration"],
    }
    frames = example.get("inputs", {}).get("frameImages")
    if frames:
        scene["first_frame"] = frames[0]["image"]
    return yaml.safe_dump(
        {
            "title": "example",
            "model": example["model"],
            "size": f"{example['width']}x{example['height']}",
            "scenes": [scene],
        },
        sort_keys=False,
        allow_unicode=True,
        width=10**6,
    )


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["taskUUID"][:8] for e in EXAMPLES])
def test_model_page_examples_round_trip(example: dict, tmp_path: Path) -> None:
    write_project(tmp_path / "p", _storyboard_for(example))
    plan = compile_project(load_project(tmp_path / "p"))
    (task,) = plan.tasks
    got = task.request
    for key, value in example.items():
        if key == "taskUUID":
            continue
        assert got[key] == value, key
    # fields the page's examples leave out are sent at the page's documented defaults
    defaults = {"outputType": "URL", "outputFormat": "MP4", "outputQuality": 95, "numberResults": 1}
    for key in set(got) - set(example) - {"taskUUID"}:
        assert key in ALLOWED_EXTRA or defaults.get(key) == got[key], key
    assert got["includeCost"] is True
    assert task.cost == pytest.approx(0.8)


def test_task_uuids_are_fresh_per_task(tmp_path: Path) -> None:
    write_project(
        tmp_path / "p",
        """
        title: T
        scenes:
          - {id: a, prompt: x y, duration: 4}
          - {id: b, prompt: x y, duration: 4}
    """,
    )
    project = load_project(tmp_path / "p")
    a = [t.request["taskUUID"] for t in compile_project(project).tasks]
    b = [t.request["taskUUID"] for t in compile_project(project).tasks]
    assert len(set(a + b)) == 4


def test_continuity_placeholders_and_dag(tmp_path: Path) -> None:
    write_project(
        tmp_path / "p",
        """
        title: T
        scenes:
          - {id: a, prompt: x y, duration: 4}
          - {id: b, prompt: x y, duration: 8, continuity: extend}
          - {id: c, prompt: x y, duration: 4, continuity: last_frame}
          - {id: d, prompt: x y, duration: 4, first_frame: "https://h/x.png"}
          - {id: e, prompt: x y, duration: 4, first_frame: f.png, continuity: {mode: cut}}
    """,
        {"f.png": png_bytes()},
    )
    plan = compile_project(load_project(tmp_path / "p"))
    t = {x.scene: x for x in plan.tasks}
    assert t["b"].request["inputs"] == {"videoId": "${videoId:a}"}
    assert "width" not in t["b"].request and "height" not in t["b"].request
    assert t["c"].request["inputs"]["frameImages"] == [
        {"image": "${lastFrame:b}", "frame": "first"}
    ]
    assert t["c"].request["width"] == 1280
    assert t["d"].request["inputs"]["frameImages"][0]["image"] == "https://h/x.png"
    assert t["e"].request["inputs"]["frameImages"][0]["image"] == "${file:f.png}"
    assert [x.depends_on for x in plan.tasks] == [[], ["a"], ["b"], [], []]
    assert plan.downstream("a") == ["b", "c"]
    assert plan.total_cost == pytest.approx(2.4)


def test_every_profile_is_consistent() -> None:
    assert set(PROFILES) >= {"openai:3@1", "openai:3@2"}
    assert len(PROFILES) >= 4
    for p in PROFILES.values():
        if p.price_rule is not None and p.tiers:  # a price names every size tier listed
            assert set(p.price_rule["per_second"]) == set(p.tiers), p.air
        assert "cut" in p.continuity
    assert SORA_2.price(1280, 720) == 0.10


def test_other_model_rules_come_from_its_profile(tmp_path: Path) -> None:
    write_project(
        tmp_path / "p",
        """
        title: T
        model: openai:3@2
        size: 1920x1080
        scenes:
          - {id: a, prompt: x y, duration: 4}
    """,
    )
    plan = compile_project(load_project(tmp_path / "p"))
    assert plan.tasks[0].cost == pytest.approx(2.0)  # $0.50/s at 1080p (Sora 2 Pro's page)


def _example(tmp_path: Path) -> Path:
    """A fresh copy of the example (its build/ folder, if any, left behind)."""
    import shutil

    dest = tmp_path / "lighthouse"
    shutil.copytree(
        REPO / "projects" / "lighthouse",
        dest,
        ignore=shutil.ignore_patterns("build", "storyboard.lock"),
    )
    return dest


def test_plan_on_example_project_prints_cost(tmp_path: Path, capsys) -> None:
    assert main(["plan", str(_example(tmp_path))]) == 0
    out = capsys.readouterr().out
    # $3.60 of clips, $0.15 of music, $0.0006 of lines, the effect $0.03 at the example's price
    assert "36 s to generate, $3.78" in out
    assert "extend <- lamp-room" in out and "last_frame <- stairs" in out


def test_plan_json_shape(tmp_path: Path, capsys) -> None:
    assert main(["plan", str(_example(tmp_path)), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    effect = 0.02 * 1.5  # the example's own price: for mirelo, no source gives one
    assert data["total_cost"] == pytest.approx(3.6 + 0.15 + 0.0042 * 148 / 1000 + effect, abs=1e-4)
    scenes = [t["scene"] for t in data["tasks"] if t["kind"] == "video"]
    assert scenes == ["dusk", "stairs", "lamp-room", "last-turn", "dawn"]
    lt = next(t for t in data["tasks"] if t["scene"] == "last-turn")
    assert lt["depends_on"] == ["lamp-room"] and lt["cost"] == pytest.approx(0.8)
    assert lt["request"]["taskType"] == "videoInference"


def test_templates_support_inheritance_includes_and_macros(tmp_path: Path) -> None:
    write_project(
        tmp_path / "p",
        """
        title: T
        vars: {hero: "Ada, a harbour pilot"}
        scenes:
          - {id: a, template: child.j2, duration: 4, subject: a kite over the harbour}
        """,
        {
            "templates/base.j2": (
                "{% block shot %}{% endblock %} {% block look %}plain{% endblock %}"
            ),
            "templates/child.j2": (
                '{% extends "base.j2" %}{% import "styles.j2" as styles %}'
                "{% block shot %}{% include 'part.j2' %} {{ subject | sentence }}{% endblock %}"
                '{% block look %}{{ styles.block("noir") }} {{ styles.camera("slow push") }}'
                "{% endblock %}"
            ),
            "templates/part.j2": "{{ hero }} watches.",
        },
    )
    (task,) = compile_project(load_project(tmp_path / "p")).tasks
    prompt = task.request["positivePrompt"]
    assert prompt.startswith("Ada, a harbour pilot watches. A kite over the harbour.")
    assert "Black-and-white film noir" in prompt and "slow push, on a 35mm lens" in prompt


def test_extending_a_scene_trimmed_at_its_end_is_a_warning_at_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Hostile finding F16: the extension continues the source's whole clip, so a source
    trimmed at its end makes the cut jump over what the trim leaves out; validate says so."""
    p = write_project(
        tmp_path / "p",
        """
title: Trim
model: openai:3@1
defaults: {duration: 4}
scenes:
  - {id: a, prompt: "Scene A: a kite in the wind.", trim: {out: 2.5}}
  - id: b
    prompt: "Scene B: the kite lands."
    continuity: extend
""",
    )
    assert main(["validate", str(p)]) == 0
    err = capsys.readouterr().err
    assert (
        "storyboard.yaml:8: warning: scene 'b' extends 'a', whose trim.out (2.5 s) drops the end "
        "that the extension continues from: the cut jumps there; trim 'a' at its start only, or "
        "use `continuity: last_frame` (it starts from the last frame the cut shows)"
    ) in err
    capsys.readouterr()
    untrimmed = (p / "storyboard.yaml").read_text().replace(", trim: {out: 2.5}", "")
    (p / "storyboard.yaml").write_text(untrimmed)
    assert main(["validate", str(p)]) == 0
    assert "jumps" not in capsys.readouterr().err
