"""The emulator's ``imageInference``: its rules (from the image catalogue) and its pictures.

A placeholder picture is drawn at the size asked for: a colour field from the task's seed, the
prompt legible in a box, and, in the top-right corner, a thumbnail of every reference image the
task was given (framed and numbered), so that offline one can see which cast pictures reached
which board. Prices are the catalogue's, so the emulator's "would cost" equals the plan.
"""

from __future__ import annotations

import io
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageDraw

from storyboard.board.image_models import get_image_profile
from storyboard.media.fonts import text_font
from storyboard.media.frames import to_rgb

from .lettering import draw_prompt_box
from .rules import ApiError

if TYPE_CHECKING:
    from .server import EmTask

IMAGE_FORMATS = {"PNG": "png", "JPG": "jpg", "WEBP": "webp"}
PIL_FORMATS = {"PNG": "PNG", "JPG": "JPEG", "WEBP": "WEBP"}
MAX_SIDE = 8192  # a sanity bound of the emulator's own (no model fact)


def _bad(code: str, message: str, parameter: str) -> ApiError:
    return ApiError(400, code, message, parameter)


def validate_image(t: dict[str, Any], image_bytes: Callable[[str], bytes | None]) -> float:
    """Apply the image model's rules to an ``imageInference`` task; returns its cost in USD."""
    model = str(t.get("model"))
    profile = get_image_profile(model)
    if profile is None:
        raise _bad("invalidModel", f"unknown model {model!r}", "model")
    for k in t:
        if k not in profile.params:
            raise _bad("unknownParameter", f"unknown parameter {k!r} for {model}", k)
    prompt = t.get("positivePrompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise _bad("missingPositivePrompt", "positivePrompt is required", "positivePrompt")
    w, h = t.get("width"), t.get("height")
    if (w is None) != (h is None):
        raise _bad("invalidDimensions", "width and height must be used together", "width")
    if not isinstance(w, int) or not isinstance(h, int) or not (0 < w <= MAX_SIDE >= h > 0):
        raise _bad("invalidDimensions", "width and height are required", "width")
    if not profile.accepts_size(w, h):
        raise _bad(
            "invalidDimensions",
            f"{profile.name} does not take {w}x{h} (it takes {profile.sizes_text()})",
            "width",
        )
    fmt = t.get("outputFormat", "JPG")
    if fmt not in profile.formats:
        raise _bad("invalidOutputFormat", f"outputFormat must be one of {profile.formats}", "")
    if t.get("deliveryMethod", "sync") not in ("sync", "async"):
        raise _bad("invalidDeliveryMethod", "deliveryMethod must be sync or async", "")
    inputs = t.get("inputs") or {}
    if not isinstance(inputs, dict):
        raise _bad("invalidInputs", "inputs must be an object", "inputs")
    field = profile.references.field
    for k in inputs:
        if k != field:
            raise _bad("unknownParameter", f"unknown parameter inputs.{k}", f"inputs.{k}")
    refs = inputs.get(field, [])
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        raise _bad("invalidReferenceImages", f"inputs.{field} is a list of strings", field)
    cap = profile.references.max
    if cap is not None and len(refs) > cap:
        raise _bad(
            "invalidReferenceImages",
            f"{profile.name} takes at most {cap} reference images, got {len(refs)}",
            f"inputs.{field}",
        )
    for r in refs:
        image_bytes(r)  # raises for a reference it cannot read (an unknown UUID)
    n = int(t.get("numberResults", 1))
    return round(profile.price(w, h, references=len(refs)) * n, 6)


def _palette(seed: int) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    a = (40 + seed % 120, 50 + (seed >> 8) % 110, 70 + (seed >> 16) % 130)
    b = ((seed >> 4) % 80, (seed >> 12) % 80, 30 + (seed >> 20) % 90)
    return a, b


def draw_picture(
    prompt: str,
    width: int,
    height: int,
    seed: int,
    references: list[bytes | None],
    fmt: str = "PNG",
    label: str = "image",
) -> bytes:
    """A placeholder picture: gradient, the prompt, and thumbnails of the references."""
    c0, c1 = _palette(seed)
    im = Image.new("RGB", (width, height), c0)
    draw = ImageDraw.Draw(im)
    for y in range(0, height, max(1, height // 64)):
        t = y / max(1, height - 1)
        col = tuple(int(c0[i] * (1 - t) + c1[i] * t) for i in range(3))
        draw.rectangle([0, y, width, y + max(1, height // 64)], fill=col)
    _thumbnails(im, references)
    draw_prompt_box(im, prompt, label, max(10, height // 24), min_chars=16)
    buf = io.BytesIO()
    im.save(buf, format=PIL_FORMATS.get(fmt, "PNG"))
    return buf.getvalue()


def _thumbnails(im: Image.Image, references: list[bytes | None]) -> None:
    """Each reference as a framed, numbered thumbnail along the top-right corner."""
    if not references:
        return
    w, h = im.size
    side = max(24, min(h // 4, w // (len(references) + 2)))
    pad = max(4, side // 12)
    draw = ImageDraw.Draw(im)
    font = text_font(max(10, side // 5))
    x = w - pad
    for k, data in reversed(list(enumerate(references, 1))):
        x -= side
        box = [x - 3, pad - 3, x + side + 2, pad + side + 2]
        draw.rectangle(box, fill=(255, 255, 255))
        if data is not None:
            try:
                with Image.open(io.BytesIO(data)) as ref:
                    thumb = to_rgb(ref)  # a deep (16-bit) picture scaled, not clipped
                    thumb.thumbnail((side, side))
                    im.paste(
                        thumb, (x + (side - thumb.width) // 2, pad + (side - thumb.height) // 2)
                    )
            except Exception:  # noqa: BLE001 - an unreadable reference shows as a blank frame
                pass
        else:  # a URL: the emulator is offline
            draw.text((x + 4, pad + side // 3), "URL", font=font, fill=(0, 0, 0))
        draw.rectangle([x, pad, x + side // 4, pad + side // 4], fill=(0, 0, 0))
        draw.text((x + 2, pad), str(k), font=font, fill=(255, 255, 255))
        x -= pad + 3


class Pictures:
    """The emulator's image half (a mixin: :class:`Emulator` provides the fields)."""

    images: dict[str, bytes]
    workdir: Path
    _lock: threading.RLock
    config: Any

    @property
    def url(self) -> str:  # provided by the emulator
        raise NotImplementedError

    if TYPE_CHECKING:  # provided by the emulator and its task desk

        def _image_bytes(self, ref: str) -> bytes | None: ...
        def _new_uuid(self, task: dict[str, Any]) -> str: ...
        def _accept(
            self, task: dict[str, Any], uid: str, cost: float | None, render: Any
        ) -> Any: ...
        def _finish(self, uid: str, wait: bool = False) -> list[dict[str, Any]]: ...

    def _image(self, task: dict[str, Any]) -> list[dict[str, Any]]:
        """An ``imageInference`` task: checked, charged, drawn; delivered in the answer
        (``deliveryMethod: sync``, the default for images) or by ``getResponse`` (async)."""
        uid = self._new_uuid(task)
        cost = validate_image(task, self._reference_bytes)
        ack = self._accept(task, uid, cost, self._render_image)
        if task.get("deliveryMethod", "sync") == "async":
            return [ack]
        return self._finish(uid, wait=True)

    def _reference_bytes(self, ref: str) -> bytes | None:
        try:
            return self._image_bytes(ref)
        except ApiError as e:
            raise ApiError(
                400, "invalidReferenceImages", e.message, "inputs.referenceImages"
            ) from None

    def _render_image(self, em: EmTask) -> list[dict[str, Any]]:
        t = em.request
        w, h = int(t["width"]), int(t["height"])
        if self.config.draft:
            w, h = max(16, w // 4), max(16, h // 4)
        fmt = str(t.get("outputFormat", "JPG"))
        inputs = t.get("inputs") or {}
        refs = [self._image_bytes(r) for v in inputs.values() if isinstance(v, list) for r in v]
        items = []
        n = int(t.get("numberResults", 1))
        for k in range(n):
            seed = em.seed(k)
            image_uuid = str(uuid.uuid4())
            data = draw_picture(
                str(t["positivePrompt"]), w, h, seed, refs, fmt, label=f"image {k + 1}"
            )
            dest = self.workdir / "videos" / f"{image_uuid}.{IMAGE_FORMATS[fmt]}"
            dest.write_bytes(data)
            with self._lock:
                self.images[image_uuid] = data
            item: dict[str, Any] = {
                "taskType": "imageInference",
                "taskUUID": em.uuid,
                "status": "success",
                "imageUUID": image_uuid,
                "imageURL": f"{self.url}/videos/{dest.name}",
                "seed": seed,
                "NSFWContent": em.nsfw,
            }
            if t.get("includeCost") and em.priced:
                item["cost"] = round(em.cost / n, 6)
            items.append(item)
        em.rendered_at = time.monotonic()
        return items
