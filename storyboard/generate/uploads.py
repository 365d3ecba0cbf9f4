"""Uploads: ``mediaStorage`` (any media), falling back to the deprecated ``imageUpload``.

The SDK marks ``imageUpload`` deprecated in favour of ``mediaStorage``
(reference/runware-beyond-video.md 4.3), whose upload answers ``mediaUUID``/``mediaURL``.
A service that does not know ``mediaStorage`` gets ``imageUpload`` (images only), once per
client after the first refusal.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any

from storyboard.errors import ProviderError

from .protocol import CONFLICT, Envelope, error_from, image_upload_task, media_storage_task


class Uploads:
    """Mixed into :class:`~storyboard.generate.client.RunwareClient`."""

    _key: str
    _no_media_storage: bool

    post: Callable[..., Awaitable[Envelope]]  # the client's own

    async def upload_image(self, data: bytes, mime: str = "image/png") -> str:
        """Upload an image; returns its ``mediaUUID`` (``imageUUID`` from the older
        ``imageUpload``, or the data URI itself if the upload is refused)."""
        return await self.upload_media(data, mime)

    async def upload_media(self, data: bytes, mime: str) -> str:
        """Store media with ``mediaStorage``; a service that does not know that task gets the
        deprecated ``imageUpload`` (images only). Returns the UUID to send as an input."""
        uri = f"data:{mime};base64,{base64.b64encode(data).decode()}"
        if not self._no_media_storage:
            task = media_storage_task(uri)
            env = await self.post([task])
            for item in env.items_for(task["taskUUID"]):
                if item.get("mediaUUID"):
                    return str(item["mediaUUID"])
            errs = env.errors_for(task["taskUUID"])
            if errs and not _unknown_task_type(errs[0]):
                if errs[0].get("code") == CONFLICT:
                    return uri
                raise error_from(errs[0], env.status, secret=self._key)
            self._no_media_storage = True  # remembered: one refused try per client
        if not mime.startswith("image/"):
            raise ProviderError(
                f"the service refused mediaStorage and imageUpload takes images only ({mime})",
                code="unsupportedMedia",
            )
        task = image_upload_task(uri)
        env = await self.post([task])
        for item in env.items_for(task["taskUUID"]):
            if item.get("imageUUID"):
                return str(item["imageUUID"])
        errs = env.errors_for(task["taskUUID"])
        if errs and errs[0].get("code") != CONFLICT:
            raise error_from(errs[0], env.status, secret=self._key)
        return uri  # the API also accepts data URIs in frameImages


def _unknown_task_type(err: dict[str, Any]) -> bool:
    """An error saying the service does not know the task type (so: try ``imageUpload``)."""
    code = str(err.get("code", ""))
    return err.get("parameter") == "taskType" or code in (
        "invalidTaskType",
        "unsupportedTaskType",
        "unknownTaskType",
    )
