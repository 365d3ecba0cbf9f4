"""YAML loading that remembers where every value came from (for ``file:line`` errors).

The loader is also the first line of defence against hostile files: it limits the file's size,
how many values its aliases expand to (a 300-byte "billion laughs" is refused in milliseconds,
while it is being composed, before anything is built) and how deep values nest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

Path_ = tuple[str | int, ...]

MAX_BYTES = 2 * 1024 * 1024
MAX_VALUES = 200_000
MAX_DEPTH = 50
MAX_DIGITS = 4300  # Python's own limit for int(str)


class YAMLLimitError(yaml.YAMLError):
    """The file breaks a size, alias-expansion or nesting limit (``line``, ``where``);
    ``more``: the same kind of problem at other places (every number that is not finite)."""

    def __init__(
        self,
        line: int | None,
        where: Path_,
        message: str,
        more: list[tuple[int | None, Path_, str]] | None = None,
    ):
        self.line = line
        self.where = where
        self.message = message
        self.more = more or []
        super().__init__(message)


def read_source(file: Path) -> str:
    """The file's text, refusing files over :data:`MAX_BYTES` without reading them whole."""
    with open(file, "rb") as fh:
        data = fh.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        size = max(file.stat().st_size, len(data))
        raise YAMLLimitError(
            None,
            (),
            f"the file is {size / 2**20:.1f} MiB; a storyboard may be at most "
            f"{MAX_BYTES // 2**20} MiB",
        )
    return data.decode("utf-8")


class _Limits(Composer):
    """Counts every value an alias expands to, and the nesting depth, while composing.

    Mixed into a loader ahead of its ``Composer`` (the parser supplies the events)."""

    peek_event: Any
    construct_yaml_float: Any

    def _init_limits(self) -> None:
        self._size: dict[int, int] = {}  # id(node) -> values in its expanded subtree
        self._depth: dict[int, int] = {}  # id(node) -> levels in its expanded subtree
        self._stack: list[tuple[str | int | None, int]] = []  # (key or index, line)
        self._composed = 0
        self._not_finite: list[YAMLLimitError] = []  # reported together, after the file

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        key: str | int | None = None
        if isinstance(index, yaml.ScalarNode):
            key = str(index.value)
        elif isinstance(index, int):
            key = index
        event = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            node = super().compose_node(parent, index)
            assert node is not None
            if id(node) not in self._size:
                self._fail(
                    key, line, "an alias refers to a value that contains it (a recursive alias)"
                )
            if len(self._stack) + self._depth[id(node)] > MAX_DEPTH:
                self._fail(key, line, f"values nest more than {MAX_DEPTH} levels deep")
            return node
        self._stack.append((key, line))
        if len(self._stack) > MAX_DEPTH:
            self._fail(None, line, f"values nest more than {MAX_DEPTH} levels deep")
        node = super().compose_node(parent, index)
        assert node is not None
        self._stack.pop()
        self._composed += 1
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif node.tag == "tag:yaml.org,2002:int" and len(str(node.value)) > MAX_DIGITS:
            self._fail(key, line, f"a number with more than {MAX_DIGITS} digits", True)
        elif isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:float":
            number = self.construct_yaml_float(node)
            if not math.isfinite(number):  # every one is named (hostile helper-56: one a run)
                error = self._error(key, line, f"expected a finite number, got {number!r}", True)
                self._not_finite.append(error)
        size = 1 + sum(self._size[id(c)] for c in children)
        self._size[id(node)] = size
        self._depth[id(node)] = 1 + max((self._depth[id(c)] for c in children), default=0)
        if size > MAX_VALUES:
            why = (
                f"the file has more than {MAX_VALUES} values"
                if self._composed > MAX_VALUES
                else f"aliases expand to more than {MAX_VALUES} values (an alias bomb?); "
                "write the values out instead"
            )
            self._fail(key, line, why)
        return node

    def _fail(self, key: str | int | None, line: int, message: str, exact: bool = False) -> None:
        """Raise for the value being composed: :meth:`_error`."""
        raise self._error(key, line, message, exact)

    def _error(
        self, key: str | int | None, line: int, message: str, exact: bool = False
    ) -> YAMLLimitError:
        """The error for the value being composed, named by its first few keys (not 50
        levels) unless ``exact``."""
        frames = [*self._stack, (key, line)] if key is not None else list(self._stack)
        frames = [f for f in frames if f[0] is not None]
        if not exact:
            frames = frames[:3]
            while len(frames) > 1 and isinstance(frames[-1][0], int):
                frames.pop()
        where = tuple(k for k, _ in frames if k is not None)
        return YAMLLimitError(frames[-1][1] if frames else line, where, message)


@dataclass
class Located:
    """Parsed YAML data plus the 1-based line of every mapping key / sequence item."""

    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    block: dict[Path_, bool] = field(default_factory=dict)  # value is a |/> block scalar
    duplicates: list[tuple[Path_, int]] = field(default_factory=list)

    def line_of(self, path: Path_) -> int | None:
        """The line of ``path`` or of its nearest ancestor that has one."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get(())

    def value_line(self, path: Path_) -> int | None:
        """The first line of the *text* of a scalar (the line after ``|`` for block scalars)."""
        line = self.lines.get(tuple(path))
        if line is None:
            return None
        return line + 1 if self.block.get(tuple(path)) else line


class _LimitedLoader(_Limits, yaml.SafeLoader):
    """Pure Python: the reference messages for syntax errors."""

    def __init__(self, text: str):
        yaml.SafeLoader.__init__(self, text)
        self._init_limits()


_CParser: Any
try:
    from yaml._yaml import CParser as _CParser
except ImportError:  # PyYAML built without libyaml
    _CParser = None


if _CParser is not None:

    class _FastLoader(_Limits, _CParser, SafeConstructor, Resolver):  # type: ignore[misc]
        """libyaml's scanner and parser under the same Python composer (several times faster)."""

        def __init__(self, text: str):
            _CParser.__init__(self, text)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self._init_limits()


def load_located(text: str) -> Located:
    """Parse YAML text (safe loader). Raises ``yaml.YAMLError`` with a mark on bad syntax,
    :class:`YAMLLimitError` on a file that breaks a limit."""
    if len(text) > MAX_BYTES:
        raise YAMLLimitError(None, (), f"a storyboard may be at most {MAX_BYTES // 2**20} MiB")
    try:
        node, data = _load(_FastLoader(text) if _CParser is not None else _LimitedLoader(text))
    except YAMLLimitError:
        raise
    except yaml.YAMLError:  # a syntax error: the pure loader words it the way we pin it
        node, data = _load(_LimitedLoader(text))
    if node is None:
        return Located(None, {(): 1})
    out = Located(data)
    _walk(node, (), out)
    out.lines.setdefault((), 1)
    return out


def _load(loader: Any) -> tuple[yaml.Node | None, Any]:
    try:
        node = loader.get_single_node()
        found: list[YAMLLimitError] = loader._not_finite
        if found:
            first, *rest = found
            raise YAMLLimitError(
                first.line, first.where, first.message, [(e.line, e.where, e.message) for e in rest]
            )
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def _walk(node: yaml.Node, path: Path_, out: Located) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            if key == "<<":  # merge key: children are already merged into data
                continue
            child = (*path, key)
            if key in seen:
                out.duplicates.append((child, key_node.start_mark.line + 1))
            seen.add(key)
            out.lines[child] = (
                value_node.start_mark.line + 1
                if _is_block(value_node)
                else (key_node.start_mark.line + 1)
            )
            out.block[child] = _is_block(value_node)
            _walk(value_node, child, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            child = (*path, i)
            out.lines[child] = item.start_mark.line + 1
            out.block[child] = _is_block(item)
            _walk(item, child, out)


def _is_block(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.style in ("|", ">")


def format_path(path: Path_) -> str:
    """``('scenes', 2, 'duration')`` -> ``scenes[2].duration``."""
    s = ""
    for part in path:
        if isinstance(part, int):
            s += f"[{part}]"
        else:
            s += f".{part}" if s else str(part)
    return s


def value_at(data: Any, path: Path_) -> Any:
    """The value at ``path`` in loaded YAML data (mappings and lists), or None."""
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data
