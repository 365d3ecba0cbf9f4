"""Each live model: a storyboard compiles, and its request bodies are pinned to the reference.

Expected values restate shared/reference/runware-video-models.md by hand (not the catalogue),
so a wrong fact in the catalogue fails here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import png_bytes, write_project

from storyboard.board.models import PROFILES
from storyboard.board.spec import load_project
from storyboard.cli.main import main
from storyboard.errors import PlanError
from storyboard.plan.compile import compile_project

TAIL = {
    "outputType": "URL",
    "outputFormat": "MP4",
    "outputQuality": 95,
    "numberResults": 1,
    "includeCost": True,
    "deliveryMethod": "async",
}

AT_720P = {"resolution": "720p"}
EXTEND_7 = {"duration": 7, "inputs": {"video": "${video:a}"}}  # extends scene a's clip by 7 s


def _frames(*images: tuple[str, str]) -> dict[str, Any]:
    """``inputs`` carrying frame images, as ``(image, "first" | "last")`` pairs."""
    return {"frameImages": [{"image": image, "frame": frame} for image, frame in images]}


def case(
    model: str,
    size: str,
    duration: int,
    cost: float,
    *,
    frame_size: dict[str, Any],
    extend: dict[str, Any] | None = None,
    end_frame: bool = False,
) -> tuple[str, str, int, dict[str, Any], float]:
    """One pinned model: what each scene sends beyond taskType/taskUUID/model/prompt/TAIL.

    The cut scene ``a`` sends the storyboard's size; a scene that starts on an image sends
    ``frame_size`` instead (the reference's rule per model: a resolution, width/height, or
    nothing) with the duration; ``extend`` is the extend scene's body (None: the model cannot);
    ``end_frame``: the model takes a first and a last frame image."""
    width, height = (int(x) for x in size.split("x"))
    with_frames = {**frame_size, "duration": duration}
    scenes = {
        "cut": {"width": width, "height": height, "duration": duration},
        "last_frame": {**with_frames, "inputs": _frames(("${lastFrame:a}", "first"))},
    }
    if extend is not None:
        scenes["extend"] = extend
    if end_frame:
        first_last = _frames(("${file:first.png}", "first"), ("${file:last.png}", "last"))
        scenes["end_frame"] = {**with_frames, "inputs": first_last}
    return model, size, duration, scenes, cost


# reference facts, one model per row: model, size, duration, cost of the cut scene, and what
# its continuity scenes send
CASES = [
    # Veo 3.1 Fast: 1280x720 is one of its six sizes; durations {4, 6, 7, 8} [SDK]; $0.15/s with
    # audio (1080p figure; 720p not priced on the page); extends by inputs.video with 7 s
    case("google:3@3", "1280x720", 4, 0.60, frame_size=AT_720P, extend=EXTEND_7, end_frame=True),
    # Seedance 2.5: 1280x720 (720p), 4-30 s; inputs.video + settings.operation "extend"; with
    # frame images no width/height (resolution instead); ~$1.17 for 5 s 720p
    case(
        "bytedance:seedance@2.5",
        *("1280x720", 5, 1.17),
        frame_size=AT_720P,
        extend={**EXTEND_7, "duration": 5, "settings": {"operation": "extend"}},
        end_frame=True,
    ),
    # Kling 3.0 Pro: 1920x1080, exactly one of frameImages or width/height, $0.168/s with audio
    case("klingai:kling-video@3-pro", "1920x1080", 5, 0.84, frame_size={}),
    # Wan2.6: 5/10/15 s, $0.10/s at 720p; frameImages, or width/height, or resolution
    case("alibaba:wan@2.6", "1280x720", 5, 0.50, frame_size=AT_720P),
    # FLUX 3 Video: 5-20 s, 1280x704 is a 720p size; inputs.video for extension; ~$1.20 / 7 s
    case("bfl:flux@3-video", "1280x704", 7, 1.20, frame_size=AT_720P, extend=EXTEND_7),
    # LTX-2.3: 1920x1080, {6, 8, 10}, $0.08/s at 1080p; width/height required [SDK]
    case("lightricks:ltx@2.3", "1920x1080", 6, 0.48, frame_size={"width": 1920, "height": 1080}),
    # Kling O1 Pro / Standard (runware-beyond-video.md 3.2): exactly one of frameImages,
    # referenceImages or width/height; frameImages => duration 5 or 10; the plan prices the
    # higher R2V rate ($0.168/s Pro, $0.126/s Standard) as no size table is stored
    case("klingai:kling@o1", "1920x1080", 5, 0.84, frame_size={}),
    case("klingai:kling@o1-standard", "1280x720", 5, 0.63, frame_size={}),
]


def storyboard(
    *scenes: str,
    model: str | None = None,
    size: str | None = None,
    duration: int = 4,
    a: str = "",
) -> str:
    """The storyboard of these tests: title T, ``model`` and ``size`` when given, scene ``a``
    (a lighthouse at dusk, with the fields ``a`` adds), then ``scenes`` (one flow-style YAML
    mapping each). Line 1 is the title; scene ``a`` is on line 4, plus one for each of
    ``model`` and ``size``."""
    head = [f"model: {model}"] if model else []
    head += [f"size: {size}"] if size else []
    lines = ["title: T", *head, f"defaults: {{duration: {duration}}}", "scenes:"]
    first = "{id: a, prompt: A lighthouse at dusk." + (f", {a}" if a else "") + "}"
    lines += [f"  - {x}" for x in (first, *scenes)]
    return "\n".join(lines) + "\n"


def _continuing(model: str, mode: str) -> str:
    """The scene that continues ``a`` (or starts and ends on images) in ``mode``."""
    if mode == "end_frame":
        return (
            "{id: end_frame, prompt: The lamp turns., first_frame: first.png, end_frame: last.png}"
        )
    extra = "duration: 7, " if mode == "extend" and model == "google:3@3" else ""
    return f"{{id: {mode}, prompt: The lamp turns., {extra}continuity: {{mode: {mode}, from: a}}}}"


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_request_bodies_follow_the_reference(case: Any, tmp_path: Path) -> None:
    model, size, duration, scenes, cost = case
    files = {"first.png": png_bytes(), "last.png": png_bytes()}
    modes = [_continuing(model, mode) for mode in scenes if mode != "cut"]
    board = storyboard(*modes, model=model, size=size, duration=duration)
    write_project(tmp_path / "p", board, files)
    plan = compile_project(load_project(tmp_path / "p"))
    got = {("cut" if t.scene == "a" else t.scene): t for t in plan.tasks}
    assert set(got) == set(scenes)
    for mode, body in scenes.items():
        req = dict(got[mode].request)
        req.pop("taskUUID")
        prompt = "A lighthouse at dusk." if mode == "cut" else "The lamp turns."
        expected = {"taskType": "videoInference", "model": model, "positivePrompt": prompt}
        assert req == {**expected, **body, **TAIL}, mode
    assert got["cut"].cost == pytest.approx(cost, abs=0.01)


def test_every_live_model_with_page_facts_has_a_pinned_case() -> None:
    # models known only from the SDK's registry are covered by tests/plan/test_conformance.py
    pinned = {c[0] for c in CASES} | {"alibaba:wan@2.6-flash"}  # Flash: its own test below
    assert {p.air for p in PROFILES.values() if p.live and p.overlay} == pinned


def test_wan_flash_makes_video_from_an_image_only(tmp_path: Path) -> None:
    def flash(*scenes: str) -> str:  # scene a starts on an image
        return storyboard(
            *scenes,
            model="alibaba:wan@2.6-flash",
            size="1280x720",
            duration=5,
            a="first_frame: first.png",
        )

    b = "{id: b, prompt: The lamp turns., continuity: last_frame}"
    write_project(tmp_path / "p", flash(b, "{id: c, prompt: Waves.}"), {"first.png": png_bytes()})
    with pytest.raises(PlanError) as e:
        compile_project(load_project(tmp_path / "p"))
    assert str(e.value).endswith(
        "storyboard.yaml:8: scenes[2].first_frame: scene 'c': Wan2.6 Flash makes video from an "
        "image only: give the scene a first_frame or continuity: last_frame"
    )
    write_project(tmp_path / "p", flash(b))
    plan = compile_project(load_project(tmp_path / "p"))
    a = plan.tasks[0].request
    assert a["resolution"] == "720p" and "width" not in a
    assert a["inputs"] == {"frameImages": [{"image": "${file:first.png}", "frame": "first"}]}
    assert plan.tasks[0].cost == pytest.approx(0.25)  # $0.05/s at 720p with audio


def test_a_scene_asking_what_the_model_cannot_do_names_the_models_that_can(
    tmp_path: Path,
) -> None:
    write_project(
        tmp_path / "p",
        storyboard(
            "{id: b, prompt: The lamp turns., continuity: extend}",
            "{id: c, prompt: Waves., first_frame: f.png, end_frame: f.png}",
            model="lightricks:ltx@2.3",
            size="1920x1080",
            duration=6,
        ),
        {"f.png": png_bytes()},
    )
    with pytest.raises(PlanError) as e:
        compile_project(load_project(tmp_path / "p"))
    lines = str(e.value).splitlines()
    assert lines[0].endswith(
        "storyboard.yaml:7: scenes[1].continuity: LTX-2.3 (lightricks:ltx@2.3) does not support "
        "continuity 'extend' (continuing a prior clip); live models that do: Google Veo 3.1 "
        "Fast (google:3@3), FLUX 3 Video (bfl:flux@3-video), ByteDance Seedance 2.5 "
        "(bytedance:seedance@2.5)"
    )
    assert lines[1].endswith(
        "storyboard.yaml:8: scenes[2].end_frame: scene 'c': LTX-2.3 (lightricks:ltx@2.3) does "
        "not support end_frame (a last-frame image); live models that do: Google Veo 3.1 Fast "
        "(google:3@3), FLUX 3 Video (bfl:flux@3-video), ByteDance Seedance 2.5 "
        "(bytedance:seedance@2.5)"
    )


@pytest.mark.parametrize(
    ("scene", "message"),
    [
        (
            "{id: b, prompt: x y, duration: 8, continuity: extend}",
            "scene 'b': Google Veo 3.1 Fast extends a clip by exactly 7 seconds: set duration: 7 "
            "(got 8)",
        ),
        (
            "{id: b, prompt: x y, end_frame: f.png}",
            "scene 'b': an end_frame needs a first frame too: add first_frame, or use "
            "continuity: last_frame",
        ),
        (
            "{id: b, prompt: x y, continuity: extend, duration: 7, end_frame: f.png}",
            "scene 'b': an 'extend' scene continues a video; frame images cannot be sent with it "
            "(remove end_frame or use continuity: last_frame)",
        ),
    ],
    ids=["veo-extends-by-7", "end-without-first", "extend-with-end"],
)
def test_continuity_rules_per_model(scene: str, message: str, tmp_path: Path) -> None:
    write_project(tmp_path / "p", storyboard(scene, model="google:3@3"), {"f.png": png_bytes()})
    with pytest.raises(PlanError) as e:
        compile_project(load_project(tmp_path / "p"))
    assert str(e.value).endswith(message)


def test_a_deprecated_model_is_warned_once(tmp_path: Path, capsys: Any) -> None:
    write_project(
        tmp_path / "p",
        storyboard(
            "{id: b, prompt: The lamp turns., continuity: extend}",
            "{id: c, prompt: The lamp turns., continuity: last_frame}",
        ),
    )
    warning = (
        "warning: model openai:3@1 (OpenAI Sora 2) is deprecated: deactivated on 2026-09-24; "
        "a render with RUNWARE_API_KEY set refuses it. Live models with extend, last_frame: "
        "google:3@3 (Google Veo 3.1 Fast), bfl:flux@3-video (FLUX 3 Video), "
        "bytedance:seedance@2.5 (ByteDance Seedance 2.5) (set `model:`; see `storyboard models`)"
    )
    for command in ("validate", "plan"):
        assert main([command, str(tmp_path / "p")]) == 0
        err = capsys.readouterr().err
        assert err.count("warning:") == 1 and warning in err, command


def test_with_a_real_key_render_refuses_a_deactivated_model_before_spending(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_project(tmp_path / "p", storyboard())  # no model: the default, deactivated one
    monkeypatch.setenv("RUNWARE_API_KEY", "a-real-key")
    # unreachable on purpose: a request would fail differently
    monkeypatch.setenv("RUNWARE_BASE_URL", "https://runware.invalid/v1")
    assert main(["render", str(tmp_path / "p"), "-q"]) == 1
    err = capsys.readouterr().err
    assert (
        "storyboard.yaml:1: model: refusing to render: model openai:3@1 (OpenAI Sora 2) is "
        "deprecated: deactivated on 2026-09-24; nothing was spent. Live models: "
        "alibaba:wan@2.6-flash (Wan2.6 Flash), lightricks:ltx@2.3 (LTX-2.3), "
    ) in err
    journal = tmp_path / "p" / "build" / "journal.sqlite"
    if journal.exists():
        import sqlite3

        with sqlite3.connect(journal) as db:
            assert db.execute("SELECT COUNT(*) FROM tasks").fetchone() == (0,)


def test_init_starts_on_a_live_model_with_both_continuity_modes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "film"]) == 0
    plan = compile_project(load_project(tmp_path / "film"))
    assert plan.profile.live and {"extend", "last_frame"} <= plan.profile.continuity
    assert main(["validate", "film"]) == 0
    assert "warning" not in capsys.readouterr().err
