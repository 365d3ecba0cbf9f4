"""The plan's sound tasks as results (issue 18): what each line, the music, each effect and
each lip sync would cost, from the audio catalogue."""

from __future__ import annotations

from storyboard.board.audio_models import estimated_speech_seconds
from storyboard.plan.compile import Plan

from .results import PlannedSound

WHAT = {"line": "voice", "music": "music", "sfx": "effect", "lipsync": "lipsync"}


def planned_sounds(
    plan: Plan, stale: set[str], later: set[str] | None = None
) -> list[PlannedSound]:
    """Every sound node of ``plan`` (``stale``: the nodes a render would generate; ``later``:
    those a plain render makes and this one, ``render --boards``, does not)."""
    out = []
    for t in plan.sounds:
        req = t.request
        speech = req.get("speech") or {}
        model = str(req.get("model"))
        text = str(speech.get("text") or req.get("positivePrompt") or "")
        if speech:
            seconds = estimated_speech_seconds(text)
        else:
            seconds = float(req.get("duration") or 0.0)
        if t.scene.startswith("lipsync:"):
            lines = [plan.node(w) for w in t.waits if w.startswith("line:")]
            seconds = sum(estimated_speech_seconds(w.request["speech"]["text"]) for w in lines)
        out.append(
            PlannedSound(
                node=t.scene,
                what=WHAT[t.scene.split(":")[0]],
                model=model,
                voice=speech.get("voice"),
                text=text,
                seconds=round(seconds, 2),
                cost=t.cost,
                priced=t.price_known,  # the catalogue's price or the storyboard's `price:`
                generate=t.scene in stale,
                waits_for=list(t.waits),
                request=req,
                later=t.scene in (later or ()),
            )
        )
    return out
