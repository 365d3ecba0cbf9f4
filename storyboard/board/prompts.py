"""Prompt rendering: a sandboxed jinja2 environment over the project's and the shared templates."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2

from storyboard.board.spec import Project, display_path
from storyboard.errors import Problem, TemplateError

from .sandbox import ConfinedLoader, LimitedEnvironment, LimitError, UnsafeTemplate
from .schema import Scene


def _shared_templates() -> Path:
    """The repo's templates/ (editable installs), else the copy installed under share/."""
    repo = Path(__file__).resolve().parents[2] / "templates"
    if repo.is_dir():
        return repo
    return Path(sys.prefix) / "share" / "storyboard" / "templates"


SHARED_TEMPLATES = _shared_templates()
INLINE = "<inline prompt>"


def make_env(
    project_root: Path, *, clock: Callable[[], float] = time.monotonic
) -> LimitedEnvironment:
    """Search path: the project's own ``templates/`` first, then the repo's ``templates/``.

    A template file (symlinks followed) must stay inside its project, or inside the shared
    folder; rendering is limited in size, steps, time and depth (see :mod:`.sandbox`)."""
    folders = [
        (folder, root)
        for folder, root in ((project_root / "templates", project_root), (SHARED_TEMPLATES,) * 2)
        if folder.is_dir()
    ]
    env = LimitedEnvironment(
        clock=clock,
        loader=ConfinedLoader(folders),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
    )
    env.filters["sentence"] = _sentence
    env.globals["fail"] = _fail
    return env


class TemplateFail(Exception):
    """Raised by ``{{ fail("message") }}`` in a template."""


def _fail(message: str) -> str:
    raise TemplateFail(message)


def _sentence(value: Any) -> str:
    """Capitalise and end with a full stop: ``{{ action | sentence }}``."""
    s = str(value).strip()
    if not s:
        return s
    s = s[0].upper() + s[1:]
    return s if s[-1] in ".!?\"'" else s + "."


def scene_context(project: Project, scene: Scene) -> dict[str, Any]:
    """Everything a template can read: the storyboard vars, then the scene's own fields."""
    board = project.board
    fields = scene.model_dump(by_alias=True, exclude={"vars"})
    ctx: dict[str, Any] = {}
    ctx.update(board.vars)
    ctx.update(scene.vars)
    ctx.update({k: v for k, v in fields.items() if k not in ("prompt", "template")})
    ctx["vars"] = {**board.vars, **scene.vars}
    ctx["scene"] = fields
    ctx["title"] = board.title
    ctx["dialogue"] = [d.model_dump() for d in scene.dialogue]
    return ctx


def render_prompt(project: Project, env: LimitedEnvironment, index: int) -> str:
    """Render one scene's prompt; whitespace runs collapse to single spaces."""
    scene = project.board.scenes[index]
    where = f"scenes[{index}]"
    try:
        if scene.template is not None:
            tmpl = env.get_template(scene.template)
        else:
            assert scene.prompt is not None
            tmpl = env.from_string(scene.prompt)
        text = env.render(tmpl, scene_context(project, scene))
    except jinja2.TemplateNotFound as e:
        name = e.name or scene.template
        field = "template" if scene.template is not None else "prompt"
        searched = ", ".join(display_path(p) for p in _search_path(env)) or "(no template folders)"
        raise TemplateError(
            [
                Problem(
                    project.display(),
                    project.scene_line(index, field),
                    f"{where}.{field}",
                    f"scene {scene.id!r}: template {name!r} not found (searched {searched})",
                )
            ]
        ) from None
    except jinja2.TemplateSyntaxError as e:
        raise TemplateError(
            [_problem(project, index, e.filename, e.lineno, f"template syntax error: {e.message}")]
        ) from None
    except jinja2.exceptions.SecurityError as e:
        fname, line = _template_frame(sys.exc_info()[2])
        raise TemplateError(
            [_problem(project, index, fname, line, f"blocked by the template sandbox: {e}")]
        ) from None
    except jinja2.UndefinedError as e:
        fname, line = _template_frame(sys.exc_info()[2])
        raise TemplateError(
            [_problem(project, index, fname, line, f"undefined variable: {e.message}")]
        ) from None
    except (LimitError, UnsafeTemplate, RecursionError, MemoryError) as e:
        fname, line = _template_frame(sys.exc_info()[2])
        msg = str(e) if isinstance(e, LimitError | UnsafeTemplate) else _LIMIT_MESSAGES[type(e)]
        if fname is None and line is None and scene.template is not None:
            raise TemplateError(
                [
                    Problem(
                        project.display(),
                        project.scene_line(index, "template"),
                        f"{where}.template",
                        f"scene {scene.id!r}: {msg}",
                    )
                ]
            ) from None
        raise TemplateError([_problem(project, index, fname, line, msg)]) from None
    except TemplateFail as e:
        fname, line = _template_frame(sys.exc_info()[2])
        raise TemplateError([_problem(project, index, fname, line, str(e))]) from None
    except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as e:
        fname, line = _template_frame(sys.exc_info()[2])
        raise TemplateError(
            [_problem(project, index, fname, line, f"template error: {type(e).__name__}: {e}")]
        ) from None
    return " ".join(text.split())


_LIMIT_MESSAGES: dict[type, str] = {
    RecursionError: "the template recurses too deeply",
    MemoryError: "the template ran out of memory",
}


def _search_path(env: LimitedEnvironment) -> list[str]:
    loader = env.loader
    return list(getattr(loader, "searchpath", []))


def _template_frame(tb: TracebackType | None) -> tuple[str | None, int | None]:
    """The innermost traceback frame that belongs to a template (jinja2 rewrites them)."""
    found: tuple[str | None, int | None] = (None, None)
    while tb is not None:
        code = tb.tb_frame.f_code
        name = code.co_filename
        if name == "<template>" or name.endswith((".j2", ".jinja", ".jinja2", ".txt", ".tmpl")):
            found = (None if name == "<template>" else name, tb.tb_lineno)
        tb = tb.tb_next
    return found


def _problem(
    project: Project, index: int, filename: str | None, lineno: int | None, message: str
) -> Problem:
    scene = project.board.scenes[index]
    msg = f"scene {scene.id!r}: {message}"
    if filename and filename != "<template>" and filename != INLINE:
        shown = display_path(filename)
        return Problem(shown, lineno, f"scenes[{index}].template", msg)
    # an inline prompt: map the template line onto the storyboard file
    path = ("scenes", index, "prompt")
    src = project.src
    base = src.value_line(path)
    if base is None:
        base = src.value_line(("defaults", "prompt"))
    line = base + (lineno or 1) - 1 if base is not None else project.scene_line(index)
    return Problem(project.display(), line, f"scenes[{index}].prompt", msg)
