"""The emulator: a real HTTP server on loopback speaking Runware's REST protocol.

``POST /v1``                 the task array: authentication, videoInference, getResponse,
                             imageUpload
``GET  /videos/NAME``        generated clips
``GET  /_emulator/ledger``   every charge it made; ``/_emulator/tasks`` task timings
``POST /_emulator/faults``   add faults (JSON object or list); ``DELETE`` clears them
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import shutil
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from PIL import Image

from storyboard.board.models import PROFILES
from storyboard.files import owned_tempdir, sweep_stale
from storyboard.media.frames import last_frame_png
from storyboard.media.probe import probe

from .audio import is_lipsync, validate_lipsync
from .audio_tasks import AudioTasks
from .clips import EXTENSIONS, ClipSpec, concat_clips, render_clip
from .faults import Fault, FaultBook
from .handler import Handler
from .media import media_storage
from .pictures import Pictures
from .rules import ApiError, require_uuid, validate_video
from .tasks import EmTask, TaskDesk

CLIP_FPS = 30  # placeholder clips' frame rate (not a model fact: the film is conformed anyway)


class _Server(ThreadingHTTPServer):
    """The emulator's HTTP server. A client gone mid-answer (a render stopped by Ctrl-C while
    its requests were in flight) ends that request quietly: the socket server printed a
    traceback for it under the render's one-line message (hostile helper-28)."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):  # reset, broken pipe, aborted
            return
        super().handle_error(request, client_address)


@dataclass
class EmulatorConfig:
    """How the emulator behaves. ``latency``: seconds a task stays ``processing``."""

    latency: float = 2.0
    api_key: str | None = None  # None: any non-empty key is accepted
    draft: bool = False  # fast encodes at a quarter of the size and 10 fps (tests)
    extend_returns: str = "new"  # "new": only the new footage; "whole": source + new
    credits: float | None = None  # None: unlimited
    faults: list[Fault] = field(default_factory=list)
    workdir: Path | None = None
    render_workers: int = 2
    # answers GET /_emulator/hello, so takes it makes are known as placeholders even when a
    # key points at it; False only in tests that stand it in for the real service
    identify: bool = True
    # no task reports done until this many were accepted: a client that waits for one task
    # before submitting the next never finishes (a structural check of concurrency for tests)
    hold_until_accepted: int | None = None
    # False: answer mediaStorage as an unknown task type (a service without it; tests of the
    # client's imageUpload fallback)
    media_storage: bool = True


class Emulator(TaskDesk, AudioTasks, Pictures):
    """Start with ``with Emulator(config) as emu:`` or ``start()``/``stop()``."""

    def __init__(
        self, config: EmulatorConfig | None = None, port: int = 0, host: str = "127.0.0.1"
    ):
        self.config = config or EmulatorConfig()
        self.faults = FaultBook(self.config.faults)
        self._host, self._port = host, port
        self._own_dir = self.config.workdir is None
        if self._own_dir:  # what killed emulators (and their clip renders) left in /tmp
            sweep_stale("sb-emulator-", Path(tempfile.gettempdir()))
            sweep_stale("sb-emu-", Path(tempfile.gettempdir()))
        self.workdir = Path(self.config.workdir or owned_tempdir("sb-emulator-"))
        (self.workdir / "videos").mkdir(parents=True, exist_ok=True)
        (self.workdir / "audio").mkdir(parents=True, exist_ok=True)
        self.tasks: dict[str, EmTask] = {}
        self.images: dict[str, bytes] = {}
        self.videos: dict[str, Path] = {}  # videoUUID -> file
        self.video_ids: dict[str, Path] = {}  # outputs.videoId -> file
        self.video_sizes: dict[str, tuple[int, int]] = {}  # videoUUID/videoId -> size asked for
        self.audios: dict[str, Path] = {}  # audioUUID -> file (issue 18)
        self.ledger: list[dict[str, Any]] = []
        self.log: list[dict[str, Any]] = []  # every inference task accepted, as it was sent
        self.balance = self.config.credits
        self.requests = 0
        self._lock = threading.RLock()
        self._pool = ThreadPoolExecutor(self.config.render_workers, thread_name_prefix="sb-render")
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.started = time.time()  # it knows no task sent before (hello: ``started``)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> Emulator:
        self.started = time.time()
        handler = type("Handler", (Handler,), {"emu": self})
        self._server = _Server((self._host, self._port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            name="sb-emulator",
            kwargs={"poll_interval": 0.05},
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "not started"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def add_fault(self, fault: Fault) -> None:
        self.faults.add(fault)

    def hello(self) -> dict[str, Any] | None:
        """What ``GET /_emulator/hello`` says: that takes made here are placeholders."""
        if not self.config.identify:
            return None
        return {"emulator": "storyboard", "draft": self.config.draft, "started": self.started}

    # -- the protocol --------------------------------------------------------------------------

    def handle_tasks(self, tasks: Any, bearer: str | None) -> tuple[int, dict[str, Any]]:
        if not isinstance(tasks, list) or not tasks or not all(isinstance(t, dict) for t in tasks):
            raise ApiError(
                400, "invalidRequestBody", "the body must be a JSON array of task objects"
            )
        key = bearer
        data: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        if tasks[0].get("taskType") == "authentication":
            key = tasks[0].get("apiKey")
            data.append({"taskType": "authentication", "connectionSessionUUID": str(uuid.uuid4())})
            tasks = tasks[1:]
        if not key or (self.config.api_key is not None and key != self.config.api_key):
            raise ApiError(
                401,
                "invalidApiKey",
                "Invalid API key. Get one at runware.ai",
                "apiKey",
                task_type="authentication",
            )
        worst = 0
        for task in tasks:
            try:
                data.extend(self._one(task))
            except ApiError as e:
                worst = max(worst, e.status)
                err = {
                    "code": e.code,
                    "message": e.message,
                    "taskType": task.get("taskType"),
                    "taskUUID": task.get("taskUUID"),
                }
                if e.parameter:
                    err["parameter"] = e.parameter
                errors.append(err)
        body: dict[str, Any] = {}
        if data:
            body["data"] = data
        if errors:
            body["errors"] = errors
        status = 200 if data or not errors else worst
        return status, body

    def _one(self, task: dict[str, Any]) -> list[dict[str, Any]]:
        kind = task.get("taskType")
        if kind == "videoInference":
            return [self._video(task)]
        if kind == "audioInference":
            return self._audio(task)
        if kind == "imageInference":  # issue 17: cast sheets and boards
            return self._image(task)
        if kind == "getResponse":
            return self._get_response(task)
        if kind == "imageUpload":
            return [self._upload(task)]
        if kind == "mediaStorage":  # issue 16: the SDK's replacement for imageUpload
            return [media_storage(self, task)]
        raise ApiError(400, "invalidTaskType", f"unsupported taskType {kind!r}", "taskType")

    def _video(self, task: dict[str, Any]) -> dict[str, Any]:
        uid = self._new_uuid(task)
        if is_lipsync(task):  # a lip-sync model: a video task over audio this account made
            _, cost = validate_lipsync(task, self._audio_length)
            return self._accept(task, uid, cost, self._render_lipsync)
        cost = validate_video(task, self.video_sizes.get)
        return self._accept(task, uid, cost, self._render)

    def _render(self, em: EmTask) -> list[dict[str, Any]]:
        t = em.request
        profile = PROFILES[str(t["model"])]
        fmt = str(t.get("outputFormat", "MP4"))
        ext = EXTENSIONS[fmt]
        inputs = t.get("inputs") or {}
        ref = str(inputs.get("videoId") or inputs.get("video") or "")
        source: Path | None = self.video_ids.get(ref) or self.videos.get(ref)
        first: bytes | None = None
        asked: tuple[int, int] | None = self.video_sizes.get(ref)
        if source is not None:
            first = last_frame_png(source)
            info = probe(source)
            w, h = info.width, info.height
        else:
            w, h = int(t.get("width", 0)), int(t.get("height", 0))
            frames = inputs.get("frameImages") or []
            if frames:
                first = self._image_bytes(
                    frames[0]["image"] if isinstance(frames[0], dict) else frames[0]
                )
                if not w and first is not None:
                    with Image.open(io.BytesIO(first)) as im:
                        w, h = im.size
            if not w:  # frame images given by URL (not fetched offline): the model's size
                res = t.get("resolution")
                w, h = (profile.tiers.get(str(res)) or profile.sizes)[0]
            asked = (w, h)
        if self.config.draft and source is None:
            w, h = max(16, w // 4 // 2 * 2), max(16, h // 4 // 2 * 2)
        fps = 10 if self.config.draft else CLIP_FPS
        items = []
        for k in range(int(t.get("numberResults", 1))):
            seed = em.seed(k)
            video_uuid = str(uuid.uuid4())
            dest = self.workdir / "videos" / f"{video_uuid}.{ext}"
            spec = ClipSpec(
                str(t["positivePrompt"]),
                w,
                h,
                float(t.get("duration", 4)),
                fps,
                fmt,
                int(t.get("outputQuality", 95)),
                seed,
                first,
                self.config.draft,
            )
            if source is not None and self.config.extend_returns == "whole":
                part = dest.with_name(f"{video_uuid}.part.{ext}")
                render_clip(spec, part, label=f"take {k + 1} (extension)")
                concat_clips(source, part, dest, fmt, spec.quality, self.config.draft)
                part.unlink(missing_ok=True)
            else:
                render_clip(spec, dest, label=f"take {k + 1}" + (" (extension)" if source else ""))
            video_id = "video_" + hashlib.sha256(video_uuid.encode()).hexdigest()[:48]
            with self._lock:
                self.videos[video_uuid] = dest
                self.video_ids[video_id] = dest
                self.video_sizes[video_uuid] = self.video_sizes[video_id] = asked or (w, h)
            item: dict[str, Any] = {
                "taskType": "videoInference",
                "taskUUID": em.uuid,
                "status": "success",
                "videoUUID": video_uuid,
                "videoURL": f"{self.url}/videos/{dest.name}",
                "seed": seed,
                "NSFWContent": em.nsfw,
            }
            if profile.extend is not None and profile.extend.input == "videoId":
                item["outputs"] = {"videoId": video_id}  # only Sora's results carry one
            if t.get("includeCost") and em.priced:
                item["cost"] = round(em.cost / int(t.get("numberResults", 1)), 6)
            items.append(item)
        em.rendered_at = time.monotonic()
        return items

    def _image_bytes(self, ref: str) -> bytes | None:
        if ref in self.images:
            return self.images[ref]
        if ref.startswith("data:"):
            try:
                return base64.b64decode(ref.split(",", 1)[1], validate=False)
            except (binascii.Error, IndexError):
                raise ApiError(
                    400, "invalidFrameImages", "cannot decode the data URI", "inputs.frameImages"
                ) from None
        if ref.startswith(("http://", "https://")):
            return None  # offline: URLs are accepted but not fetched
        try:
            return base64.b64decode(ref, validate=True)
        except binascii.Error:
            raise ApiError(
                400, "invalidFrameImages", f"unknown image {ref[:40]!r}", "inputs.frameImages"
            ) from None

    def _upload(self, task: dict[str, Any]) -> dict[str, Any]:
        uid = str(task.get("taskUUID") or "")
        require_uuid(uid)
        image = task.get("image")
        if not isinstance(image, str) or not image:
            raise ApiError(400, "missingImage", "image is required", "image")
        data = self._image_bytes(image)
        if data is None:
            data = b""
        else:
            try:
                with Image.open(io.BytesIO(data)) as im:
                    im.verify()
            except Exception:  # noqa: BLE001 - any decoder failure means a bad image
                raise ApiError(
                    400, "invalidImage", "the image could not be decoded", "image"
                ) from None
        image_uuid = str(uuid.uuid4())
        with self._lock:
            self.images[image_uuid] = data
        # a URL is kept as given (the emulator is offline); bytes are served from /images/
        url = image if not data else f"{self.url}/images/{image_uuid}.{_image_ext(data)}"
        return {
            "taskType": "imageUpload",
            "taskUUID": uid,
            "imageUUID": image_uuid,
            "imageURL": url,
        }


def _image_ext(data: bytes) -> str:
    """The file extension of an uploaded image, from its content."""
    with Image.open(io.BytesIO(data)) as im:
        return {"JPEG": "jpg", "WEBP": "webp", "GIF": "gif", "BMP": "bmp"}.get(
            str(im.format), "png"
        )
