"""What a node takes from other nodes and from the project: placeholders filled at render time.

A compiled request names its inputs by placeholder (see ``plan/compile.py`` and
``plan/images.py``); the executor fills them in just before the task is journaled and sent:

* ``${take:NODE}``  the chosen take of NODE (a sheet, a board), uploaded
* ``${image:PATH}`` a project picture, uploaded as it is
* ``${file:PATH}``  a project picture used as a frame, cropped to the clip's size and uploaded

and :func:`made_from` is the record of which takes a take was made from (the journal's and the
takes' ``source_take``): a clip continuing another keeps its source take's UUID as before; a
node with inputs records each input's chosen take, so picking another board makes a new clip.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from storyboard.errors import StoryboardError
from storyboard.plan.compile import Task

TAKE_RE = re.compile(r"\A\$\{take:([^}]+)\}\Z")
IMAGE_RE = re.compile(r"\A\$\{image:([^}]+)\}\Z")


def made_from(task: Task, chosen: Callable[[str], str | None]) -> str | None:
    """The takes a take of ``task`` is made from, as one string (``chosen``: a node's chosen
    take UUID, or None). None for a node that takes nothing from other nodes."""
    if not task.waits:
        return chosen(task.continues) if task.continues else None
    return ";".join(f"{n}={chosen(n) or ''}" for n in task.depends_on)


def source_of_inputs(made: str | None, continues: str | None) -> str | None:
    """The continuity source's take UUID inside a :func:`made_from` record."""
    if made is None or continues is None:
        return None
    if "=" not in made:
        return made
    for part in made.split(";"):
        name, _, uid = part.partition("=")
        if name == continues:
            return uid or None
    return None


Fill = Callable[[str, bool], Awaitable[str]]  # (placeholder, as a frame) -> what is sent


async def fill_inputs(inputs: dict[str, Any], fill: Fill) -> None:
    """Replace every ``${take:..}``/``${image:..}`` in a request's ``inputs`` (in place)."""
    for key, value in inputs.items():
        if isinstance(value, list):
            for k, item in enumerate(value):
                if isinstance(item, str) and _placeholder(item):
                    value[k] = await fill(item, False)
                elif isinstance(item, dict) and _placeholder(str(item.get("image", ""))):
                    item["image"] = await fill(str(item["image"]), key == "frameImages")
        elif isinstance(value, str) and _placeholder(value):
            inputs[key] = await fill(value, False)


def _placeholder(value: str) -> bool:
    return bool(TAKE_RE.match(value) or IMAGE_RE.match(value))


def image_mime(data: bytes) -> str:
    """The MIME type of an image from its first bytes (PNG, JPEG, WEBP, GIF; else PNG)."""
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"GIF8"):
        return "image/gif"
    return "image/png"


OUTPUT_RE = re.compile(r"\A\$\{(?:video|audio):([^}]+)\}\Z")
OUTPUT_ANY = re.compile(r"\$\{(video|audio):([^}]+)\}")  # inside a request as JSON text


def fill_outputs(
    inputs: dict[str, Any], waits: list[str], chosen: Callable[[str], str | None]
) -> None:
    """Replace ``${video:NODE}``/``${audio:NODE}`` of the nodes a task waits for with their
    chosen takes' output UUIDs (``videoUUID``, ``audioUUID``), in place, wherever they sit in
    ``inputs`` (lip sync: ``inputs.video`` and ``inputs.audios[].source``; issue 18)."""

    def one(value: Any) -> Any:
        if isinstance(value, str):
            m = OUTPUT_RE.match(value)
            if m and m.group(1) in waits:
                uid = chosen(m.group(1))
                if uid is None:
                    raise StoryboardError(f"the take of {m.group(1)} it needs is missing")
                return uid
            return value
        if isinstance(value, list):
            return [one(v) for v in value]
        if isinstance(value, dict):
            return {k: one(v) for k, v in value.items()}
        return value

    for key in list(inputs):
        inputs[key] = one(inputs[key])
