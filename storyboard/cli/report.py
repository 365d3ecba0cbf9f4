"""Plain-text tables for the terminal (plan, status, takes)."""

from __future__ import annotations

from collections.abc import Sequence

from storyboard.api import CatalogueModel, ModelInfo, PlanResult
from storyboard.money import usd


def table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int] | None = None
) -> str:
    """A fixed-width text table."""
    right = right or set()
    widths = [len(h) for h in headers]
    for r in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, r, strict=True)]

    def fmt(r: Sequence[str]) -> str:
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    lines = [fmt(headers), "  ".join("-" * w for w in widths)]
    lines += [fmt(r) for r in rows]
    return "\n".join(lines)


def continuity_text(mode: str, source: str | None) -> str:
    """``mode <- source`` (or just the mode for an independent scene)."""
    return f"{mode} <- {source}" if source else mode


def plan_table(plan: PlanResult) -> str:
    """Scene, continuity, duration, cost; totals of what would really be generated."""
    rows = []
    models = sorted({s.model for s in plan.scenes if s.model})
    mixed = len(models) > 1
    for s in plan.scenes:
        takes = f" x{s.takes}" if s.takes > 1 else ""
        cost = (usd(s.cost) if s.price_known else "unknown") if s.generate else "cached"
        action = "generate" if s.generate else "re-download" if s.fetch else "up to date"
        if s.later:  # a plan of `render --boards`: the clip is made by a later render
            cost, action = "-", "later (no clips with --boards)"
        row = [s.scene, continuity_text(s.mode, s.source), f"{s.duration:g} s{takes}", cost]
        rows.append(row + ([s.model] if mixed else []) + [action])
    head = ["scene", "continuity", "duration", "cost"] + (["model"] if mixed else []) + ["action"]
    out = table(head, rows, right={2, 3})
    if plan.images:
        out += "\n\n" + images_table(plan)
    if plan.sounds:
        out += "\n\n" + sounds_table(plan)
    who = f"models {', '.join(models)}" if mixed else f"{plan.model_name} ({plan.model})"
    if not mixed and models and models[0] != plan.model:
        who = models[0]
    out += f"\n\n{who} at {plan.size}: {plan.seconds:g} s to generate, {usd(plan.cost)}"
    if plan.note:
        out += f"\nnote: {plan.note}"
    return out


def images_table(plan: PlanResult) -> str:
    """The cast sheets and boards, and the price of each step (issue 17)."""
    rows = [
        [
            i.node,
            i.size,
            ", ".join([*i.waits_for, *i.files]) or "-",
            usd(i.cost) if i.generate or i.boards_only else "cached",
            "generate" if i.generate else "--boards" if i.boards_only else "-",
        ]
        for i in plan.images
    ]
    out = table(["image", "size", "references", "cost", "action"], rows, right={3})
    n = len(plan.images)
    clips = plan.scenes
    secs = sorted({s.duration for s in clips})
    each = f"{secs[0]:g} s" if len(secs) == 1 else "mixed lengths"
    out += (
        f"\nboards: {n} image{'s' if n != 1 else ''} {usd(plan.boards_price)} "
        f"({plan.image_model}; `render --boards` and the animatic); "
        f"clips: {len(clips)} x {each} {usd(plan.clips_price)}"
    )
    return out


def sounds_table(plan: PlanResult) -> str:
    """Voices, music, effects and lip sync with their cost (issue 18)."""
    rows = []
    for s in plan.sounds:
        cost = usd(s.cost)
        cost = (cost if s.priced else "not published") if s.generate else "cached"
        action = "generate" if s.generate else "-"
        if s.later:  # a plan of `render --boards`: made by a later plain render
            cost, action = "-", "later (not with --boards)"
        rows.append(
            [
                s.node,
                s.what,
                s.model + (f" {s.voice}" if s.voice else ""),
                f"{s.seconds:g} s" if s.seconds else "-",
                cost,
                action,
            ]
        )
    out = table(["sound", "what", "model", "length", "cost", "action"], rows, right={3, 4})
    unpriced = sorted({s.model for s in plan.sounds if not s.priced})
    if unpriced:
        out += (
            f"\nnote: no source gives the price of {', '.join(unpriced)}; "
            "the total counts them as $0 (set `price:`, USD per second you expect, and "
            "`--budget` can hold them)"
        )
    return out


def models_table(models: Sequence[ModelInfo]) -> str:
    """``storyboard models``: one row per model with status, price, durations and continuity."""
    rows = []
    for m in models:
        status = m.status + (f" {m.deactivated}" if m.deactivated else "")
        modes = [c for c in ("extend", "last_frame", "end_frame") if c in m.continuity]
        rows.append(
            [m.air, m.name, status, m.price_text, m.durations_text, ", ".join(modes) or "-"]
        )
    return table(["model", "name", "status", "price", "durations (s)", "continuity"], rows)


def models_sources(models: Sequence[ModelInfo]) -> str:
    """``storyboard models --sources``: each model's facts and where each comes from."""
    out = []
    for m in models:
        c = m.catalogue
        src = c.get("sources") or {}
        out.append(f"{m.air}  {m.name}  ({m.status})")
        facts = [
            ("price", m.price_text, src.get("price")),
            ("durations", m.durations_text, src.get("durations") or "runware-sdk registry"),
            ("sizes", ", ".join(m.sizes) or "not stated", src.get("sizes")),
            ("fields", ", ".join(c.get("params", [])), src.get("params")),
            ("continuity", ", ".join(m.continuity), src.get("frames")),
        ]
        for name, value, where in facts:
            out.append(f"  {name}: {value}  [{where or 'no source states it'}]")
        for kind, ref in (c.get("references") or {}).items():
            limit = f", at most {ref['max']}" if ref.get("max") else ""
            out.append(f"  references.{kind}: inputs.{ref['field']}{limit}  [{ref['source']}]")
        for rule in c.get("rules") or ():
            out.append(f"  must not ({rule['id']}): {_rule_text(rule)}  [{rule['source']}]")
    return "\n".join(out)


def _rule_text(rule: dict[str, object]) -> str:
    pair = rule.get("not_together")
    if isinstance(pair, list):
        return f"{pair[0]} with {pair[1]}"
    parts = [f"with {rule.get('if')}"]
    if rule.get("forbid"):
        parts.append("no " + ", ".join(rule["forbid"]))  # type: ignore[arg-type]
    if rule.get("require"):
        parts.append("needs " + ", ".join(rule["require"]))  # type: ignore[arg-type]
    if rule.get("duration_in"):
        parts.append("duration only " + ", ".join(str(d) for d in rule["duration_in"]))  # type: ignore[attr-defined]
    return ": ".join(parts[:1]) + " " + "; ".join(parts[1:])


def other_models(models: Sequence[CatalogueModel], kind: str) -> str:
    """``storyboard models --kind image|audio``: one row per model of that catalogue."""
    if kind == "image":
        head = ["model", "name", "status", "price", "sizes", "reference images"]
        rows = [[m.air, m.name, m.status, m.price_text, *m.detail.values()] for m in models]
        what = "image model(s): for cast sheets and boards (`image_model:` in storyboard.yaml)"
    else:
        head = ["model", "name", "kind", "status", "price", "voices"]
        rows = [[m.air, m.name, m.kind, m.status, m.price_text, *m.detail.values()] for m in models]
        what = "audio model(s): voices, music, sound effects and lip sync"
    return f"{table(head, rows)}\n\n{len(models)} {what}; every fact with its source: --json"
