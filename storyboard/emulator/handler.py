"""The emulator's HTTP side: routes, auth header, fault injection on the wire."""

from __future__ import annotations

import json
import socket
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Protocol

from .bodies import MAX_FAULTS_BODY, MAX_TASKS_BODY, BodyError, faults_from, parse, read_body
from .faults import Fault, FaultBook
from .rules import ApiError


class Service(Protocol):
    """What the HTTP side needs of the emulator (``server.Emulator``; no import back)."""

    faults: FaultBook
    requests: int
    workdir: Path
    images: dict[str, bytes]

    def add_fault(self, fault: Fault) -> None: ...
    def handle_tasks(self, tasks: Any, bearer: str | None) -> tuple[int, dict[str, Any]]: ...
    def ledger_json(self) -> dict[str, Any]: ...
    def hello(self) -> dict[str, Any] | None: ...
    def timings(self) -> list[dict[str, Any]]: ...


class Handler(BaseHTTPRequestHandler):
    emu: Service
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

    def _refuse(self, e: BodyError) -> None:
        """Answer a refused body in Runware's error shape; the rest of an unread body makes
        the connection unusable, so it is closed after the answer."""
        self.close_connection = True
        code = "payloadTooLarge" if e.status == 413 else "invalidJSON"
        self._send_json(e.status, {"errors": [{"code": code, "message": e.message}]})

    def do_POST(self) -> None:  # noqa: N802
        path = self.path.split("?")[0].rstrip("/")
        limit = MAX_FAULTS_BODY if path == "/_emulator/faults" else MAX_TASKS_BODY
        try:
            raw = read_body(self.headers.get("Content-Length"), self.rfile, limit)
            if path == "/_emulator/faults":
                for added in faults_from(raw):
                    self.emu.add_fault(added)
                self._send_json(200, {"faults": self.emu.faults.to_json()})
                return
        except BodyError as e:
            self._refuse(e)
            return
        if path not in ("/v1", ""):
            self._send_json(404, {"errors": [{"code": "notFound", "message": "POST /v1"}]})
            return
        emu = self.emu
        emu.requests += 1
        try:
            tasks = parse(raw, "the request body")
        except BodyError as e:
            self._refuse(e)
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
        if emu.faults.take(("cut",), ttype, prompt) is not None:
            self._drop()  # the request is never processed: nothing accepted, nothing charged
            return
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
                            **({"taskType": e.task_type} if e.task_type else {}),
                        }
                    ]
                },
            )
        emu.faults.note_conflicts(body)
        if drop is not None:  # the server did the work; the answer is lost
            self._drop()
            return
        late = emu.faults.take(("latency",), ttype, prompt, after=True)
        if late is not None:  # the work is done (and charged); the answer comes late
            time.sleep(late.delay)
        lost = emu.faults.take(("status",), ttype, prompt, after=True)
        if lost is not None:
            self._send_json(
                lost.status, {"errors": [{"code": "serverError", "message": lost.message}]}
            )
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
        if path == "/_emulator/hello" and (hello := emu.hello()) is not None:
            self._send_json(200, hello)
            return
        if path == "/_emulator/ledger":
            self._send_json(200, emu.ledger_json())
            return
        if path == "/_emulator/faults":
            self._send_json(200, {"faults": emu.faults.to_json(), "log": emu.faults.log()})
            return
        if path == "/_emulator/tasks":
            self._send_json(200, {"tasks": emu.timings(), "requests": emu.requests})
            return
        if path.startswith("/images/"):
            name = path.rsplit("/", 1)[-1]
            data = emu.images.get(name.split(".")[0]) if "/" not in path[8:] else None
            if not data:
                self._send_json(404, {"errors": [{"code": "notFound", "message": name}]})
                return
            self.send_response(200)
            ext = name.rsplit(".", 1)[-1]
            self.send_header("Content-Type", f"image/{'jpeg' if ext == 'jpg' else ext}")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if path.startswith(("/videos/", "/audio/")):
            name = path.rsplit("/", 1)[-1]
            file = emu.workdir / path.split("/")[1] / name
            if "/" in name or not file.is_file() or ".part." in name:
                self._send_json(404, {"errors": [{"code": "notFound", "message": name}]})
                return
            self._send_file(file)
            return
        self._send_json(404, {"errors": [{"code": "notFound", "message": path}]})

    def _send_file(self, file: Path) -> None:
        emu = self.emu
        late = emu.faults.take(("latency",), "download")
        if late is not None:
            time.sleep(late.delay)
        if emu.faults.take(("cut",), "download") is not None:
            self._drop()  # not a byte of the file is sent
            return
        fault = emu.faults.take(("status",), "download")
        if fault is not None:
            self._send_json(
                fault.status, {"errors": [{"code": "serverError", "message": fault.message}]}
            )
            return
        try:
            data = file.read_bytes()
        except OSError:  # gone while a fault held it back (the emulator stopping): not found
            self._send_json(404, {"errors": [{"code": "notFound", "message": file.name}]})
            return
        emu.faults.note_served(file.name, data)
        ctype = {
            "mp4": "video/mp4",
            "webm": "video/webm",
            "mov": "video/quicktime",
            "mp3": "audio/mpeg",
            "wav": "audio/wav",
            "flac": "audio/flac",
            "ogg": "audio/ogg",
        }.get(file.suffix.lstrip("."), "application/octet-stream")
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
