"""``storyboard render PROJECT --watch``: re-plan on every save, render only what is stale.

The loop reads batches of file changes from an iterator: by default ``watchfiles.watch`` over
the project (its storyboard, ``templates/`` and ``assets/``) and the shared templates, which
debounces a burst of saves into one batch. Tests pass their own list of batches instead, so no
real time passes. Each round loads the storyboard again, shows the plan and its cost, and
renders through the same API call as ``storyboard render`` with the same budget guard: the
``--budget`` cap applies to every change, and with the real (paid) service a cap is required.
The render runs even when the plan generates nothing (it may put a take already made back in
the cut), and the compose after it runs whenever the film is not the one the lock makes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import storyboard.api as sb
from storyboard.errors import StoryboardError
from storyboard.money import usd

Log = Callable[[str], None]
Batch = set[tuple[Any, str]]  # what watchfiles yields: {(Change, path), ...}
SOURCES = ("templates", "assets")
DEBOUNCE_MS = 400  # saves with less quiet than this between them are one change
MOST_MS = 10_000  # a stream of saves longer than this still yields, every MOST_MS


@dataclass
class Round:
    """One pass of the loop: what changed, what the plan said, what was made."""

    changed: list[str]
    to_generate: list[str] = field(default_factory=list)
    cost: float = 0.0
    generated: list[str] = field(default_factory=list)
    spent: float = 0.0
    error: str | None = None


def shared_templates() -> Path:
    """The shared prompt templates folder (renders read it too, so a save there counts)."""
    from storyboard.api.review import shared_templates as shared

    return shared()


def is_source(root: Path, file: Path, path: str) -> bool:
    """True for a save that can change the plan: the storyboard, templates, assets.

    Build output, the lock, hidden files and editors' swap/backup files are not.
    """
    p = Path(path)
    name = p.name
    if name.startswith((".", "#")) or name.endswith(("~", ".swp", ".swx", ".tmp")):
        return False
    if p == file:
        return True
    try:
        rel = p.relative_to(root)
    except ValueError:
        return True  # outside the project: only the shared templates are watched
    return len(rel.parts) > 1 and rel.parts[0] in SOURCES


def _settled(batches: Iterator[Batch]) -> Iterator[Batch]:
    """watchfiles' batches joined until :data:`DEBOUNCE_MS` pass without a save (at most
    :data:`MOST_MS` of saves in one); its empty batches (a look with nothing new) pass on, so
    the caller gets control while nothing happens."""
    pending: Batch = set()
    first = last = 0.0
    for batch in batches:
        now = time.monotonic()
        if batch:
            if not pending:
                first = now
            pending |= batch
            last = now
        if pending and (now - last >= DEBOUNCE_MS / 1000 or now - first >= MOST_MS / 1000):
            yield pending
            pending = set()
        elif not batch:
            yield batch


def file_changes(
    root: Path, file: Path, stop: object = None, check_ms: int = 1000
) -> Iterator[Batch]:
    """Debounced batches of saves to the project's sources (``watchfiles``).

    Every ``check_ms`` the project folder is looked at again: deleted, or moved away (the
    kernel's watch follows the moved folder), the watch moves to the nearest folder above it
    until the project folder is there again, then watches the new one; its coming back is a
    change (the storyboard may be a new one)."""
    import watchfiles

    logging.getLogger("watchfiles.main").addFilter(_no_python_words)

    def stopped() -> bool:
        return bool(stop is not None and getattr(stop, "is_set", lambda: False)())

    common: dict[str, Any] = {
        # watchfiles' own batches come quickly (after 50 ms without a *new* change: saving the
        # same file again is not one, so its `step` alone cut a stream of saves in two:
        # hostile helper-46); _settled joins them until DEBOUNCE_MS of real quiet
        "debounce": DEBOUNCE_MS,
        "stop_event": stop,
        "raise_interrupt": False,
        "rust_timeout": min(check_ms, DEBOUNCE_MS // 2),  # a look at least this often
        "yield_on_timeout": True,
    }
    while not stopped():
        ident = _identity(root)
        try:
            if ident is None:
                above = _nearest_folder(root)
                for _ in watchfiles.watch(above, recursive=False, **common):
                    if _identity(root) is not None or stopped():
                        break
                if stopped():
                    return
                yield {(watchfiles.Change.added, str(file))}
                continue
            folders = [root]
            shared = shared_templates()
            if shared.is_dir() and not shared.resolve().is_relative_to(root.resolve()):
                folders.append(shared)
            watching = watchfiles.watch(
                *folders, watch_filter=lambda _change, path: is_source(root, file, path), **common
            )
            for batch in _settled(watching):
                if batch:
                    yield batch
                if _identity(root) != ident:
                    break  # deleted or moved away: find it again
            else:
                return  # the stream ended (stop, or Ctrl-C)
        except FileNotFoundError:
            continue  # the folder went away between the look and the watch: look again


def _no_python_words(record: logging.LogRecord) -> bool:
    """Drop watchfiles' own line on Ctrl-C (`KeyboardInterrupt caught, stopping watch`): the
    watch ends in its own words (hostile finding H17)."""
    return not str(record.msg).startswith("KeyboardInterrupt caught")


def _identity(folder: Path) -> tuple[int, int] | None:
    """The folder's device and inode (None when it is not there): a new folder at the same
    path is a new identity."""
    try:
        st = folder.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if folder.is_dir() else None


def _nearest_folder(path: Path) -> Path:
    for above in path.parents:
        if above.is_dir():
            return above
    return Path("/")


class Watcher:
    """Re-plan and render on each batch of changes (see the module text)."""

    def __init__(
        self,
        path: str | Path,
        *,
        budget: float | None = None,
        compose: bool = True,
        draft: bool = False,
        jobs: int = 4,
        log: Log = print,
    ) -> None:
        from storyboard.api.rendering import check_budget_value, check_jobs

        check_jobs(jobs)
        check_budget_value(budget)
        project = sb.load(path)
        if project.real and budget is None:
            raise StoryboardError(
                "render --watch spends on the real Runware service at every save: give a cap "
                "per change with --budget USD"
            )
        self.file = project.file
        self.root = project.root
        self.budget = budget
        self.compose = compose
        self.draft = draft
        self.jobs = jobs
        self.log = log

    def run(self, changes: Iterable[Batch] | None = None) -> list[Round]:
        """One round now, then one per batch of changes until the stream ends (or Ctrl-C)."""
        rounds = [self.round([])]
        stream = changes if changes is not None else file_changes(self.root, self.file)
        for batch in stream:
            changed = sorted(
                {self._show(p) for _c, p in batch if is_source(self.root, self.file, p)}
            )
            if changed:
                rounds.append(self.round(changed))
        return rounds

    def _show(self, path: str) -> str:
        try:
            return str(Path(path).relative_to(self.root))
        except ValueError:
            return path

    def round(self, changed: list[str]) -> Round:
        """Load, plan, and render what is stale (never raising for a broken storyboard)."""
        r = Round(changed)
        if changed:
            self.log(f"changed: {', '.join(changed)}")
        try:
            project = sb.load(self.file)
            plan = project.plan(draft=self.draft)
            r.to_generate = plan.task_names
            r.cost = plan.cost
            if not r.to_generate:
                self.log("plan: nothing to generate")
            else:
                cap = f" (cap {usd(self.budget)})" if self.budget is not None else ""
                self.log(
                    f"plan: {', '.join(r.to_generate)}: {plan.seconds:g} s, {usd(plan.cost)}{cap}"
                )
            # rendered even when nothing is to be generated: the render puts a take already
            # made back in the cut (an edit undone), and collects paid tasks (hostile H30)
            result = project.render(budget=self.budget, draft=self.draft, jobs=self.jobs)
            r.generated = [s.scene for s in result.scenes if s.status == "generated"]
            r.spent = result.spent
            if r.to_generate or r.generated:
                self.log(f"generated {', '.join(r.generated) or 'nothing'}; {result.money}")
            result.raise_for_failures()
            if self.compose:
                done = project.compose()
                if not done.up_to_date:
                    self.log(f"film: {done.film}")
        except StoryboardError as e:
            r.error = str(e)
            self.log(str(e))
        self.log("watching for changes (Ctrl-C to stop)")
        return r
