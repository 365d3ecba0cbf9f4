"""The emulator's audio side (issue 18): ``audioInference`` tasks, lip-sync tasks and the
``/audio/NAME`` files, mixed into ``server.Emulator`` (which brings the task desk)."""

from __future__ import annotations

import threading
import time
import uuid
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storyboard.board.audio_models import AudioProfile, audio_common
from storyboard.media.probe import media_duration

from .audio import AUDIO_EXT, render_audio, render_lipsync, validate_audio
from .rules import ApiError
from .tasks import EmTask


class AudioTasks:
    """Speech, music and effects as placeholder files; lip sync over clips made here."""

    audios: dict[str, Path]
    videos: dict[str, Path]
    workdir: Path
    _lock: threading.RLock

    if TYPE_CHECKING:  # provided by the task desk and the server

        def _new_uuid(self, task: dict[str, Any]) -> str: ...
        def _accept(
            self, task: dict[str, Any], uid: str, cost: float | None, render: Any
        ) -> Any: ...
        def _finish(self, uid: str, wait: bool = False) -> list[dict[str, Any]]: ...
        @property
        def url(self) -> str: ...

    def _audio(self, task: dict[str, Any]) -> list[dict[str, Any]]:
        uid = self._new_uuid(task)
        profile, cost = validate_audio(task)
        ack = self._accept(task, uid, cost, partial(self._render_audio, profile))
        if task.get("deliveryMethod", "sync") == "async":
            return [ack]
        return self._finish(uid, wait=True)  # sync delivery: the results in the answer

    def _render_audio(self, profile: AudioProfile, em: EmTask) -> list[dict[str, Any]]:
        t = em.request
        fmt = str(t.get("outputFormat", audio_common()["format_default"]))
        items = []
        n = int(t.get("numberResults", 1))
        for k in range(n):
            seed = em.seed(k)
            audio_uuid = str(uuid.uuid4())
            dest = self.workdir / "audio" / f"{audio_uuid}.{AUDIO_EXT[fmt]}"
            part = dest.with_name(f"{audio_uuid}.part.{AUDIO_EXT[fmt]}")
            render_audio(t, profile, part, seed)
            part.replace(dest)
            with self._lock:
                self.audios[audio_uuid] = dest
            item: dict[str, Any] = {
                "taskType": "audioInference",
                "taskUUID": em.uuid,
                "status": "success",
                "audioUUID": audio_uuid,
                "audioURL": f"{self.url}/audio/{dest.name}",
                "seed": seed,
            }
            if t.get("includeCost") and em.priced:
                item["cost"] = round(em.cost / n, 8)
            items.append(item)
        em.rendered_at = time.monotonic()
        return items

    def _audio_length(self, audio_uuid: str) -> float | None:
        with self._lock:
            path = self.audios.get(audio_uuid)
        return None if path is None else media_duration(path)

    def _render_lipsync(self, em: EmTask) -> list[dict[str, Any]]:
        t = em.request
        inputs = t["inputs"]
        with self._lock:
            video = self.videos.get(str(inputs["video"]))
            files = [self.audios[str(a["source"])] for a in inputs["audios"]]
        if video is None:
            raise ApiError(400, "invalidVideo", "inputs.video is no video this account made")
        placed, at = [], 0.0
        for f in files:  # segment timing is n/f: the sounds are laid one after another
            placed.append((f, at))
            at += media_duration(f)
        video_uuid = str(uuid.uuid4())
        dest = self.workdir / "videos" / f"{video_uuid}.mp4"
        part = dest.with_name(f"{video_uuid}.part.mp4")
        render_lipsync(video, placed, part)
        part.replace(dest)
        with self._lock:
            self.videos[video_uuid] = dest
        item: dict[str, Any] = {
            "taskType": "videoInference",
            "taskUUID": em.uuid,
            "status": "success",
            "videoUUID": video_uuid,
            "videoURL": f"{self.url}/videos/{dest.name}",
        }
        if t.get("includeCost") and em.priced:
            item["cost"] = em.cost
        em.rendered_at = time.monotonic()
        return [item]
