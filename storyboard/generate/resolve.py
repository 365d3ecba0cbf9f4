"""Filling a request's inputs just before it is journaled and sent: the source clip's
``videoId``/``video``, its true last frame, project pictures and the takes of the nodes it waits
for, each uploaded once per render and content (a mixin: :class:`~.execute.Executor` provides
the fields)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import mimetypes
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from storyboard.board.schema import parse_size
from storyboard.errors import GenerationError, StoryboardError
from storyboard.files import resolve_inside
from storyboard.generate.state import BuildState, Take
from storyboard.media.frames import conform_image, conform_note, frame_before_png
from storyboard.plan.compile import LAST_FRAME, LOCAL_FILE, VIDEO, VIDEO_ID, Plan, Task

from .inputs import IMAGE_RE, TAKE_RE, fill_inputs, fill_outputs, image_mime

if TYPE_CHECKING:
    from pathlib import Path

    from .client import RunwareClient
    from .events import Progress


class Resolver:
    """The inputs half of the executor."""

    root: Path
    plan: Plan
    state: BuildState
    rep: Progress
    chosen: dict[str, Take]
    _uploads: dict[str, str]
    _chosen_uuid: Callable[[str], str | None]
    _chosen_output: Callable[[str], str | None]

    if TYPE_CHECKING:

        @property
        def api(self) -> RunwareClient: ...  # the executor's

    async def _resolve(self, task: Task, src_take: Take | None) -> dict[str, Any]:
        """Fill the placeholders: the source's videoId, its last frame, local images, and the
        takes of the nodes it waits for (sheets, boards)."""
        req = json.loads(json.dumps(task.request))
        req["taskUUID"] = str(uuid.uuid4())
        inputs = req.get("inputs") or {}

        async def fill(value: str, as_frame: bool) -> str:
            take_of = TAKE_RE.match(value)
            if take_of:
                take = self.chosen[take_of.group(1)]
                path = self.state.path_of(take)
                if path is None or not self.state.file_ok(take):
                    raise StoryboardError(
                        f"{task.scene}: the take of {take.scene} it needs is missing; render again"
                    )
                data = path.read_bytes()
                what = f"take {take.n} of {take.scene}"
            else:
                rel = IMAGE_RE.match(value).group(1)  # type: ignore[union-attr]
                p = resolve_inside(self.root, rel)
                if p is None or not p.is_file():
                    raise StoryboardError(f"{task.scene}: picture {rel} is missing")
                data, what = p.read_bytes(), rel
            if as_frame:
                return await self._upload(data, task, what)
            return await self._upload_as_is(data)

        await fill_inputs(inputs, fill)
        if "videoId" in inputs:
            assert src_take is not None
            if not src_take.video_id:
                raise GenerationError(
                    f"source take {src_take.scene}#{src_take.n} has no outputs.videoId to extend",
                    scene=task.scene,
                )
            assert inputs["videoId"] == VIDEO_ID % task.source
            inputs["videoId"] = src_take.video_id
        fill_outputs(inputs, task.waits, self._chosen_output)  # lip sync (issue 18)
        if "video" in inputs and task.continues:  # extending by inputs.video: the source's UUID
            assert src_take is not None and inputs["video"] == VIDEO % task.source
            inputs["video"] = src_take.service_uuid
        for frame in inputs.get("frameImages", []):
            image = frame["image"]
            if image == LAST_FRAME % task.source and src_take is not None:
                self.rep.update(task.scene, "preparing", f"last frame of {src_take.scene}")
                until = self._shown_until(task.source, src_take)
                data = await asyncio.to_thread(frame_before_png, self.root / src_take.file, until)
                frame["image"] = await self._upload(data, task, f"last frame of {src_take.scene}")
            elif image.startswith("${file:"):
                rel = image[len("${file:") : -1]
                assert LOCAL_FILE % rel == image
                path = resolve_inside(self.root, rel)
                if path is None or not path.is_file():
                    raise StoryboardError(f"scene {task.scene!r}: first_frame {rel} is missing")
                frame["image"] = await self._upload(path.read_bytes(), task, rel)
        for key, value in inputs.items():  # issue 16: references, uploaded as they are
            if key in ("frameImages", "video", "videoId"):
                continue
            if isinstance(value, list):
                inputs[key] = [await self._upload_file(v, task) for v in value]
            elif isinstance(value, str):
                inputs[key] = await self._upload_file(value, task)
        return req

    async def _upload_as_is(self, data: bytes) -> str:
        """Upload a reference picture unchanged (once per render and content)."""
        key = hashlib.sha256(data).hexdigest()
        if key not in self._uploads:
            self._uploads[key] = await self.api.upload_image(data, image_mime(data))
        return self._uploads[key]

    async def _upload_file(self, value: Any, task: Task) -> Any:
        """A ``${file:PATH}`` reference uploaded unchanged (mediaStorage); anything else as is."""
        if not (isinstance(value, str) and value.startswith("${file:") and value.endswith("}")):
            return value
        rel = value[len("${file:") : -1]
        path = resolve_inside(self.root, rel)
        if path is None or not path.is_file():
            raise StoryboardError(f"scene {task.scene!r}: reference {rel} is missing")
        data = await asyncio.to_thread(path.read_bytes)
        digest = hashlib.sha256(data).hexdigest()
        if digest not in self._uploads:
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            self.rep.update(task.scene, "preparing", f"uploading {rel}")
            self._uploads[digest] = await self.api.upload_media(data, mime)
        return self._uploads[digest]

    def _shown_until(self, scene_id: str | None, take: Take) -> float | None:
        """Where the cut stops showing the take (``trim.out``; None: the file's end; issue 15)."""
        for scene in self.plan.project.board.scenes:
            if scene.id == scene_id and scene.trim is not None and scene.trim.out is not None:
                return take.offset + scene.trim.out
        return None

    async def _upload(self, data: bytes, task: Task, what: str) -> str:
        w, h = (
            parse_size(f"{task.request.get('width', 0)}x{task.request.get('height', 0)}")
            if "width" in task.request
            else parse_size(self.plan.project.board.size)
        )
        png, upright = await asyncio.to_thread(conform_image, data, w, h)
        done = conform_note(upright, w, h)
        if done is not None:
            self.rep.note(f"{task.scene}: {what} {done}")
        digest = hashlib.sha256(png).hexdigest()
        if digest not in self._uploads:
            self._uploads[digest] = await self.api.upload_image(png)
        return self._uploads[digest]
