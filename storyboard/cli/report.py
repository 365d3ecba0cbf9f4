"""Plain-text tables for the terminal (plan, status, takes)."""

from __future__ import annotations

from collections.abc import Sequence

from storyboard.plan.compile import Plan


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
    return f"{mode} <- {source}" if source else mode


def plan_table(plan: Plan, stale: set[str] | None = None) -> str:
    """Scene, continuity, duration, cost; totals of what would really be generated."""
    rows = []
    seconds = 0.0
    dollars = 0.0
    for t in plan.tasks:
        gen = stale is None or t.scene in stale
        if gen:
            seconds += t.duration * t.number_results
            dollars += t.cost
        takes = f" x{t.number_results}" if t.number_results > 1 else ""
        rows.append(
            [
                t.scene,
                continuity_text(t.mode, t.source),
                f"{t.duration:g} s{takes}",
                f"${t.cost:.2f}" if gen else "cached",
                "generate" if gen else "up to date",
            ]
        )
    out = table(["scene", "continuity", "duration", "cost", "action"], rows, right={2, 3})
    p = plan.profile
    out += (
        f"\n\n{p.name} ({p.air}) at {plan.project.board.size}: "
        f"{seconds:g} s to generate, ${dollars:.2f}"
    )
    if not p.exact_price:
        out += f"\nnote: {p.name}'s price is an estimate: {p.price_rule['basis']}"
    return out
