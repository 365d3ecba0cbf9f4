"""``storyboard review``: a local web page of the storyboard, its takes and the film.

Loopback only. Every request must carry the random token printed in the page's URL (``?token=``
or an ``X-Token`` header) and name this server as its Host (no DNS rebinding); anything else is
refused with 403, static files and media included. Media are served only from inside the
project folder, with HTTP Range requests so the videos seek.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import secrets
import socket
import threading
import time
from collections.abc import Callable
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from storyboard.api import WriterBusy
from storyboard.api.results import money_words, placeholder_words
from storyboard.errors import StoryboardError
from storyboard.files import resolve_inside

from .bodies import BadRequest, pick_request, read_json, render_request, retake_list
from .library import ReviewProject
from .page import film_tracks, fingerprint

Log = Callable[[str], None]
STATIC = ("app.js", "app.css")
MEDIA = {".mp4", ".webm", ".mov", ".m4a", ".mp3", ".wav", ".png", ".jpg", ".jpeg", ".srt", ".vtt"}
POLL_SECONDS = 0.5


class TokenGate:
    """Refuses (403) every request without the token or addressed to another host."""

    def __init__(self, app: ASGIApp, token: str, hosts: set[str]) -> None:
        self.app = app
        self.token = token
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self._allowed(scope):
            await Response("forbidden\n", 403, media_type="text/plain")(scope, receive, send)
            return

        async def send_private(message: Message) -> None:
            if message["type"] == "http.response.start":
                # the token is in the page's address: never hand it on, never cache answers
                extra = [(b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY")]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_private)

    def _allowed(self, scope: Scope) -> bool:
        req = Request(scope)
        if req.headers.get("host", "") not in self.hosts:
            return False
        given = req.query_params.get("token") or req.headers.get("x-token") or ""
        return secrets.compare_digest(given.encode(), self.token.encode())


class Jobs:
    """The server's own long actions (render, retake): one at a time, in a worker thread."""

    def __init__(self) -> None:
        self.current: dict[str, Any] | None = None
        self.last: dict[str, Any] | None = None
        self.thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self, what: str, fn: Callable[[], Any]) -> bool:
        with self._lock:
            if self.current is not None:
                return False
            self.current = {"what": what, "started": time.time()}
        self.thread = threading.Thread(target=self._run, args=(what, fn), daemon=True)
        self.thread.start()
        return True

    def _run(self, what: str, fn: Callable[[], Any]) -> None:
        result: dict[str, Any] = {"what": what, "ok": True, "message": "done"}
        try:
            out = fn()
            result["message"] = str(out) if out is not None else "done"
        except StoryboardError as e:
            result.update(ok=False, message=str(e))
        except Exception as e:  # a bug must not kill the server: show it on the page
            result.update(ok=False, message=f"{type(e).__name__}: {e}")
        with self._lock:
            self.current = None
            self.last = result

    def view(self) -> dict[str, Any]:
        return {"current": self.current, "last": self.last}


def _static(name: str) -> bytes:
    return resources.files("storyboard.review").joinpath("static", name).read_bytes()


def build_app(project: ReviewProject, token: str, port: int) -> Starlette:
    """The review app for ``project``; ``port`` is where it listens (for the Host check)."""
    jobs = Jobs()
    root = project.root.resolve()
    main = project

    def film(request: Request) -> ReviewProject:
        """The film the page asks about (``?variant=NAME``; default the main film)."""
        return main.for_variant(request.query_params.get("variant"))

    async def index(request: Request) -> Response:
        page = _static("index.html").replace(b"{{token}}", token.encode())
        return Response(page, media_type="text/html; charset=utf-8")

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            return Response("not found\n", 404, media_type="text/plain")
        kind = "text/css" if name.endswith(".css") else "text/javascript"
        return Response(_static(name), media_type=f"{kind}; charset=utf-8")

    async def state(request: Request) -> Response:
        try:
            data = await asyncio.to_thread(film(request).snapshot)
        except StoryboardError as e:
            return JSONResponse({"error": str(e)}, 400)
        data["jobs"] = jobs.view()
        return JSONResponse(data)

    async def plan(request: Request) -> Response:
        retake = [s for s in request.query_params.getlist("retake") if s]
        try:
            retake_list(retake, await asyncio.to_thread(film(request).scene_ids))
            offer = await asyncio.to_thread(film(request).offer, retake)
        except StoryboardError as e:
            return JSONResponse({"error": str(e)}, 400)
        return JSONResponse(dataclasses.asdict(offer))

    async def pick(request: Request) -> Response:
        try:
            data = await read_json(request)
            scenes = await asyncio.to_thread(film(request).scene_ids)
            scene, take = pick_request(data, scenes)
            down, warnings, kept = await asyncio.to_thread(film(request).pick, scene, take)
        except BadRequest as e:
            return JSONResponse({"error": str(e)}, e.status)
        except WriterBusy as e:
            return JSONResponse({"error": str(e)}, 409)
        except StoryboardError as e:
            return JSONResponse({"error": str(e)}, 400)
        return JSONResponse(
            {"scene": scene, "take": take, "stale": down, "warnings": warnings, "kept": kept}
        )

    async def render(request: Request) -> Response:
        try:
            data = await read_json(request)
            scenes = await asyncio.to_thread(film(request).scene_ids)
            asked = render_request(data, scenes)
        except BadRequest as e:
            return JSONResponse({"error": str(e)}, e.status)
        except StoryboardError as e:
            return JSONResponse({"error": str(e)}, 400)
        retake, budget = asked.retake, asked.budget
        what = f"retake {', '.join(retake)}" if retake else "render"
        chosen = film(request)
        if chosen.variant != "main":
            what += f" ({chosen.variant})"

        def run() -> str:
            done = chosen.render(retake, budget)
            if done.failed:
                raise StoryboardError("; ".join(f"{s}: {why}" for s, why in done.failed.items()))
            made = ", ".join(done.generated) or "nothing was stale"
            money = money_words(done.spent) if done.real else placeholder_words(done.spent)
            return f"{what}: {made}; spent {money}"

        if not jobs.start(what, run):
            return JSONResponse({"error": "a render from this page is already running"}, 409)
        return JSONResponse({"started": what}, 202)

    async def events(request: Request) -> Response:
        async def stream():  # type: ignore[no-untyped-def]
            last: tuple | None = None
            quiet = 0.0
            while not await request.is_disconnected():
                now = fingerprint(project.root, project.file), json.dumps(jobs.view())
                if now != last:
                    last = now
                    quiet = 0.0
                    yield "event: changed\ndata: {}\n\n"
                elif quiet >= 15:
                    quiet = 0.0
                    yield ": keep-alive\n\n"
                await asyncio.sleep(POLL_SECONDS)
                quiet += POLL_SECONDS

        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

    async def media(request: Request) -> Response:
        rel = request.path_params["path"]
        if "\x00" in rel:
            return Response("not found\n", 404, media_type="text/plain")
        p = resolve_inside(root, rel)
        hidden = rel.startswith(".") or "/." in rel
        if p is None or hidden or p.suffix.lower() not in MEDIA or not p.is_file():
            return Response("not found\n", 404, media_type="text/plain")
        return FileResponse(p, headers={"Cache-Control": "no-cache"})

    async def tracks(request: Request) -> Response:
        captions, chapters = await asyncio.to_thread(film_tracks, film(request))
        text = chapters if request.path_params["kind"] == "chapters" else captions
        return Response(text, media_type="text/vtt; charset=utf-8")

    routes = [
        Route("/", index),
        Route("/static/{name}", static),
        Route("/api/state", state),
        Route("/api/plan", plan),
        Route("/api/pick", pick, methods=["POST"]),
        Route("/api/render", render, methods=["POST"]),
        Route("/api/events", events),
        Route("/media/{path:path}", media),
        Route("/film/{kind:str}.vtt", tracks),
    ]
    app = Starlette(routes=routes)
    app.state.jobs = jobs
    hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}
    app.add_middleware(TokenGate, token=token, hosts=hosts)
    return app


def listen(port: int = 0) -> socket.socket:
    """A loopback socket on ``port`` (0: a free one)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as e:
        sock.close()
        raise StoryboardError(f"cannot listen on 127.0.0.1:{port}: {e.strerror or e}") from None
    sock.listen(64)
    return sock


class ReviewServer:
    """The review page served from a background thread (``with ReviewServer(p) as s: s.url``)."""

    def __init__(self, project: ReviewProject, port: int = 0, token: str | None = None) -> None:
        import uvicorn

        self.project = project
        self.token = token or secrets.token_urlsafe(18)
        self.sock = listen(port)
        self.port = self.sock.getsockname()[1]
        app = build_app(project, self.token, self.port)
        config = uvicorn.Config(
            app, log_level="warning", timeout_graceful_shutdown=1, lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The page's address, token included."""
        return f"http://127.0.0.1:{self.port}/?token={self.token}"

    def run(self) -> None:
        """Serve until interrupted (in this thread)."""
        self.server.run(sockets=[self.sock])

    def start(self) -> ReviewServer:
        self._thread = threading.Thread(target=self.run, daemon=True)
        self._thread.start()
        while not self.server.started and self._thread.is_alive():
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.sock.close()

    def __enter__(self) -> ReviewServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(
    project: ReviewProject, port: int = 0, open_browser: bool = False, log: Log = print
) -> None:
    """Run the review page until Ctrl-C; prints its address (with the token) to stdout."""
    server = ReviewServer(project, port)
    print(server.url, flush=True)
    log(f"reviewing {project.file} (Ctrl-C to stop); only this address (with its token) works")
    if open_browser:
        import webbrowser

        threading.Timer(0.5, webbrowser.open, args=(server.url,)).start()
    try:
        server.run()
    finally:
        server.sock.close()
