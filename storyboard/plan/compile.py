"""Storyboard -> Plan: one Runware ``videoInference`` task per scene, plus the continuity DAG.

Every rule of the model's profile is enforced here, before anything can be sent. Values the
executor only learns later are placeholders:

* ``${videoId:SCENE}``   the source scene's ``outputs.videoId`` (``extend`` on Sora)
* ``${video:SCENE}``     the source take's ``videoUUID`` (``extend`` on ``inputs.video`` models)
* ``${lastFrame:SCENE}`` the source clip's last frame (``last_frame``)
* ``${file:PATH}``       a local first- or end-frame image, conformed and uploaded at render time

How each continuity mode is sent depends on the model (``storyboard models``): Sora extends by
``inputs.videoId``; Seedance 2.5, Veo 3.1 Fast and FLUX 3 Video by ``inputs.video`` (plus the
model's ``settings``); ``end_frame`` adds a ``frame: "last"`` image where the model takes one.
"""

from __future__ import annotations

import datetime as dt
import difflib
import uuid
from dataclasses import dataclass, field
from typing import Any

from storyboard.board.models import PROFILES, ModelProfile, alternatives, get_profile
from storyboard.board.prompts import make_env, render_prompt
from storyboard.board.schema import Scene
from storyboard.board.spec import Project
from storyboard.board.voices import sound_warnings
from storyboard.errors import PlanError, Problem, StoryboardError, unique

from .audio import sound_tasks
from .images import add_cast_inputs, cast_warnings, compile_images, with_board_frame
from .request import LAST_FRAME, LOCAL_FILE, VIDEO, VIDEO_ID, build_request
from .scenefields import price_warnings, source_of, trim_warnings

__all__ = ["LAST_FRAME", "LOCAL_FILE", "VIDEO", "VIDEO_ID", "Plan", "Task", "compile_project"]


@dataclass
class Task:
    """One node of the plan's graph: a compiled Runware task and the nodes it waits for.

    ``scene`` is the node's *name*, what ``takes``, ``pick`` and ``--retake`` take and what the
    journal, takes and lock are keyed by: a clip's is its scene id (``clip:ID`` means the
    same), a cast sheet's ``cast:NAME``, a board's ``board:SCENE``. ``kind`` (image, audio,
    video) only matters to the per-kind adapter (``generate/kinds.py``).
    """

    scene: str
    index: int
    mode: str  # cut | extend | last_frame (continuity of a clip; "cut" for other nodes)
    source: str | None
    request: dict[str, Any]
    cost: float
    prompt: str
    first_frame: str | None = None  # local path (relative to the project) or URL
    end_frame: str | None = None  # local path or URL of the image the scene ends on
    kind: str = "video"
    waits: list[str] = field(default_factory=list)  # nodes whose takes it sends (not continuity)
    files: list[str] = field(default_factory=list)  # project files it sends (hashed in its key)
    price_known: bool = True  # False: neither the catalogue nor the storyboard gives a price
    planned_seconds: float = 0.0  # the scene's duration (sent or not)

    @property
    def name(self) -> str:
        return self.scene

    @property
    def task_type(self) -> str:
        return str(self.request["taskType"])

    @property
    def continues(self) -> str | None:
        """The scene whose clip this one continues (extend, last_frame), if any."""
        return self.source if self.source and self.mode != "cut" else None

    @property
    def model(self) -> str:
        return str(self.request["model"])

    @property
    def depends_on(self) -> list[str]:
        """Every node this one waits for: its continuity source, then its inputs."""
        deps = [self.continues] if self.continues else []
        return deps + [w for w in self.waits if w not in deps]

    @property
    def duration(self) -> float:
        return float(self.request.get("duration", self.planned_seconds))

    @property
    def number_results(self) -> int:
        return int(self.request.get("numberResults", 1))


@dataclass
class Plan:
    """The compiled storyboard: tasks in film order."""

    project: Project
    profile: ModelProfile  # the storyboard's own model
    tasks: list[Task] = field(default_factory=list)  # the clips, in film order
    profiles: dict[str, ModelProfile] = field(default_factory=dict)  # scene -> its model
    images: list[Task] = field(default_factory=list)  # cast sheets, then boards (issue 17)
    warnings: list[str] = field(default_factory=list)  # e.g. a cast its model cannot hold
    sounds: list[Task] = field(default_factory=list)  # lines, music, effects, lip sync (18)

    def profile_of(self, scene_id: str) -> ModelProfile:
        return self.profiles.get(scene_id, self.profile)

    def _gone(self) -> ModelProfile:
        """The model to warn about: the storyboard's, or the first scene model not live."""
        used = [self.profile_of(t.scene) for t in self.tasks]
        return next((p for p in used if not p.live), self.profile if not used else used[0])

    @property
    def unpriced(self) -> list[str]:
        """Nodes (scenes, sounds) whose price no source gives and the storyboard does not set."""
        return [t.scene for t in self.nodes if not t.price_known]

    def task(self, scene_id: str) -> Task:
        return next(t for t in self.tasks if t.scene == scene_id)

    @property
    def nodes(self) -> list[Task]:
        """Every node of the graph, each after the nodes it waits for."""
        after = [t for t in self.sounds if t.waits]  # lip sync: over a clip and its lines
        return self.images + [t for t in self.sounds if not t.waits] + self.tasks + after

    def node(self, name: str) -> Task:
        name = node_name(name)
        return next(t for t in self.nodes if t.scene == name)

    def wanted(self, boards: bool = False) -> set[str]:
        """The nodes a render makes: the clips and what they wait for; with ``boards``, every
        board and the sheets they use, and no clip."""
        roots = [t for t in self.images if t.kind == "image" and t.scene.startswith("board:")]
        want: set[str] = set()
        frontier = [t.scene for t in (roots if boards else self.tasks + self.sounds)]
        by_name = {t.scene: t for t in self.nodes}
        while frontier:
            name = frontier.pop()
            if name in want:
                continue
            want.add(name)
            frontier.extend(by_name[name].depends_on)
        return want

    @property
    def total_cost(self) -> float:
        """Every node a plain render makes: the clips, the sounds, and the sheets and boards
        the clips wait for (boards no clip uses are made only by ``render --boards``)."""
        wanted = self.wanted()
        return round(sum(t.cost for t in self.nodes if t.scene in wanted), 4)

    def counts(self) -> dict[str, int]:
        """How many tasks of each kind (video, image, audio) a plain render makes."""
        wanted = self.wanted()
        out: dict[str, int] = {}
        for t in self.nodes:
            if t.scene in wanted:
                out[t.kind] = out.get(t.kind, 0) + 1
        return out

    @property
    def total_seconds(self) -> float:
        return sum(t.duration * t.number_results for t in self.tasks)

    def modes(self) -> set[str]:
        """The continuity features in use: ``extend``, ``last_frame``, ``end_frame``."""
        used = {t.mode for t in self.tasks if t.mode != "cut"}
        if any(t.end_frame for t in self.tasks):
            used.add("end_frame")
        return used

    def _status_text(self) -> tuple[str, str]:
        p = self._gone()
        when = f"deactivated on {p.deactivated}" if p.deactivated else p.status_note
        modes = self.modes()
        alts = [f"{a.air} ({a.name})" for a in alternatives(p, modes)]
        need = f" with {', '.join(sorted(modes))}" if modes else ""
        return (
            f"model {p.air} ({p.name}) is deprecated: {when}",
            f"Live models{need}: {', '.join(alts) or 'none'} (set `model:`; see "
            "`storyboard models`)",
        )

    def deprecation(self) -> str | None:
        """The plan's warnings, one per line: the model not live (naming live alternatives),
        then the sound's (voices the catalogue does not list; issue 18)."""
        found = [*self._deprecated(), *sound_warnings(self.project)]
        return "\n".join(found) if found else None

    def _deprecated(self) -> list[str]:
        if self._gone().live:
            return []
        what, alts = self._status_text()
        return [
            f"{self.project.display()}: warning: {what}; a render with RUNWARE_API_KEY set "
            f"refuses it. {alts}"
        ]

    def require_available(self, today: dt.date | None = None) -> None:
        """Refuse, before anything is spent, a model the real service has deactivated."""
        if self._gone().deactivated_by(today):
            what, alts = self._status_text()
            message = f"refusing to render: {what}; nothing was spent. {alts}"
            raise PlanError([self.project.problem(("model",), message)])

    def require_scenes(self, names: list[str], where: str = "") -> None:
        """Raise :class:`PlanError` naming each unknown scene (or node), with a did-you-mean."""
        ids = [t.scene for t in self.nodes]
        problems = []
        for name in names:
            if node_name(name) in ids:
                continue
            member = self.project.board.cast.get(name.removeprefix("cast:"))
            if name.startswith("cast:") and member is not None and member.images:
                given = ", ".join(member.images)
                why = f"{name[5:]} has no generated sheet: its own images ({given}) are sent"
                why += " as they are"
                problems.append(Problem(self.project.display(), None, where, f"{name!r}: {why}"))
                continue
            guess = difflib.get_close_matches(name, ids, n=1)
            scenes = ", ".join(t.scene for t in self.tasks)
            hint = f"; did you mean '{guess[0]}'?" if guess else f" (scenes: {scenes})"
            what = "task" if ":" in name else "scene"
            problems.append(
                Problem(self.project.display(), None, where, f"no {what} {name!r}{hint}")
            )
        if problems:
            raise PlanError(problems)

    def downstream(self, scene_id: str) -> list[str]:
        """Scenes that continue (directly or not) from ``scene_id``, in film order."""
        out: set[str] = set()
        frontier = {node_name(scene_id)}
        while frontier:
            nxt = {t.scene for t in self.nodes if set(t.depends_on) & frontier} - out
            out |= nxt
            frontier = nxt
        return [t.scene for t in self.nodes if t.scene in out]

    def to_json(self, only: set[str] | None = None) -> dict[str, Any]:
        """Every task (``only``: these nodes) with its taskType and the nodes it waits for."""
        tasks = [t for t in self.nodes if only is None or t.scene in only]
        return {
            "tasks": [
                {
                    "scene": t.scene,
                    "node": display_name(t),
                    "kind": t.kind,
                    "taskType": t.task_type,
                    "model": t.model,
                    "depends_on": t.depends_on,
                    "waits_for": [display_name(self.node(d)) for d in t.depends_on],
                    "cost": round(t.cost, 4) if t.price_known else None,
                    "request": t.request,
                }
                for t in tasks
            ],
            "total_cost": round(sum(t.cost for t in tasks), 4),
        }


def node_name(name: str) -> str:
    """``clip:ID`` and ``ID`` both name a scene's clip; other names are kept as they are."""
    return name.removeprefix("clip:")


def display_name(task: Task) -> str:
    """A node's name as shown: ``clip:ID`` for a clip, else its name."""
    return f"clip:{task.scene}" if task.kind == "video" and ":" not in task.scene else task.scene


def compile_project(project: Project, *, task_uuid: Any = None) -> Plan:
    """Compile every scene; raise :class:`PlanError`/:class:`TemplateError` listing all problems."""
    board = project.board
    problems: list[Problem] = []
    profile = get_profile(board.model)
    if profile is None:  # the other scenes and the templates are still checked (issue 15)
        problems.append(project.problem(("model",), unknown_model(board.model)))
    profiles: dict[str, ModelProfile] = {}
    for i, scene in enumerate(board.scenes):
        air = scene.model or board.model
        found = get_profile(air)
        if found is None and scene.model is not None:
            line = project.scene_line(i, "model")
            problems.append(project.problem(("scenes", i, "model"), unknown_model(air), line))
        elif found is not None:
            profiles[scene.id] = found
    new_uuid = task_uuid or (lambda: str(uuid.uuid4()))
    problems.extend(_check_graph(project, profiles))
    env = make_env(project.root)
    tasks: list[Task] = []
    prompts: dict[int, str] = {}
    for i, scene in enumerate(board.scenes):
        try:
            prompt: str | None = render_prompt(project, env, i)
        except StoryboardError as e:  # TemplateError; the model's rules are still checked
            problems.extend(getattr(e, "problems", []))
            prompt = None
        p = profiles.get(scene.id)
        if p is None:
            continue
        if prompt is not None:
            prompts[i] = prompt
        scene = with_board_frame(project, p, i, scene)
        stand_in = "x" * max(1, p.prompt_chars[0] if p.prompt_chars else 1)  # prompt failed
        task, scene_problems = _compile_scene(project, p, i, scene, prompt or stand_in, new_uuid())
        problems.extend(scene_problems)
        if task is not None and prompt is not None:
            problems.extend(add_cast_inputs(project, p, task))
            tasks.append(task)
    images, image_problems = compile_images(project, prompts, new_uuid)
    problems.extend(image_problems)
    sounds, sound_problems = sound_tasks(project, new_uuid, tasks)  # issue 18
    problems.extend(sound_problems)
    if problems or profile is None:  # in the files' order, whichever check found them
        shown = project.display()  # the storyboard's own first, then each template's
        problems.sort(key=lambda p: (p.file != shown, p.file, p.line or 0))
        raise PlanError(unique(problems))
    return Plan(
        project,
        profile,
        tasks,
        profiles,
        images,
        cast_warnings(project, profiles)
        + trim_warnings(project)
        + price_warnings(project, profiles),
        sounds,
    )


def unknown_model(air: str) -> str:
    """'unknown model X; did you mean Y?' naming where the list of models is; a known image
    or audio model says so and where it goes (hostile helper-47: an image model was guessed
    to be a video model of a similar name)."""
    from storyboard.board.audio_models import audio_profile
    from storyboard.board.image_models import get_image_profile

    if get_image_profile(air) is not None:
        return (
            f"{air!r} is an image model, not a video model: set it as `image_model:` (the cast "
            f"sheets and boards); `storyboard models` lists the {len(PROFILES)} video models"
        )
    sound = audio_profile(air)
    if sound is not None:
        return (
            f"{air!r} is an audio model ({sound.kind}), not a video model: see `storyboard "
            f"models --kind audio`; `storyboard models` lists the {len(PROFILES)} video models"
        )
    guess = difflib.get_close_matches(air, list(PROFILES), n=1)
    hint = f"; did you mean '{guess[0]}'?" if guess else ""
    return f"unknown model {air!r}{hint} (`storyboard models` lists the {len(PROFILES)} known)"


def _check_graph(project: Project, profiles: dict[str, ModelProfile]) -> list[Problem]:
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
        profile = profiles.get(s.id)  # None: an unknown model, reported already
        if profile is not None and cont.mode not in profile.continuity:
            problems.append(project.problem(path, unsupported(profile, cont.mode), line))
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
        theirs = profiles.get(scenes[order[src]].id)
        if cont.mode == "extend" and theirs and profile and theirs.air != profile.air:
            problems.append(
                project.problem(
                    path,
                    f"scene {s.id!r} extends {src!r}, made by another model ({theirs.air}, this "
                    f"scene {profile.air}): a clip is extended only by the model that made it; "
                    "use continuity: last_frame, or the same model",
                    line,
                )
            )
        edges[s.id] = src
    # cycles first (they print their path), then plain forward references. Each scene has at
    # most one source, so one walk per scene that stops at anything already walked is linear
    # (a 2000-scene chain plans in a blink, not in a minute)
    in_cycle: set[str] = set()
    done: set[str] = set()
    for start in edges:
        walk: dict[str, int] = {}  # node -> its position in this walk
        node: str | None = start
        while node is not None and node not in done and node not in walk:
            walk[node] = len(walk)
            node = edges.get(node)
        if node is not None and node in walk:  # came back to this walk: a cycle
            walked = list(walk)
            cycle = walked[walk[node] :] + [node]
            in_cycle.update(cycle)
            i = order[cycle[0]]
            problems.append(
                project.problem(
                    ("scenes", i, "continuity"),
                    "continuity cycle: " + " -> ".join(cycle),
                    project.scene_line(i, "continuity"),
                )
            )
        done.update(walk)
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


MODE_WORDS = {
    "extend": "continuity 'extend' (continuing a prior clip)",
    "last_frame": "continuity 'last_frame' (a first-frame image)",
    "end_frame": "end_frame (a last-frame image)",
}


def unsupported(profile: ModelProfile, mode: str) -> str:
    """'X does not support Y; models that do: ...' for a scene asking what the model lacks."""
    can = [f"{p.name} ({p.air})" for p in alternatives(profile, {mode})]
    return (
        f"{profile.name} ({profile.air}) does not support {MODE_WORDS.get(mode, mode)}; "
        f"live models that do: {', '.join(can) or 'none'}"
    )


def _compile_scene(
    project: Project, profile: ModelProfile, i: int, scene: Scene, prompt: str, task_uuid: str
) -> tuple[Task | None, list[Problem]]:
    board = project.board
    problems: list[Problem] = []

    def bad(field: str, message: str) -> None:
        if not field:  # the storyboard's size (F13: the scene named when its own model refuses)
            named = f"scene {scene.id!r}: {message}" if scene.model is not None else message
            if ("size",) not in project.src.lines:  # the default: point at the model (H17)
                named += " (the default size: set `size:` to one it accepts)"
                at = project.scene_line(i, "model") if scene.model else project.line(("model",))
                return problems.append(project.problem(("size",), named, at))
            problems.append(project.problem(("size",), named))
            return
        problems.append(
            project.problem(
                ("scenes", i, field), f"scene {scene.id!r}: {message}", project.scene_line(i, field)
            )
        )

    quality = board.output.quality
    qlo, qhi = profile.quality
    if not qlo <= quality <= qhi:
        problems.append(
            project.problem(("output", "quality"), f"{profile.name} needs quality {qlo} to {qhi}")
        )
    cont = scene.continuity
    mode = cont.mode if cont is not None else "cut"
    source = source_of(project, i) if mode != "cut" else None
    built = build_request(project, profile, i, scene, prompt, task_uuid, mode, source, bad)
    if problems or built is None:
        return None, problems
    request, cost = built
    first = scene.first_frame if scene.first_frame != "board" else None
    task = Task(scene.id, i, mode, source, request, cost or 0.0, prompt, first)
    task.end_frame = scene.end_frame
    task.price_known = cost is not None
    task.planned_seconds = float(scene.duration or 0.0)
    if scene.first_frame == "board":
        task.waits.append(f"board:{scene.id}")
    return task, []
