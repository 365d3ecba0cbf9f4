"""The review page's view of the tasks that are not clips (issue 17): the cast on top, and each
scene's board on its card beside the clip's takes; the sounds (issue 18): each scene's spoken
lines, effects and lip sync on its card, the music on top, each take playable.

A cast member with pictures of its own shows them; one without has a generated reference sheet
(``cast:NAME``), whose takes are picked and retaken exactly as a clip's are. So is a scene's
board (``board:SCENE``). A board that no clip uses is made only by ``render --boards`` (or a
retake of it from the page); until then it shows as not made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from storyboard.files import SOUND_SUFFIXES

from .page import media_url

if TYPE_CHECKING:
    import storyboard.api as sb
    from storyboard.api.review import Activity

NOT_MADE = "no clip starts from it: render --boards (or Make board here) makes it"
FETCH = "its file is missing or not the one kept: the next render fetches it again (not paid)"
PICTURE = (".png", ".jpg", ".jpeg", ".webp")


def take_rows(takes: list[sb.TakeInfo]) -> list[dict[str, Any]]:
    """Every take of a node (a scene id, ``cast:NAME``, ``board:SCENE``, a sound), for the page."""
    return [
        {
            "n": t.n,
            "url": media_url(t.file, t.created.timestamp()),
            "file": t.file,
            "image": t.file.lower().endswith(PICTURE),
            "audio": t.file.lower().endswith(SOUND_SUFFIXES),  # a line, the music, an effect
            "model": t.model,
            "size": t.size,
            "made": t.created.astimezone().strftime("%Y-%m-%d %H:%M"),
            "cost": t.cost or 0.0,
            "money": t.money,
            "duration": t.duration or 0.0,
            "chosen": t.chosen,
            "current": t.current,
            "film": t.film,
            "missing": t.missing,
            "nsfw": t.nsfw,
        }
        for t in takes
    ]


def reuse(action: str) -> list[str]:
    """``reuse take N``: another take was made from the inputs chosen now; the next render puts
    it back in the cut (it costs nothing)."""
    if not action.startswith("reuse take "):
        return []
    n = action.removeprefix("reuse take ")
    return [f"made from other inputs than those chosen: the next render puts take {n} back"]


def row_state(
    row: sb.SceneStatus, last: Activity | None, writing: bool
) -> tuple[str, list[str], float, str | None]:
    """A task's state on the page, its reasons, since when it is generating and its error: a
    take to fetch again counts as stale (hostile B2), a task sent by a render now running is
    generating, a stale one whose last task failed is failed."""
    fetch = row.action == "re-download"
    state = "stale" if row.stale or fetch else "up to date"
    reasons = [*row.reasons, *reuse(row.action), *([FETCH] if fetch else [])]
    if last and last.state in ("pending", "submitted") and writing:
        return "generating", reasons, last.started, None
    if last and last.state == "failed" and row.stale:
        return "failed", reasons, 0.0, last.error
    return state, reasons, 0.0, None


def _sound_facts(sound: Any) -> dict[str, Any]:
    """What the page says of a sound node besides its state: what it is, the words or the
    prompt, the model (and voice), the planned length."""
    return {
        "what": sound.what,
        "text": sound.text,
        "model": sound.model + (f" {sound.voice}" if sound.voice else ""),
        "seconds": sound.seconds,
        "priced": sound.priced,
    }


class Nodes:
    """The state of every image node, read once per snapshot."""

    def __init__(
        self,
        api: sb.Project,
        plan: sb.PlanResult,
        status: sb.Status,
        journal: dict[str, Activity],
        writing: bool,
        takes: dict[str, list[sb.TakeInfo]],
    ) -> None:
        self.api = api
        self.images = {i.node: i for i in plan.images}
        self.sounds = {s.node: s for s in plan.sounds}
        self.rows = {s.scene: s for s in status.scenes}
        self.journal = journal
        self.writing = writing
        self.takes = takes  # every node's takes, read at once

    def view(self, name: str) -> dict[str, Any] | None:
        """One sheet or board: its state, why, its cost and its takes (None: no such task)."""
        planned = self.images.get(name)
        sound = self.sounds.get(name)
        row = self.rows.get(name)
        if planned is None and sound is None and row is None:
            return None
        cost = planned.cost if planned is not None else sound.cost if sound is not None else 0.0
        last = self.journal.get(name)
        since, error = 0.0, None
        if row is None:  # a board no clip uses, never made
            state, reasons, take, next_cost = "not made", [NOT_MADE], None, 0.0
        elif row.action == "for render --boards":
            state, reasons, take, next_cost = "stale", [NOT_MADE], row.take, 0.0
        else:
            state, reasons, since, error = row_state(row, last, self.writing)
            take, next_cost = row.take, row.next_cost
        return {
            "node": name,
            "status": state,
            "reasons": reasons,
            "error": error,
            "since": since,
            "size": planned.size if planned is not None else None,
            "cost": cost,
            "next_cost": next_cost,
            "take": take,
            "takes": take_rows(self.takes.get(name, [])) if row is not None else [],
            **(_sound_facts(sound) if sound is not None else {}),
        }

    def sounds_of(self, scene: str) -> list[dict[str, Any]]:
        """The scene's spoken lines, effects and lip sync, in the plan's order."""
        mine = (f"line:{scene}/", f"sfx:{scene}/")
        names = [n for n in self.sounds if n.startswith(mine) or n == f"lipsync:{scene}"]
        return [v for n in names if (v := self.view(n)) is not None]

    def music(self) -> dict[str, Any] | None:
        """The generated music (None: a music file, or none)."""
        return self.view("music") if "music" in self.sounds else None

    def board(self, scene: str) -> dict[str, Any] | None:
        return self.view(f"board:{scene}")

    def cast(self) -> list[dict[str, Any]]:
        """The cast, in the storyboard's order: given pictures, or the sheet's takes."""
        out = []
        for member in self.api.cast():
            pictures = [
                {"url": p if p.startswith("https://") else media_url(p), "file": p}
                for p in member.images
            ]
            sheet = self.view(member.node) if member.node else None
            out.append(
                {
                    "name": member.name,
                    "description": member.description,
                    "scenes": member.scenes,
                    "pictures": pictures,
                    "sheet": sheet,
                }
            )
        return out
