"""Per-kind adapters: the only code that knows how one kind of task's output is kept.

The executor schedules nodes of every kind the same way (journal, submit, wait, download,
takes, picks, lock); it asks the node's adapter only what differs by kind: the file extension
of a result, whether the file is a timed medium to probe (its duration) and to thumbnail, and
how a take's file is sent back to the service as an input of another task.

Adding a kind of task (``audioInference``, say) means adding one :class:`Adapter` here and a
catalogue entry for its models (``board/catalogue/``), not a branch in the executor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storyboard.errors import StoryboardError


@dataclass(frozen=True)
class Adapter:
    """What differs between kinds of task once a request is compiled."""

    kind: str  # the plan's node kind: image | audio | video
    task_type: str  # the request's taskType
    default_format: str  # outputFormat when the request names none
    timed: bool  # a clip or a sound: probed for its duration, thumbnailed by frame
    extensions: tuple[tuple[str, str], ...] = ()  # outputFormat -> file extension, if not lower

    def extension(self, request: dict[str, Any]) -> str:
        """The file extension of a result of this request."""
        fmt = str(request.get("outputFormat") or self.default_format).upper()
        return dict(self.extensions).get(fmt, fmt.lower())


ADAPTERS: dict[str, Adapter] = {
    a.kind: a
    for a in (
        Adapter("video", "videoInference", "MP4", timed=True),
        Adapter("image", "imageInference", "JPG", timed=False, extensions=(("JPG", "jpg"),)),
        # issue 18: spoken lines, music, effects (lip sync is a video task). Not "timed" here:
        # the clip prober and thumbnails read pictures; the cut measures a sound's real length
        Adapter("audio", "audioInference", "MP3", timed=False),
    )
}


def adapter(kind: str) -> Adapter:
    """The adapter of a node kind; one clear error for a kind nothing knows."""
    try:
        return ADAPTERS[kind]
    except KeyError:
        raise StoryboardError(
            f"internal: no adapter for tasks of kind {kind!r} (known: {', '.join(ADAPTERS)})"
        ) from None


def take_folder(name: str) -> str:
    """Where a node's takes go under ``build/takes``: ``lamp-room``, ``cast/wren``,
    ``board/lamp-room`` (scene ids are slugs: they never hold a ``:``)."""
    return name.replace(":", "/")


def adapter_for(task_type: str) -> Adapter:
    """The adapter of a journaled request, by its ``taskType``."""
    for a in ADAPTERS.values():
        if a.task_type == task_type:
            return a
    return ADAPTERS["video"]  # journals from before the graph hold only clips
