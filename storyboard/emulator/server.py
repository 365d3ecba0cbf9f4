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
import json
import shutil
import socket
import tempfile
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from PIL import Image

from ..frames import last_frame_png, probe
from ..models import PROFILES
from .clips import EXTENSIONS, ClipSpec, concat_clips, render_clip
from .faults import Fault, FaultBook

SORA_PARAMS = frozenset(
    {
        "taskType",
        "taskUUID",
        "model",
        "positivePrompt",
        "width",
        "height",
        "duration",
        "inputs",
        "webhookURL",
        "includeCost",
        "numberResults",
        "uploadEndpoint",
        "ttl",
        "outputType",
        "outputFormat",
        "outputQuality",
        "deliveryMethod",
        "safety",
    }
)
INPUT_PARAMS = frozenset({"frameImages", "videoId"})


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


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, parameter: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.parameter = status, code, message, parameter


@dataclass
class EmTask:
    uuid: str
    request: dict[str, Any]
    cost: float
    accepted_at: float
    ready_at: float
    render: Future[list[dict[str, Any]]] | None = None
    error: dict[str, Any] | None = None
    nsfw: bool = False
    finished_at: float | None = None
    noticed_at: float | None = None
    rendered_at: float | None = None
    polls: int = 0


class Emulator:
    """Start with ``with Emulator(config) as emu:`` or ``start()``/``stop()``."""

    def __init__(
        self, config: EmulatorConfig | None = None, port: int = 0, host: str = "127.0.0.1"
    ):
        self.config = config or EmulatorConfig()
        self.faults = FaultBook(self.config.faults)
        self._host, self._port = host, port
        self._own_dir = self.config.workdir is None
        self.workdir = Path(self.config.workdir or tempfile.mkdtemp(prefix="sb-emulator-"))
        (self.workdir / "videos").mkdir(parents=True, exist_ok=True)
        self.tasks: dict[str, EmTask] = {}
        self.images: dict[str, bytes] = {}
        self.videos: dict[str, Path] = {}  # videoUUID -> file
        self.video_ids: dict[str, Path] = {}  # outputs.videoId -> file
        self.ledger: list[dict[str, Any]] = []
        self.balance = self.config.credits
        self.requests = 0
        self._lock = threading.RLock()
        self._pool = ThreadPoolExecutor(self.config.render_workers, thread_name_prefix="sb-render")
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> Emulator:
        handler = type("Handler", (_Handler,), {"emu": self})
        self._server = ThreadingHTTPServer((self._host, self._port), handler)
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

    def charges(self) -> dict[str, int]:
        """taskUUID -> how many times it was charged (refunds excluded)."""
        out: dict[str, int] = {}
        with self._lock:
            for c in self.ledger:
                if not c.get("refunded"):
                    out[c["taskUUID"]] = out.get(c["taskUUID"], 0) + 1
        return out

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
            raise ApiError(401, "invalidApiKey", "Invalid API key. Get one at runware.ai", "apiKey")
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
        if kind == "getResponse":
            return self._get_response(task)
        if kind == "imageUpload":
            return [self._upload(task)]
        raise ApiError(400, "invalidTaskType", f"unsupported taskType {kind!r}", "taskType")

    def _video(self, task: dict[str, Any]) -> dict[str, Any]:
        uid = str(task.get("taskUUID") or "")
        _require_uuid(uid)
        with self._lock:
            if uid in self.tasks:
                raise ApiError(
                    400,
                    "conflictTaskUUID",
                    f"a task with taskUUID {uid} already exists",
                    "taskUUID",
                )
        cost = self._validate_video(task)
        prompt = str(task.get("positivePrompt"))
        with self._lock:
            if uid in self.tasks:  # re-check under the lock
                raise ApiError(
                    400,
                    "conflictTaskUUID",
                    f"a task with taskUUID {uid} already exists",
                    "taskUUID",
                )
            if self.balance is not None and self.balance < cost:
                raise ApiError(
                    402,
                    "insufficientCredits",
                    f"insufficient credits: this task costs ${cost:.2f}, the "
                    f"balance is ${self.balance:.2f}",
                )
            if self.balance is not None:
                self.balance = round(self.balance - cost, 6)
            now = time.monotonic()
            em = EmTask(uid, task, cost, now, now + self.config.latency)
            fault = self.faults.take(("error",), "videoInference", prompt)
            if fault is not None:
                em.error = {"code": fault.code, "message": fault.message}
            em.nsfw = self.faults.take(("nsfw",), "videoInference", prompt) is not None
            self.tasks[uid] = em
            self.ledger.append(
                {
                    "taskUUID": uid,
                    "model": task.get("model"),
                    "cost": cost,
                    "duration": task.get("duration"),
                    "numberResults": task.get("numberResults", 1),
                    "prompt": prompt[:80],
                    "at": time.time(),
                }
            )
        if em.error is None:
            em.render = self._pool.submit(self._render, em)
        return {"taskType": "videoInference", "taskUUID": uid}

    def _validate_video(self, t: dict[str, Any]) -> float:
        model = t.get("model")
        profile = PROFILES.get(str(model))
        if profile is None:
            raise ApiError(400, "invalidModel", f"unknown model {model!r}", "model")
        for k in t:
            if k not in SORA_PARAMS:
                raise ApiError(400, "unknownParameter", f"unknown parameter {k!r}", k)
        prompt = t.get("positivePrompt")
        lo, hi = profile.prompt_chars
        if not isinstance(prompt, str) or not lo <= len(prompt) <= hi:
            raise ApiError(
                400,
                "invalidPositivePrompt",
                f"positivePrompt must be a string of {lo} to {hi} characters",
                "positivePrompt",
            )
        inputs = t.get("inputs") or {}
        if not isinstance(inputs, dict):
            raise ApiError(400, "invalidInputs", "inputs must be an object", "inputs")
        for k in inputs:
            if k not in INPUT_PARAMS:
                raise ApiError(
                    400, "unknownParameter", f"unknown parameter inputs.{k}", f"inputs.{k}"
                )
        has_w, has_h = "width" in t, "height" in t
        frames = inputs.get("frameImages")
        video_id = inputs.get("videoId")
        if has_w != has_h:
            raise ApiError(
                400,
                "invalidDimensions",
                "width and height must be used together",
                "width" if has_w else "height",
            )
        if video_id is not None:
            if has_w or frames:
                raise ApiError(
                    400,
                    "incompatibleParameters",
                    "when inputs.videoId is provided, "
                    "width/height and inputs.frameImages cannot be used",
                    "inputs.videoId",
                )
            if "extend" not in profile.continuity:
                raise ApiError(
                    400,
                    "unsupportedParameter",
                    f"{profile.name} does not accept inputs.videoId",
                    "inputs.videoId",
                )
            if video_id not in self.video_ids:
                raise ApiError(
                    400, "invalidVideoId", f"unknown videoId {video_id!r}", "inputs.videoId"
                )
        elif not has_w and not frames:
            raise ApiError(
                400,
                "missingDimensions",
                "either provide inputs.frameImages, or specify width/height",
                "width",
            )
        if has_w and (t["width"], t["height"]) not in profile.sizes:
            raise ApiError(
                400,
                "invalidDimensions",
                f"unsupported dimensions {t['width']}x"
                f"{t['height']}; supported: {profile.sizes_text()}",
                "width",
            )
        if frames is not None:
            if not isinstance(frames, list) or len(frames) != 1:
                raise ApiError(
                    400,
                    "invalidFrameImages",
                    "this model only supports the first frame: give exactly one frame image",
                    "inputs.frameImages",
                )
            f = frames[0]
            if isinstance(f, dict) and f.get("frame", "first") not in ("first", 0):
                raise ApiError(
                    400,
                    "invalidFrameImages",
                    "this model only supports the first frame",
                    "inputs.frameImages.frame",
                )
        duration = t.get("duration", profile.durations[0])
        if duration not in profile.durations:
            raise ApiError(
                400,
                "invalidDuration",
                f"duration must be one of {profile.durations_text()}",
                "duration",
            )
        n = t.get("numberResults", 1)
        if (
            not isinstance(n, int)
            or not profile.number_results[0] <= n <= profile.number_results[1]
        ):
            raise ApiError(
                400, "invalidNumberResults", "numberResults must be 1 to 4", "numberResults"
            )
        q = t.get("outputQuality", 95)
        if not isinstance(q, int) or not profile.quality[0] <= q <= profile.quality[1]:
            raise ApiError(
                400, "invalidOutputQuality", "outputQuality must be 20 to 99", "outputQuality"
            )
        if t.get("outputFormat", "MP4") not in profile.formats:
            raise ApiError(
                400, "invalidOutputFormat", "outputFormat must be MP4, WEBM or MOV", "outputFormat"
            )
        if t.get("outputType", "URL") != "URL":
            raise ApiError(400, "invalidOutputType", "outputType must be URL", "outputType")
        if "ttl" in t and (not isinstance(t["ttl"], int) or t["ttl"] < profile.ttl_min):
            raise ApiError(400, "invalidTtl", f"ttl must be at least {profile.ttl_min}", "ttl")
        if t.get("deliveryMethod", "async") != "async":
            raise ApiError(
                400,
                "invalidDeliveryMethod",
                "video tasks need deliveryMethod async",
                "deliveryMethod",
            )
        if has_w:
            price = profile.price(t["width"], t["height"])
        else:
            price = max(profile.price_per_second.values())
        return round(float(duration) * price * n, 6)

    def _render(self, em: EmTask) -> list[dict[str, Any]]:
        t = em.request
        profile = PROFILES[str(t["model"])]
        fmt = str(t.get("outputFormat", "MP4"))
        ext = EXTENSIONS[fmt]
        inputs = t.get("inputs") or {}
        source: Path | None = self.video_ids.get(inputs.get("videoId", ""))
        first: bytes | None = None
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
        if self.config.draft and source is None:
            w, h = max(16, w // 4 // 2 * 2), max(16, h // 4 // 2 * 2)
        fps = 10 if self.config.draft else profile.fps
        items = []
        for k in range(int(t.get("numberResults", 1))):
            seed = int(hashlib.sha256(f"{em.uuid}:{k}".encode()).hexdigest()[:8], 16)
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
            item: dict[str, Any] = {
                "taskType": "videoInference",
                "taskUUID": em.uuid,
                "status": "success",
                "videoUUID": video_uuid,
                "videoURL": f"{self.url}/videos/{dest.name}",
                "seed": seed,
                "NSFWContent": em.nsfw,
                "outputs": {"videoId": video_id},
            }
            if t.get("includeCost"):
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

    def _get_response(self, task: dict[str, Any]) -> list[dict[str, Any]]:
        uid = str(task.get("taskUUID") or "")
        with self._lock:
            em = self.tasks.get(uid)
        if em is None:
            raise ApiError(404, "taskNotFound", f"no task with taskUUID {uid}", "taskUUID")
        em.polls += 1
        now = time.monotonic()
        done = now >= em.ready_at and (em.render is None or em.render.done())
        if not done:
            progress = min(
                99, int(100 * (now - em.accepted_at) / max(1e-6, em.ready_at - em.accepted_at))
            )
            return [
                {
                    "taskType": "videoInference",
                    "taskUUID": uid,
                    "status": "processing",
                    "progress": progress,
                }
            ]
        if em.finished_at is None:
            finished = em.ready_at
            if em.rendered_at is not None:
                finished = max(finished, em.rendered_at)
            em.finished_at = finished
        if em.noticed_at is None:
            em.noticed_at = now
        if em.error is not None:
            with self._lock:
                for c in self.ledger:
                    if c["taskUUID"] == uid:
                        c["refunded"] = True
            raise ApiError(200, em.error["code"], em.error["message"])
        assert em.render is not None
        try:
            return em.render.result()
        except Exception as e:  # noqa: BLE001 - a render failure is a provider error
            raise ApiError(500, "inferenceError", f"the emulator failed to render: {e}") from None

    def _upload(self, task: dict[str, Any]) -> dict[str, Any]:
        uid = str(task.get("taskUUID") or "")
        _require_uuid(uid)
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
        return {
            "taskType": "imageUpload",
            "taskUUID": uid,
            "imageUUID": image_uuid,
            "imageURL": f"{self.url}/images/{image_uuid}.png",
        }

    def timings(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {
                    "taskUUID": e.uuid,
                    "finished_at": e.finished_at,
                    "noticed_at": e.noticed_at,
                    "polls": e.polls,
                    "accepted_at": e.accepted_at,
                }
                for e in self.tasks.values()
            ]


def _require_uuid(uid: str) -> None:
    try:
        uuid.UUID(uid)
    except ValueError:
        raise ApiError(400, "invalidTaskUUID", "taskUUID must be a UUID v4", "taskUUID") from None


class _Handler(BaseHTTPRequestHandler):
    emu: Emulator
    protocol_version = "HTTP/1.1"
    server_version = "storyboard-emulator"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        path = self.path.split("?")[0].rstrip("/")
        if path == "/_emulator/faults":
            spec = json.loads(raw or b"[]")
            for f in spec if isinstance(spec, list) else [spec]:
                self.emu.add_fault(Fault(**f))
            self._send_json(200, {"faults": self.emu.faults.to_json()})
            return
        if path not in ("/v1", ""):
            self._send_json(404, {"errors": [{"code": "notFound", "message": "POST /v1"}]})
            return
        emu = self.emu
        emu.requests += 1
        try:
            tasks = json.loads(raw)
        except json.JSONDecodeError:
            self._send_json(400, {"errors": [{"code": "invalidJSON", "message": "invalid JSON"}]})
            return
        types = (
            {t.get("taskType") for t in tasks if isinstance(t, dict)}
            if isinstance(tasks, list)
            else set()
        )
        ttype = "videoInference" if "videoInference" in types else next(iter(types), None)
        prompt = (
            next(
                (
                    t.get("positivePrompt")
                    for t in tasks
                    if isinstance(t, dict) and t.get("positivePrompt")
                ),
                None,
            )
            if isinstance(tasks, list)
            else None
        )
        fault = emu.faults.take(("latency",), ttype, prompt)
        if fault is not None:
            time.sleep(fault.delay)
        fault = emu.faults.take(("status",), ttype, prompt)
        if fault is not None:
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = f"{fault.retry_after:g}"
            code = "rateLimitExceeded" if fault.status == 429 else "serverError"
            self._send_json(
                fault.status, {"errors": [{"code": code, "message": fault.message}]}, headers
            )
            return
        drop = emu.faults.take(("drop",), ttype, prompt)
        auth = self.headers.get("Authorization", "")
        bearer = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        try:
            status, body = emu.handle_tasks(tasks, bearer)
        except ApiError as e:
            status, body = (
                e.status,
                {
                    "errors": [
                        {
                            "code": e.code,
                            "message": e.message,
                            **({"parameter": e.parameter} if e.parameter else {}),
                        }
                    ]
                },
            )
        if drop is not None:  # the server did the work; the answer is lost
            self._drop()
            return
        self._send_json(status, body)

    def do_DELETE(self) -> None:  # noqa: N802
        if self.path.rstrip("/") == "/_emulator/faults":
            self.emu.faults.clear()
            self._send_json(200, {"faults": []})
        else:
            self._send_json(404, {})

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?")[0]
        emu = self.emu
        if path == "/_emulator/ledger":
            with emu._lock:
                self._send_json(200, {"charges": list(emu.ledger), "balance": emu.balance})
            return
        if path == "/_emulator/tasks":
            self._send_json(200, {"tasks": emu.timings(), "requests": emu.requests})
            return
        if path.startswith("/videos/"):
            name = path.rsplit("/", 1)[-1]
            file = emu.workdir / "videos" / name
            if "/" in name or not file.is_file() or ".part." in name:
                self._send_json(404, {"errors": [{"code": "notFound", "message": name}]})
                return
            self._send_file(file)
            return
        self._send_json(404, {"errors": [{"code": "notFound", "message": path}]})

    def _send_file(self, file: Path) -> None:
        emu = self.emu
        fault = emu.faults.take(("status",), "download")
        if fault is not None:
            self._send_json(
                fault.status, {"errors": [{"code": "serverError", "message": fault.message}]}
            )
            return
        data = file.read_bytes()
        ctype = {"mp4": "video/mp4", "webm": "video/webm", "mov": "video/quicktime"}.get(
            file.suffix.lstrip("."), "application/octet-stream"
        )
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if emu.faults.take(("truncate",), "download") is not None:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self._drop()
            return
        slow = emu.faults.take(("slow",), "download")
        if slow is not None:
            step = max(1024, slow.rate // 20)
            for i in range(0, len(data), step):
                self.wfile.write(data[i : i + step])
                self.wfile.flush()
                time.sleep(step / slow.rate)
            return
        self.wfile.write(data)
