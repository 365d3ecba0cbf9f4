"""One small exception tree. The CLI catches only :class:`StoryboardError`.

StoryboardError            root: anything a user can cause or fix
├── SpecError              the storyboard file is broken (collects many Problems)
├── TemplateError          a prompt template failed to load or render
├── PlanError              the compiled plan breaks a model rule or the continuity graph
├── GenerationError        the generation service refused or failed a task
│   ├── AuthError          401/403: missing, invalid or unauthorised API key
│   ├── CreditsError       402: not enough credits
│   ├── InvalidRequest     400: the server refused a parameter
│   ├── SafetyError        content refused by the provider's safety checks / NSFW
│   ├── ProviderError      the provider failed or timed out on a task
│   ├── TaskNotFound       the service does not know the task (expired or never accepted)
│   └── TransientError     429/5xx/network trouble that survived every retry
├── BudgetError            a render would cost more than ``--budget``
└── ComposeError           the final cut could not be made
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


class StoryboardError(Exception):
    """Root of every error a user can see. ``str(err)`` is the whole message."""


@dataclass(frozen=True)
class Problem:
    """One problem in a file: ``file:line: where: message``."""

    file: str
    line: int | None
    where: str
    message: str

    def __str__(self) -> str:
        loc = f"{self.file}:{self.line}" if self.line else self.file
        return f"{loc}: {self.where}: {self.message}" if self.where else f"{loc}: {self.message}"


_SCENE_PREFIX = re.compile(r"^scene '([^']*)': ")


def unique(problems: list[Problem]) -> list[Problem]:
    """The problems without repeats, in their order.

    One cause reported for several scenes at the same place (a bad value in ``defaults``, a
    missing shared template) becomes one problem that names the scenes, not one per scene.
    """
    groups: dict[tuple[str, int | None, str, str], list[tuple[Problem, str | None]]] = {}
    for p in problems:
        m = _SCENE_PREFIX.match(p.message)
        rest = p.message[m.end() :] if m else p.message
        group = groups.setdefault((p.file, p.line, p.where, rest), [])
        scene = m.group(1) if m else None
        if all(s != scene for _, s in group):
            group.append((p, scene))
    out: list[Problem] = []
    for (file, line, where, rest), group in groups.items():
        scenes = [s for _, s in group if s is not None]
        if len(group) == 1 or len(scenes) != len(group):
            out.append(group[0][0])
        else:
            names = ", ".join(repr(s) for s in scenes)
            out.append(Problem(file, line, where, f"{rest} (scenes {names})"))
    return out


class ProblemsError(StoryboardError):
    """An error that carries every problem found, printed one per line."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class SpecError(ProblemsError):
    """The storyboard file is invalid (YAML, schema, references)."""

    partial: Any = None  # the board as far as it could be read, for the later stages' checks


class TemplateError(ProblemsError):
    """A prompt template failed to load or render."""


class PlanError(ProblemsError):
    """The plan breaks a model rule or the continuity graph."""


class GenerationError(StoryboardError):
    """The generation service refused or failed a task.

    Carries the server's ``code``, ``message``, ``parameter``, the HTTP ``status`` and, once known,
    the ``scene``. Never carries the API key. ``final`` is True only for the service's definitive
    answer about the task itself (an error result, a refusal, unknown after a grace period):
    outages and timeouts leave a paid task pending, never failed.
    """

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        parameter: str | None = None,
        status: int | None = None,
        task_uuid: str | None = None,
        scene: str | None = None,
        final: bool = False,
    ):
        self.message = message
        self.final = final
        self.code = code
        self.parameter = parameter
        self.status = status
        self.task_uuid = task_uuid
        self.scene = scene
        super().__init__(message)

    def __str__(self) -> str:
        bits = []
        if self.scene:  # a node of another kind by its name: cast:tom, board:a, line:a/1
            is_scene = ":" not in self.scene
            bits.append(f"scene {self.scene!r}" if is_scene else self.scene)
        if self.status and self.status >= 400:
            bits.append(f"HTTP {self.status}")
        if self.code:
            bits.append(self.code)
        head = ", ".join(bits)
        tail = self.message
        if self.parameter:
            tail += f" (parameter: {self.parameter})"
        return f"{head}: {tail}" if head else tail


class AuthError(GenerationError):
    """401/403: the API key is missing, invalid or lacks permission."""


class CreditsError(GenerationError):
    """402: the account has not enough credits."""


class InvalidRequest(GenerationError):
    """400: the server refused a parameter of the task."""


class SafetyError(GenerationError):
    """The provider refused the content (safety filter, NSFW)."""


NSFW_WORDS = "the provider flagged the result as NSFW"  # how a flagged scene's failure begins


class ProviderError(GenerationError):
    """The provider failed or timed out while generating."""


class TaskNotFound(GenerationError):
    """The service does not know the task (never accepted, expired or cancelled)."""


class TransientError(GenerationError):
    """Rate limits, 5xx and network failures that outlasted every retry."""

    retryable = True


class BudgetError(StoryboardError):
    """A render would cost more than the ``--budget`` allows."""


class ComposeError(StoryboardError):
    """The final cut could not be made."""
