"""What :meth:`storyboard.Project.plan` returns: the scenes, the sheets and boards, the prices."""

from __future__ import annotations

from storyboard.plan.compile import Plan

from .results import PlannedImage, PlannedScene, PlanResult
from .sounds import planned_sounds


def _plan_result(
    plan: Plan, stale: set[str], later: set[str] | None = None, fetch: set[str] | None = None
) -> PlanResult:
    """``later``: the images not made by this render that ``render --boards`` would make;
    ``fetch``: the nodes whose take's file the render fetches again (not paid)."""
    p = plan.profile
    scenes = [
        PlannedScene(
            scene=t.scene,
            mode=t.mode,
            source=t.source,
            duration=t.duration,
            takes=t.number_results,
            cost=t.cost,
            generate=t.scene in stale,
            prompt=t.prompt,
            request=t.request,
            model=t.model,
            price_known=t.price_known,
            later=t.scene in (later or ()),
            fetch=t.scene in (fetch or ()),
        )
        for t in plan.tasks
    ]
    boards = plan.wanted(boards=True)
    images = [
        PlannedImage(
            node=t.scene,
            size=f"{t.request['width']}x{t.request['height']}",
            cost=t.cost,
            generate=t.scene in stale,
            waits_for=t.depends_on,
            boards_only=t.scene in (later or ()),
            files=list(t.files),
            prompt=t.prompt,
            request=t.request,
        )
        for t in plan.images
        if t.scene in boards or t.scene in stale
    ]
    return PlanResult(
        model=p.air,
        model_name=p.name,
        size=plan.project.board.size,
        scenes=scenes,
        note=price_note(plan),
        tasks_json=plan.to_json(only=stale),
        warning=plan.deprecation(),
        images=images,
        image_model=plan.project.board.image_model,
        boards_price=round(sum(i.cost for i in images), 4),
        clips_price=round(sum(t.cost for t in plan.tasks), 4),
        sounds=planned_sounds(plan, stale, later),  # issue 18
        film_size=plan.project.board.output.size or plan.project.board.size,
    )


def hold_budget(plan: Plan, stale: set[str], budget: float | None) -> None:
    """Raise :class:`~storyboard.BudgetError` when making the ``stale`` nodes costs more than
    ``budget``, or makes a node no source prices (None: no budget, nothing to check)."""
    from storyboard.generate.staleness import Assessment, check_budget

    if budget is None:
        return
    found = {t.scene: Assessment(t.scene, "", t.scene in stale, cost=t.cost) for t in plan.nodes}
    check_budget(plan, found, budget)


def price_note(plan: Plan) -> str:
    """What the plan's total leaves out or only estimates (unknown and estimated prices)."""
    notes = []
    unpriced = plan.unpriced
    if unpriced:
        from storyboard.generate.staleness import where_priced

        notes.append(
            f"price unknown (no source gives it) for {', '.join(unpriced)}: not in the total; "
            f"set `price:` (USD per second you expect) on {where_priced(plan, unpriced)} to "
            "plan them (a render under --budget that makes one is refused)"
        )
    seen: set[str] = set()
    for t in plan.tasks:
        p = plan.profile_of(t.scene)
        if t.price_known and p.price_rule and not p.exact_price and p.air not in seen:
            seen.add(p.air)
            notes.append(f"{p.name}'s price is an estimate: {p.price_rule.get('basis', '')}")
    return "; ".join(notes)
