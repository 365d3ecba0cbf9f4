"""A jinja2 sandbox with limits, so a hostile template fails fast with a clear message.

jinja2's own sandbox stops a template from reaching Python internals; it does not stop one
from using all the memory or time there is (``{{ 'x' * 10**10 }}``, ``lipsum(10**7)``,
nested loops, macros that call themselves). This environment adds, without threads or
signals:

* a budget of steps (loop iterations, calls, operators) and of wall-clock time, checked at
  every step: every ``for`` loop's iterable is wrapped by the code generator;
* a size check *before* any operation that could build a big value (``*``, ``**``, ``+``,
  ``~``, ``%``, ``str.replace``/``join``/``center``..., the filters), and on the output;
* a depth limit for macro calls and a count limit for includes.

A broken limit raises :class:`LimitError`, which the caller reports with the template's
file and line.
"""

from __future__ import annotations

import functools
import os
import posixpath
import re
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.loaders import split_template_path
from jinja2.runtime import LoopContext, Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace, generate_lorem_ipsum

MAX_OUTPUT = 100_000  # characters in any value or in the rendered prompt
MAX_STEPS = 1_000_000  # loop iterations, calls and operators in one render
MAX_SECONDS = 5.0  # wall-clock time of one render
MAX_DEPTH = 50  # nested macro calls
MAX_INCLUDES = 200  # templates included or imported by one render
MAX_RANGE = 10_000  # numbers in one range()
MAX_INT_BITS = 4096  # ints a template may compute
_BIG_WIDTH = re.compile(r"\d{6,}")  # a format width/precision of 100000 or more


class LimitError(Exception):
    """A template broke one of the sandbox's limits."""


class Budget:
    """Steps and seconds left for the render in progress."""

    def __init__(self, clock: Callable[[], float]):
        self.clock = clock
        self.active = False
        self.reset()

    def reset(self) -> None:
        self.start = self.clock()
        self.steps = 0
        self.depth = 0
        self.includes = 0

    def step(self) -> None:
        if not self.active:
            return
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise LimitError(
                f"the template ran more than {MAX_STEPS:,} steps (loop turns and calls); "
                "simplify its loops"
            )
        if self.clock() - self.start > MAX_SECONDS:
            raise LimitError(f"rendering took more than {MAX_SECONDS:g} s; simplify its loops")


def _too_big(n: int, what: str) -> LimitError:
    return LimitError(f"{what} would make a value of {n:,} characters; the limit is {MAX_OUTPUT:,}")


def check_size(value: Any, what: str = "this") -> Any:
    """Refuse a string or collection longer than :data:`MAX_OUTPUT` (and huge ints)."""
    if isinstance(value, str | list | tuple | dict | set) and len(value) > MAX_OUTPUT:
        raise _too_big(len(value), what)
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise LimitError(f"{what} makes a number of more than {MAX_INT_BITS} bits")
    return value


def _check_format(fmt: Any) -> None:
    if isinstance(fmt, str) and _BIG_WIDTH.search(fmt):
        raise LimitError("a format width or precision of 100000 or more is not allowed")


def _check_args(name: str, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Refuse arguments that would make an expander build a value over the limit."""
    every = (*args, *kwargs.values())
    for a in every:
        if isinstance(a, int) and not isinstance(a, bool) and abs(a) > MAX_OUTPUT:
            raise LimitError(f"{name}({a:,}): numbers over {MAX_OUTPUT:,} are not allowed here")
    if name in ("format", "format_map"):
        _check_format(value)
    longest = max((len(a) for a in every if isinstance(a, str)), default=0)
    if name in ("replace", "join", "indent") and longest > 0:
        size = len(value) if isinstance(value, str | list | tuple) else 1
        if (size + 1) * longest > MAX_OUTPUT:
            raise _too_big((size + 1) * longest, name)


class _LimitedNamespace(Namespace):
    def __setitem__(self, name: str, value: Any) -> None:
        Namespace.__setitem__(self, name, check_size(value, f"namespace.{name}"))


class _BudgetCodeGenerator(CodeGenerator):
    """Every ``for`` loop iterates through the budget; every ``~`` is size-checked."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        node.iter = nodes.Call(
            nodes.EnvironmentAttribute("sb_iter"), [node.iter], [], None, None, lineno=node.lineno
        )
        super().visit_For(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.sb_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class LimitedEnvironment(ImmutableSandboxedEnvironment):
    """The immutable jinja2 sandbox plus the size, step, time and depth limits above."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})
    code_generator_class = _BudgetCodeGenerator

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, **kwargs: Any):
        super().__init__(**kwargs)
        self.budget = Budget(clock)
        self.globals["range"] = _range
        self.globals["lipsum"] = _lipsum
        self.globals["namespace"] = _LimitedNamespace
        for name, f in list(self.filters.items()):
            self.filters[name] = _limited_filter(name, f)

    def sb_iter(self, iterable: Iterable[Any]) -> Iterator[Any]:
        """A loop's iterable, one budget step per turn."""
        for item in iterable:
            self.budget.step()
            yield item

    def sb_concat(self, parts: tuple[Any, ...]) -> str:
        """``a ~ b``, refused before it is built when it would be too long."""
        strs = [str(p) for p in parts]
        total = sum(len(s) for s in strs)
        if total > MAX_OUTPUT:
            raise _too_big(total, "'~'")
        return "".join(strs)

    def call_binop(
        self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any
    ) -> Any:
        self.budget.step()
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(n, int):
                    if len(seq) * n > MAX_OUTPUT:
                        raise _too_big(len(seq) * n, "'*'")
            if isinstance(left, int) and isinstance(right, int):
                if left.bit_length() + right.bit_length() > MAX_INT_BITS:
                    raise LimitError(f"'*' would make a number of more than {MAX_INT_BITS} bits")
        elif (
            operator == "**" and isinstance(left, int) and isinstance(right, int) and abs(left) > 1
        ):
            if right * left.bit_length() > MAX_INT_BITS:
                raise LimitError(f"'**' would make a number of more than {MAX_INT_BITS} bits")
        elif (
            operator == "+"
            and isinstance(left, str | list | tuple)
            and isinstance(right, type(left))
        ):
            if len(left) + len(right) > MAX_OUTPUT:
                raise _too_big(len(left) + len(right), "'+'")
        elif operator == "%" and isinstance(left, str):
            _check_format(left)
        return super().call_binop(context, operator, left, right)

    def call(
        __self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any
    ) -> Any:
        budget = __self.budget
        budget.step()
        if __obj not in (_range, _lipsum):  # they check their own arguments
            owner = getattr(__obj, "__self__", None)
            _check_args(getattr(__obj, "__name__", "call"), owner, args, kwargs)
        nested = isinstance(__obj, Macro | LoopContext)
        if nested:
            budget.depth += 1
            if budget.depth > MAX_DEPTH:
                budget.depth = 0  # the error unwinds every level at once
                raise LimitError(
                    f"macro calls nest more than {MAX_DEPTH} deep (a macro calling itself?)"
                )
        try:
            result = super().call(__context, __obj, *args, **kwargs)
        finally:
            if nested and budget.depth > 0:
                budget.depth -= 1
        return check_size(result, f"{getattr(__obj, '__name__', 'the call')}()")

    def get_template(self, *args: Any, **kwargs: Any) -> jinja2.Template:
        budget = self.budget
        if budget.active:
            budget.includes += 1
            if budget.includes > MAX_INCLUDES:
                raise LimitError(
                    f"more than {MAX_INCLUDES} templates included or imported "
                    "(a template including itself?)"
                )
        return super().get_template(*args, **kwargs)

    def render(self, template: jinja2.Template, context: dict[str, Any]) -> str:
        """Render with a fresh budget; the output is refused once it passes the size limit."""
        budget = self.budget
        budget.reset()
        budget.active = True
        out: list[str] = []
        size = 0
        try:
            for chunk in template.generate(context):
                size += len(chunk)
                if size > MAX_OUTPUT:
                    raise LimitError(
                        f"the rendered prompt is longer than {MAX_OUTPUT:,} characters"
                    )
                out.append(chunk)
        finally:
            budget.active = False
        return "".join(out)


def _range(*args: int) -> range:
    rng = range(*args)
    if len(rng) > MAX_RANGE:
        raise LimitError(f"range() of {len(rng):,} numbers; the limit is {MAX_RANGE:,}")
    return rng


def _lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:  # noqa: A002
    if n > 20 or max > 200:
        raise LimitError("lipsum() is limited to 20 paragraphs of at most 200 words")
    if not min < max:  # jinja would fail inside random.randrange
        raise LimitError(
            "lipsum(n, html, min, max) needs min < max (words per paragraph), "
            f"got min {min}, max {max}"
        )
    return generate_lorem_ipsum(n, html, min, max)


def _limited_filter(name: str, f: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(f)  # keeps jinja's pass_context/pass_environment marks
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # the value is the first argument that is not the context, environment or eval context
        plain = [
            a
            for a in args
            if not isinstance(
                a, jinja2.runtime.Context | jinja2.Environment | jinja2.nodes.EvalContext
            )
        ]
        value, rest = (plain[0], tuple(plain[1:])) if plain else (None, ())
        _check_args(name, value, rest, kwargs)
        return check_size(f(*args, **kwargs), f"the {name} filter")

    return wrapper


MAX_TEMPLATE_BYTES = 256 * 1024


class UnsafeTemplate(Exception):
    """A template file that may not be read (outside its folder's root, or too big)."""


class ConfinedLoader(jinja2.BaseLoader):
    """Like jinja2's ``FileSystemLoader``, but a file (after following every symlink) must stay
    inside its folder's ``root``; it is checked before it is opened."""

    def __init__(self, folders: list[tuple[Path, Path]]):
        self.folders = [(str(folder), root.resolve()) for folder, root in folders]
        self.searchpath = [folder for folder, _ in self.folders]

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        pieces = split_template_path(template)
        found = [
            (posixpath.join(folder, *pieces), root)
            for folder, root in self.folders
            if os.path.isfile(posixpath.join(folder, *pieces))
        ]
        if not found:
            raise jinja2.TemplateNotFound(template)
        filename, root = found[0]
        real = Path(filename).resolve()
        if not real.is_relative_to(root):
            raise UnsafeTemplate(
                f"template {template!r} is a link to {real}, outside {root}; "
                "copy the file into the templates folder instead"
            )
        size = real.stat().st_size
        if size > MAX_TEMPLATE_BYTES:
            raise UnsafeTemplate(
                f"template {template!r} is {size:,} bytes; a template may be at most "
                f"{MAX_TEMPLATE_BYTES:,}"
            )
        contents = real.read_text(encoding="utf-8")
        mtime = real.stat().st_mtime
        return contents, os.path.normpath(filename), lambda: _mtime(real) == mtime


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None
