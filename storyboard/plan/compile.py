"""Storyboard -> Plan: one Runware ``videoInference`` task per scene, plus the continuity DAG.

Every rule of the model's profile is enforced here, before anything can be sent. Values the
executor only learns later are placeholders:

* ``${videoId:SCENE}``   the source scene's ``outputs.videoId`` (``extend``)
* ``${lastFrame:SCENE}`` the source clip's last frame (``last_frame``)
* ``${file:PATH}``       a local first-frame image, conformed and uploaded at render time
"""

from __future__ import annotations

import difflib
import uuid
from dataclasses import dataclass, field
from typing import Any

from storyboard.board.models import PROFILES, ModelProfile, get_profile
from storyboard.board.prompts import make_env, render_prompt
from storyboard.board.schema import Scene, parse_size
from storyboard.board.spec import Project
from storyboard.errors import PlanError, Problem, StoryboardError, unique

VIDEO_ID = "${videoId:%s}"
LAST_FRAME = "${lastFrame:%s}"
LOCAL_FILE = "${file:%s}"


@dataclass
class Task:
    """One scene's compiled task and what it waits for."""

    scene: str
    index: int
    mode: str  # cut | extend | last_frame
    source: str | None
    request: dict[str, Any]
    cost: float
    prompt: str
    first_frame: str | None = None  # local path (relative to the project) or URL

    @property
    def depends_on(self) -> list[str]:
        return [self.source] if self.source and self.mode != "cut" else []

    @property
    def duration(self) -> float:
        return float(self.request["duration"])

    @property
    def number_results(self) -> int:
        return int(self.request.get("numberResults", 1))


@dataclass
class Plan:
    """The compiled storyboard: tasks in film order."""

    project: Project
    profile: ModelProfile
    tasks: list[Task] = field(default_factory=list)

    def task(self, scene_id: str) -> Task:
        return next(t for t in self.tasks if t.scene == scene_id)

    @property
    def total_cost(self) -> float:
        return round(sum(t.cost for t in self.tasks), 4)

    @property
    def total_seconds(self) -> float:
        return sum(t.duration * t.number_results for t in self.tasks)

    def require_scenes(self, names: list[str], where: str = "") -> None:
        """Raise :class:`PlanError` naming each unknown scene, with a did-you-mean."""
        ids = [t.scene for t in self.tasks]
        problems = []
        for name in names:
            if name in ids:
                continue
            guess = difflib.get_close_matches(name, ids, n=1)
            hint = f"; did you mean '{guess[0]}'?" if guess else f" (scenes: {', '.join(ids)})"
            problems.append(
                Problem(self.project.display(), None, where, f"no scene {name!r}{hint}")
            )
        if problems:
            raise PlanError(problems)

    def downstream(self, scene_id: str) -> list[str]:
        """Scenes that continue (directly or not) from ``scene_id``, in film order."""
        out: set[str] = set()
        frontier = {scene_id}
        while frontier:
            nxt = {t.scene for t in self.tasks if set(t.depends_on) & frontier} - out
            out |= nxt
            frontier = nxt
        return [t.scene for t in self.tasks if t.scene in out]

    def to_json(self, only: set[str] | None = None) -> dict[str, Any]:
        tasks = [t for t in self.tasks if only is None or t.scene in only]
        return {
            "tasks": [
                {
                    "scene": t.scene,
                    "depends_on": t.depends_on,
                    "cost": round(t.cost, 4),
                    "request": t.request,
                }
                for t in tasks
            ],
            "total_cost": round(sum(t.cost for t in tasks), 4),
        }


def compile_project(project: Project, *, task_uuid: Any = None) -> Plan:
    """Compile every scene; raise :class:`PlanError`/:class:`TemplateError` listing all problems."""
    board = project.board
    problems: list[Problem] = []
    profile = get_profile(board.model)
    if profile is None:
        known = ", ".join(PROFILES)
        guess = difflib.get_close_matches(board.model, list(PROFILES), n=1)
        hint = f"; did you mean '{guess[0]}'?" if guess else ""
        raise PlanError(
            [project.problem(("model",), f"unknown model {board.model!r} (known: {known}){hint}")]
        )
    new_uuid = task_uuid or (lambda: str(uuid.uuid4()))
    problems.extend(_check_graph(project, profile))
    env = make_env(project.root)
    tasks: list[Task] = []
    for i, scene in enumerate(board.scenes):
        try:
            prompt = render_prompt(project, env, i)
        except StoryboardError as e:  # TemplateError
            problems.extend(getattr(e, "problems", []))
            continue
        task, scene_problems = _compile_scene(project, profile, i, scene, prompt, new_uuid())
        problems.extend(scene_problems)
        if task is not None:
            tasks.append(task)
    if problems:
        raise PlanError(unique(problems))
    return Plan(project, profile, tasks)


def source_of(project: Project, index: int) -> str | None:
    """The scene a scene continues from (explicit ``from`` or the previous scene)."""
    scene = project.board.scenes[index]
    cont = scene.continuity
    if cont is None or cont.mode == "cut":
        return None
    if cont.from_ is not None:
        return cont.from_
    return project.board.scenes[index - 1].id if index > 0 else None


def _check_graph(project: Project, profile: ModelProfile) -> list[Problem]:
    scenes = project.board.scenes
    order = {s.id: i for i, s in enumerate(scenes)}
    problems: list[Problem] = []
    edges: dict[str, str] = {}
    for i, s in enumerate(scenes):
        cont = s.continuity
        if cont is None or cont.mode == "cut":
            continue
        line = project.scene_line(i, "continuity")
        path = ("scenes", i, "continuity")
        if cont.mode not in profile.continuity:
            problems.append(
                project.problem(
                    path,
                    f"{profile.name} ({profile.air}) does not "
                    f"support continuity '{cont.mode}' (supported: "
                    f"{', '.join(sorted(profile.continuity))})",
                    line,
                )
            )
        src = source_of(project, i)
        if src is None:
            problems.append(
                project.problem(
                    path,
                    f"scene {s.id!r} is the first scene: "
                    f"'{cont.mode}' needs a source (add from: SCENE_ID or use cut)",
                    line,
                )
            )
            continue
        if src not in order:
            guess = difflib.get_close_matches(src, list(order), n=1)
            hint = f"; did you mean '{guess[0]}'?" if guess else ""
            problems.append(
                project.problem(path, f"continues from unknown scene {src!r}{hint}", line)
            )
            continue
        edges[s.id] = src
    # cycles first (they print their path), then plain forward references
    reported: set[str] = set()
    for start in edges:
        walk = [start]
        node = start
        while node in edges:
            node = edges[node]
            if node in walk:
                cycle = walk[walk.index(node) :] + [node]
                key = min(cycle)
                if key not in reported:
                    reported.add(key)
                    i = order[cycle[0]]
                    problems.append(
                        project.problem(
                            ("scenes", i, "continuity"),
                            "continuity cycle: " + " -> ".join(cycle),
                            project.scene_line(i, "continuity"),
                        )
                    )
                break
            walk.append(node)
    in_cycle = {n for n in edges if _reaches(edges, n, n)}
    for sid, src in edges.items():
        if sid in in_cycle:
            continue
        i = order[sid]
        if order[src] >= i:
            problems.append(
                project.problem(
                    ("scenes", i, "continuity"),
                    f"scene {sid!r} continues from {src!r}, which comes later in the "
                    f"film; a scene can only continue from an earlier one",
                    project.scene_line(i, "continuity"),
                )
            )
    return problems


def _reaches(edges: dict[str, str], start: str, target: str) -> bool:
    seen: set[str] = set()
    node = edges.get(start)
    while node is not None and node not in seen:
        if node == target:
            return True
        seen.add(node)
        node = edges.get(node)
    return False


def _compile_scene(
    project: Project, profile: ModelProfile, i: int, scene: Scene, prompt: str, task_uuid: str
) -> tuple[Task | None, list[Problem]]:
    board = project.board
    problems: list[Problem] = []

    def bad(field: str, message: str) -> None:
        problems.append(
            project.problem(
                ("scenes", i, field), f"scene {scene.id!r}: {message}", project.scene_line(i, field)
            )
        )

    size = scene.size or board.size
    width, height = parse_size(size)
    if (width, height) not in profile.sizes:
        if scene.size is not None:
            bad("size", f"{profile.name} accepts sizes {profile.sizes_text()}, got {size}")
        else:
            problems.append(
                project.problem(
                    ("size",), f"{profile.name} accepts sizes {profile.sizes_text()}, got {size}"
                )
            )
    duration = scene.duration
    if duration is None:
        bad(
            "duration",
            f"no duration: set one of {profile.durations_text()} seconds "
            "(on the scene or in defaults)",
        )
    elif duration not in profile.durations:
        bad(
            "duration",
            f"{profile.name} accepts durations {profile.durations_text()} "
            f"seconds, got {duration:g}",
        )
    lo, hi = profile.prompt_chars
    if not lo <= len(prompt) <= hi:
        field = "template" if scene.template is not None else "prompt"
        bad(
            field,
            f"the rendered prompt has {len(prompt)} character"
            f"{'' if len(prompt) == 1 else 's'}; {profile.name} needs {lo} to {hi}",
        )
    n = scene.number_results if scene.number_results is not None else 1
    rlo, rhi = profile.number_results
    if not rlo <= n <= rhi:
        bad("number_results", f"number_results must be {rlo} to {rhi}, got {n}")
    quality = board.output.quality
    qlo, qhi = profile.quality
    if not qlo <= quality <= qhi:
        problems.append(
            project.problem(("output", "quality"), f"{profile.name} needs quality {qlo} to {qhi}")
        )
    cont = scene.continuity
    mode = cont.mode if cont is not None else "cut"
    source = source_of(project, i) if mode != "cut" else None
    if mode == "extend":
        if scene.first_frame is not None:
            bad(
                "first_frame",
                "an 'extend' scene continues the source's video: it cannot "
                "also have a first_frame (remove first_frame or use continuity: last_frame)",
            )
        if scene.size is not None:
            bad("size", "an 'extend' scene keeps its source's size: remove size")
    if mode == "last_frame" and scene.first_frame is not None:
        bad(
            "first_frame",
            "a 'last_frame' scene already starts from its source's last frame: "
            "remove first_frame or use continuity: cut",
        )
    if scene.first_frame is not None and not profile.first_frame:
        bad("first_frame", f"{profile.name} does not accept first-frame images")

    request: dict[str, Any] = {
        "taskType": "videoInference",
        "taskUUID": task_uuid,
        "model": profile.air,
        "positivePrompt": prompt,
    }
    inputs: dict[str, Any] = {}
    if mode == "extend" and source is not None:
        inputs["videoId"] = VIDEO_ID % source
    else:
        request["width"] = width
        request["height"] = height
    if duration is not None:
        request["duration"] = int(duration) if float(duration).is_integer() else duration
    if mode == "last_frame" and source is not None:
        inputs["frameImages"] = [{"image": LAST_FRAME % source, "frame": "first"}]
    elif scene.first_frame is not None and mode != "extend":
        ff = scene.first_frame
        image = ff if ff.startswith("https://") else LOCAL_FILE % ff
        inputs["frameImages"] = [{"image": image, "frame": "first"}]
    if inputs:
        request["inputs"] = inputs
    request.update(
        {
            "outputType": "URL",
            "outputFormat": "MP4",
            "outputQuality": quality,
            "numberResults": n,
            "includeCost": True,
            "deliveryMethod": "async",
        }
    )
    _check_request(request, profile, bad)
    if problems:
        return None, problems
    price = profile.price(width, height)
    cost = round(float(request["duration"]) * price * n, 4)
    return Task(scene.id, i, mode, source, request, cost, prompt, scene.first_frame), []


def _check_request(request: dict[str, Any], profile: ModelProfile, bad: Any) -> None:
    """Last line of defence: the exact wire rules, whatever produced the request."""
    inputs = request.get("inputs", {})
    has_w, has_h = "width" in request, "height" in request
    if has_w != has_h:
        bad("size", "width and height must be sent together")
    if "videoId" in inputs and (has_w or "frameImages" in inputs):
        bad("continuity", "with inputs.videoId neither width/height nor frameImages may be sent")
    frames = inputs.get("frameImages", [])
    if len(frames) > 1:
        bad("first_frame", f"{profile.name} takes only the first frame")
    for f in frames:
        if isinstance(f, dict) and f.get("frame") not in ("first", 0, None):
            bad("first_frame", f"{profile.name} supports only the first frame")
    if request.get("outputFormat") not in profile.formats:
        bad("output", f"outputFormat must be one of {', '.join(profile.formats)}")
    ttl = request.get("ttl")
    if ttl is not None and ttl < profile.ttl_min:
        bad("ttl", f"ttl must be at least {profile.ttl_min}")
