"""YAML loading that remembers where every value came from (for ``file:line`` errors)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


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


def load_located(text: str) -> Located:
    """Parse YAML text (safe loader). Raises ``yaml.YAMLError`` with a mark on bad syntax."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Located(None, {(): 1})
        data = loader.construct_document(node)
    finally:
        loader.dispose()
    out = Located(data)
    _walk(node, (), out)
    out.lines.setdefault((), 1)
    return out


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
