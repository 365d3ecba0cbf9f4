"""The ``mediaStorage`` task: store media, answer ``mediaUUID``/``mediaURL``; delete it again.

Shapes from reference/runware-beyond-video.md 4.3 and the SDK's ``MediaStorageParams``
(``operation``, ``media``) and ``MediaStorageResultUpload``/``...Delete``. Stored bytes live
beside ``imageUpload``'s (``Emulator.images``), so a ``mediaUUID`` works wherever an uploaded
image's UUID does, and are served from ``/images/UUID.EXT``.
"""

from __future__ import annotations

import base64
import binascii
import io
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from storyboard.board.assets import AUDIO_SUFFIXES, VIDEO_SUFFIXES

from .rules import ApiError, require_uuid

if TYPE_CHECKING:
    from .server import Emulator


def _decode(media: str) -> bytes | None:
    if media.startswith("data:"):
        try:
            return base64.b64decode(media.split(",", 1)[1], validate=False)
        except (binascii.Error, IndexError):
            raise ApiError(400, "invalidMedia", "cannot decode the data URI", "media") from None
    if media.startswith(("http://", "https://")):
        return None  # offline: kept as a URL, not fetched
    try:
        return base64.b64decode(media, validate=True)
    except binascii.Error:
        raise ApiError(
            400, "invalidMedia", "media must be a URL, data URI or base64", "media"
        ) from None


def _ext(data: bytes) -> str:
    try:
        with Image.open(io.BytesIO(data)) as im:
            return {"JPEG": "jpg", "WEBP": "webp", "GIF": "gif", "BMP": "bmp"}.get(
                str(im.format), "png"
            )
    except Exception:  # noqa: BLE001 - not an image: video or audio bytes
        return "bin"


def media_storage(emu: Emulator, task: dict[str, Any]) -> dict[str, Any]:
    """Answer one ``mediaStorage`` task (``operation`` upload or delete)."""
    if not emu.config.media_storage:
        raise ApiError(400, "invalidTaskType", "unsupported taskType 'mediaStorage'", "taskType")
    uid = str(task.get("taskUUID") or "")
    require_uuid(uid)
    for k in task:
        if k not in ("taskType", "taskUUID", "operation", "media"):
            raise ApiError(400, "unknownParameter", f"unknown parameter {k!r}", k)
    operation = task.get("operation")
    media = task.get("media")
    if not isinstance(media, str) or not media:
        raise ApiError(400, "missingMedia", "media is required", "media")
    if operation == "delete":
        with emu._lock:
            found = emu.images.pop(media, None)
        if found is None:
            raise ApiError(400, "invalidMedia", f"unknown media {media[:40]!r}", "media")
        return {
            "taskType": "mediaStorage",
            "taskUUID": uid,
            "operation": "delete",
            "mediaUUID": media,
        }
    if operation != "upload":
        raise ApiError(400, "invalidOperation", "operation must be upload or delete", "operation")
    data = _decode(media)
    media_uuid = str(uuid.uuid4())
    with emu._lock:
        emu.images[media_uuid] = data or b""
    url = media if data is None else f"{emu.url}/images/{media_uuid}.{_ext(data)}"
    return {
        "taskType": "mediaStorage",
        "taskUUID": uid,
        "operation": "upload",
        "mediaUUID": media_uuid,
        "mediaURL": url,
    }


def adopt(
    emu: Emulator,
    media_uuid: str,
    path: Path,
    *,
    video_id: str | None = None,
    asked: tuple[int, int] | None = None,
) -> None:
    """Know ``path`` as media this account made earlier, under ``media_uuid`` (and a video's
    ``outputs.videoId``): a keyless render's emulator is started afresh each time, while the
    takes it made before are still the project's, and Runware keeps an account's media. The file
    is read where it is, never changed. ``asked``: the size the clip was asked for (a draft clip
    is smaller), used by the extension rules."""
    suffix = path.suffix.lower()
    with emu._lock:
        if suffix in VIDEO_SUFFIXES:
            emu.videos[media_uuid] = path
            size = asked or _video_size(path)
            if size is not None:
                emu.video_sizes[media_uuid] = size
            if video_id:
                emu.video_ids[video_id] = path
                if size is not None:
                    emu.video_sizes[video_id] = size
        elif suffix in AUDIO_SUFFIXES:
            emu.audios[media_uuid] = path
        else:
            emu.images[media_uuid] = path.read_bytes()


def _video_size(path: Path) -> tuple[int, int] | None:
    from storyboard.media.probe import probe

    try:
        info = probe(path)
    except Exception:  # noqa: BLE001 - a take that does not probe is simply not known by size
        return None
    return info.width, info.height
