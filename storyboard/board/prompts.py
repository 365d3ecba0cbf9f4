"""Prompt rendering: a sandboxed jinja2 environment over the project's and the shared templates."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2

from storyboard.board.spec import Project, display_path, where_in_file
from storyboard.errors import Problem, TemplateError
from storyboard.files import shared_templates

from .sandbox import ConfinedLoader, LimitedEnvironment, LimitError, UnsafeTemplate
from .schema import SHOT_FIELDS, TEMPLATE_MARKS, Scene
from .undefined import TracedUndefined, explain, passed_from
from .voices import speaker_of, voices
from .yamlsrc import format_path

SHARED_TEMPLATES = shared_templates()
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
        undefined=TracedUndefined,
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
    ctx.update({k: v for k, v in fields.items() if k not in ("prompt", "template", "cast")})
    ctx["vars"] = {**board.vars, **scene.vars}
    if board.cast:  # the cast (issue 17): {{ cast.wren }} is wren's description
        ctx["cast"] = {name: m.description or name for name, m in board.cast.items()}
        ctx["scene_cast"] = list(scene.cast or [])
    ctx["scene"] = fields
    ctx["title"] = board.title
    # issue 18: a line a voice speaks is not also written into the clip's prompt as speech
    # (the clip would say it twice, and editing it would buy a new clip)
    speaking = voices(project)
    unvoiced = [
        d.model_dump() for d in scene.dialogue if speaker_of(project, d.who) not in speaking
    ]
    ctx["dialogue"] = fields["dialogue"] = unvoiced
    return ctx


def render_prompt(project: Project, env: LimitedEnvironment, index: int) -> str:
    """Render one scene's prompt; whitespace runs collapse to single spaces."""
    scene = project.board.scenes[index]
    ctx = scene_context(project, scene)
    field = "prompt"  # the inline template being rendered: a problem in it is at its line
    try:
        for shot in SHOT_FIELDS:  # hostile H11: `subject: "{{ cast.wren }} ..."` is a template too
            value = ctx.get(shot)
            if isinstance(value, str) and any(mark in value for mark in TEMPLATE_MARKS):
                field = shot  # (hostile helper-30: its problems were put at `prompt`)
                ctx[shot] = ctx["scene"][shot] = env.render(env.from_string(value), ctx)
        field = "prompt"
        if scene.template is not None:
            tmpl = env.get_template(scene.template)
        else:
            assert scene.prompt is not None
            if not any(mark in scene.prompt for mark in TEMPLATE_MARKS):
                return " ".join(scene.prompt.split())  # plain text: nothing to compile
            tmpl = env.from_string(scene.prompt)
        text = env.render(tmpl, ctx)
    except jinja2.TemplateNotFound as e:
        name = e.name or scene.template
        field = "template" if scene.template is not None else "prompt"
        searched = ", ".join(display_path(p) for p in _search_path(env)) or "(no template folders)"
        raise TemplateError(
            [
                project.problem(
                    ("scenes", index, field),
                    f"scene {scene.id!r}: template {name!r} not found (searched {searched})",
                    project.scene_line(index, field),
                )
            ]
        ) from None
    except jinja2.TemplateSyntaxError as e:
        raise TemplateError(
            [
                _problem(
                    project,
                    index,
                    e.filename,
                    e.lineno,
                    field=field,
                    message=f"template syntax error: {e.message}",
                )
            ]
        ) from None
    except jinja2.exceptions.SecurityError as e:
        fname, line = _template_frame(sys.exc_info()[2])
        raise TemplateError(
            [
                _problem(
                    project,
                    index,
                    fname,
                    line,
                    field=field,
                    message=f"blocked by the template sandbox: {e}",
                )
            ]
        ) from None
    except jinja2.UndefinedError as e:
        fname, line = _template_frame(sys.exc_info()[2])
        raise TemplateError(
            [_undefined_problem(project, index, fname, line, e, ctx, field)]
        ) from None
    except (LimitError, UnsafeTemplate, RecursionError, MemoryError) as e:
        fname, line = _template_frame(sys.exc_info()[2])
        msg = str(e) if isinstance(e, LimitError | UnsafeTemplate) else _LIMIT_MESSAGES[type(e)]
        if fname is None and line is None and scene.template is not None:
            raise TemplateError(
                [
                    project.problem(
                        ("scenes", index, "template"),
                        f"scene {scene.id!r}: {msg}",
                        project.scene_line(index, "template"),
                    )
                ]
            ) from None
        raise TemplateError(
            [_problem(project, index, fname, line, field=field, message=msg)]
        ) from None
    except TemplateFail as e:
        fname, line = _template_frame(sys.exc_info()[2])
        raise TemplateError(
            [_problem(project, index, fname, line, field=field, message=str(e))]
        ) from None
    except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as e:
        fname, line = _template_frame(sys.exc_info()[2])
        raise TemplateError(
            [
                _problem(
                    project,
                    index,
                    fname,
                    line,
                    field=field,
                    message=f"template error: {type(e).__name__}: {e}",
                )
            ]
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
    project: Project,
    index: int,
    filename: str | None,
    lineno: int | None,
    message: str,
    field: str = "prompt",
) -> Problem:
    """The problem at a template's line: a template file's, else the inline template's (the
    scene's ``prompt``, or the shot ``field`` being rendered) mapped onto the storyboard."""
    scene = project.board.scenes[index]
    msg = f"scene {scene.id!r}: {message}"
    if filename and filename != "<template>" and filename != INLINE:
        shown = display_path(filename)
        return Problem(shown, lineno, f"scenes[{index}].template", msg)
    # an inline prompt: map the template line onto the storyboard file
    where, _ = where_in_file(project.src, ("scenes", index, field))
    base = project.src.value_line(where)
    line = base + (lineno or 1) - 1 if base is not None else project.scene_line(index)
    return Problem(project.display(), line, format_path(where), msg)


def _undefined_problem(
    project: Project,
    index: int,
    filename: str | None,
    lineno: int | None,
    error: jinja2.UndefinedError,
    ctx: dict[str, Any],
    field: str = "prompt",
) -> Problem:
    """Point at the storyboard line that gave the missing name; the template line comes second."""
    undefined = getattr(error, "undefined", None)
    if undefined is None:
        return _problem(
            project, index, filename, lineno, f"undefined variable: {error.message}", field
        )
    missing, hint, looked_up = explain(undefined, ctx)
    scene = project.board.scenes[index]
    in_file = filename is not None and filename not in ("<template>", INLINE)
    at = f"{display_path(filename)}:{lineno}" if in_file and filename else None
    if looked_up is not None:
        path = passed_from(project.raw, index, looked_up)
        if path is not None:
            tail = f" (looked up at {at})" if at else ""
            return Problem(
                project.display(),
                project.src.line_of(path),
                format_path(path),
                f"scene {scene.id!r}: {missing}{hint}{tail}",
            )
    if at is None:
        return _problem(project, index, filename, lineno, missing + hint, field)
    return project.problem(
        ("scenes", index, "template"),
        f"scene {scene.id!r}: {missing} at {at}{hint}",
        project.scene_line(index, "template"),
    )
