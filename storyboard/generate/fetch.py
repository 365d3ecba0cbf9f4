"""Fetching takes: downloads into ``build/takes`` only, hashed, never bought again."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING

from storyboard.errors import GenerationError, StoryboardError
from storyboard.media.gop import layouts_cached
from storyboard.media.probe import probe_cached
from storyboard.media.thumbs import prefill

from .integrity import take_path, written_where_named
from .kinds import take_folder
from .state import EMULATOR, BuildState, Take, maker_class, media_key

if TYPE_CHECKING:
    from .client import RunwareClient
    from .events import Progress
    from .execute import RenderOptions
    from .protocol import VideoResult

GONE = frozenset({403, 404, 410})
"""HTTP statuses of a result link that may be gone for good: an expired presigned link (403), a
file the server no longer has (404, 410). A paid task whose link answers one is bought again
only when its scene is retaken (:meth:`Executor._generate`)."""

# what a paid result that failed to download is called, by its file extension
RESULT_WORD = dict.fromkeys(("png", "jpg", "jpeg", "webp"), "image") | dict.fromkeys(
    ("mp4", "webm", "mov"), "clip"
)


class Fetcher:
    """The download half of the executor (a mixin: :class:`Executor` provides the fields)."""

    root: Path
    state: BuildState
    rep: Progress
    opts: RenderOptions
    _background: list[asyncio.Task[None]]

    @property
    def api(self) -> RunwareClient:  # provided by the executor
        raise NotImplementedError

    async def _redownload(self, take: Take) -> None:
        """Fetch a locked take's file again from its URL; its bytes must match its hash."""
        self.rep.update(take.scene, "downloading", "file missing or damaged: fetching it again")
        assert take.url
        try:
            d = await self.api.download(
                take.url, self._dest(take.file), scene=take.scene, sha256=take.sha256
            )
        except GenerationError as e:
            if self._stopped_emulator(take.url):  # its port is gone for good: helper-42
                e.message += (
                    f"; take {take.n} is a placeholder of an emulator that has stopped (its "
                    f"files lived only while it ran): `storyboard render --retake {take.scene}` "
                    "makes a new one, at no cost"
                )
            elif e.code == "checksumMismatch":  # the same URL gives the same bytes (helper-55)
                e.message += (
                    f"; take {take.n} was not bought again, but its URL no longer serves the "
                    f"file that was paid for: `storyboard render --retake {take.scene}` buys a "
                    "new take"
                )
            else:
                e.message += (
                    f"; take {take.n} was not bought again: render again to retry, or "
                    f"`storyboard render --retake {take.scene}` to buy a new take"
                )
            raise
        self.state.hashes.remember(d.path, d.sha256)

    def _stopped_emulator(self, url: str) -> bool:
        """``url`` is a loopback emulator's other than the one this render talks to (each
        keyless render starts its own, on a new port)."""
        from urllib.parse import urlsplit

        if maker_class(None, url) != EMULATOR:
            return False
        try:
            here, there = urlsplit(self.api.base_url), urlsplit(url)
            return (here.hostname, here.port) != (there.hostname, there.port)
        except ValueError:
            return False

    async def _download_all(
        self,
        scene: str,
        key: str,
        uid: str,
        results: list[VideoResult],
        src_take: Take | None,
        ext: str,
        extend: float | None,
        *,
        made_from: str | None | bool = False,
        timed: bool = True,
    ) -> list[Take]:
        """Download each result of a task as a take (once: a take already on disk is reused).

        ``made_from`` is recorded as the takes' ``source_take`` (default: ``src_take``'s UUID);
        ``timed`` results (clips, sounds) are probed for their duration and thumbnailed."""
        source = (src_take.video_uuid if src_take else None) if made_from is False else made_from
        takes: list[Take] = []
        for r in results:
            existing = self.state.take_by_video(r.video_uuid)
            if existing is not None and self.state.file_ok(existing):
                takes.append(existing)
                continue
            n = existing.n if existing else self.state.next_take_number(scene)
            rel = f"build/takes/{take_folder(scene)}/take-{n}.{ext}"
            self.rep.update(scene, "downloading", f"take {n}")
            try:
                d = await self.api.download(r.video_url, self._dest(rel), scene=scene)
            except GenerationError as e:
                what = RESULT_WORD.get(
                    ext.lower(), "result"
                )  # a clip, an image (issue 17), a sound
                if e.status in GONE:
                    e.message += (
                        f"; the {what} is paid and kept in the journal, but its link may be gone "
                        "for good (a service keeps its results for a limited time): render "
                        f"again to try it once more, or `storyboard render --retake {scene}` to "
                        "buy a new take"
                    )
                else:
                    e.message += (
                        f"; the {what} is paid and kept in the journal: render again to fetch it"
                    )
                raise
            self.state.hashes.remember(d.path, d.sha256)
            duration: float | None = None
            offset = 0.0
            if timed:
                key_ = media_key(d.sha256, d.size)  # probed once, cached for compose
                infos = await asyncio.to_thread(
                    probe_cached, [(d.path, key_)], self.root / "build" / "media"
                )
                duration = infos[d.path].duration
                if extend is not None and src_take is not None:
                    offset = self._extend_offset(duration, extend, src_take)
            take = Take(
                scene=scene,
                n=n,
                key=key,
                source_take=source if isinstance(source, str) else None,
                task_uuid=uid,
                video_uuid=r.video_uuid,
                video_id=r.video_id,
                url=r.video_url,
                file=rel,
                size=d.size,
                sha256=d.sha256,
                cost=r.cost,
                duration=duration,
                offset=offset,
                nsfw=r.nsfw,
                created_at=time.time(),
                made_by=self.opts.made_by,
            )
            self.state.add_take(take)
            takes.append(take)
            if timed:  # contact-sheet thumbnails, made while other scenes generate
                self._background.append(
                    asyncio.create_task(asyncio.to_thread(ready_for_cut, self.root, take))
                )
        return takes

    def _dest(self, rel: str) -> Path:
        return take_dest(self.root, rel)

    def _extend_offset(self, got: float, requested: float, src: Take) -> float:
        """0 when the service returned only the new footage; the source's length when whole."""
        src_len = src.duration or 0.0
        if abs(got - (src_len + requested)) < abs(got - requested):
            self.rep.note(
                f"{src.scene} -> extension returned the whole video ({got:.1f} s); "
                f"the scene uses its last {got - src_len:.1f} s"
            )
            return src_len
        return 0.0


def ready_for_cut(root: Path, take: Take) -> None:
    """What the cut reads of a new take, read while other scenes generate: its contact-sheet
    thumbnails and, for a clip, its stream layout (which GOPs could be copied)."""
    prefill(root, take)
    if Path(take.file).suffix.lower() in (".mp4", ".mov", ".webm", ".mkv"):
        layouts_cached([(root / take.file, take.media_key)], root / "build" / "media")


def take_dest(root: Path, rel: str) -> Path:
    """Where a take is written: inside the project, whatever symlinks lie on the way."""
    path = root / rel
    if take_path(root, rel) is None:
        raise StoryboardError(
            f"{path}: leads outside the project's build/takes folder "
            f"({path.resolve()}); remove the symlink and render again"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StoryboardError(f"cannot write {path}: {e.strerror or e}") from None
    if take_path(root, rel) is None:  # a symlink planted meanwhile
        raise StoryboardError(f"{path}: leads outside the project's build/takes folder")
    if not written_where_named(root, rel):
        raise StoryboardError(
            f"{path}: a link on the way leads to {path.resolve()}; takes are written only "
            "into their own folders (another node's take would be overwritten): remove "
            "the link and render again"
        )
    return path


def copy_take(state: BuildState, root: Path, scene: str, donor: Take) -> Take:
    """``donor`` (a take of another node, of exactly this node's content: a spoken line
    renumbered) copied into ``scene``'s own folder as a take of its own, at no cost; its
    bytes checked against the donor's hash (hostile helper-47: it was voiced again)."""
    import dataclasses
    import hashlib

    from storyboard.files import atomic_write

    src = state.path_of(donor)
    if src is None:
        raise StoryboardError(f"{scene}: {donor.scene}'s take {donor.n} is not in the project")
    data = src.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != donor.sha256:
        raise StoryboardError(f"{scene}: {donor.scene}'s take {donor.n} changed while copied")
    n = state.next_take_number(scene)
    rel = f"build/takes/{take_folder(scene)}/take-{n}.{donor.file.rsplit('.', 1)[-1]}"
    dest = take_dest(root, rel)
    atomic_write(dest, data)
    state.hashes.remember(dest, digest)
    take = dataclasses.replace(
        donor,
        scene=scene,
        n=n,
        file=rel,
        video_uuid=f"{donor.video_uuid}@{scene}",  # one row per take: its own identity
        cost=0.0,
        created_at=time.time(),
    )
    state.add_take(take)
    return take
