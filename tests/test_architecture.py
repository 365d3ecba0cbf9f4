"""The folders tell the pipeline, and imports only go one way (README: Architecture).

board -> plan -> generate -> cut, with media under everything; the emulator stands beside them
(using board's model rules and media); the API (storyboard/api, re-exported by storyboard/__init__)
drives them all; the CLI and the review page use only the API.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from helpers import REPO

PKG = REPO / "storyboard"
SHARED = {"errors", "files", "money"}  # one-file modules under everything
PIPELINE = {"media", "board", "plan", "generate", "cut", "emulator"}
ALLOWED: dict[str, set[str]] = {
    "media": {"media"},
    "board": {"board", "media"},
    "plan": {"plan", "board", "media"},
    "generate": {"generate", "plan", "board", "media"},
    "cut": {"cut", "plan", "board", "media"},
    "emulator": {"emulator", "board", "media"},
    "api": {"api", *PIPELINE},
    "cli": {"cli", "api", "review"},  # the `review` command starts the page
    "review": {"review", "api"},
    "errors": set(),
    "files": set(),
    "money": set(),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer(module: str) -> str:
    """The folder (or one-file module) a module belongs to; the package itself is the API."""
    parts = module.split(".")
    if len(parts) == 1:
        return "api"
    if parts[1] == "__main__":
        return "cli"
    return parts[1]


def imports(path: Path, module_level_only: bool) -> list[tuple[int, str]]:
    """(line, imported module) for every ``storyboard`` import in a file."""
    text = path.read_text(encoding="utf-8")
    return imports_in(text, module_name(path), path.name == "__init__.py", module_level_only)


def imports_in(
    text: str, me: str, is_package: bool, module_level_only: bool
) -> list[tuple[int, str]]:
    """``module_level_only``: skip imports inside functions and under ``if TYPE_CHECKING``
    (they do not run when the module is imported)."""
    tree = ast.parse(text)
    package = me if is_package else me.rpartition(".")[0]
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                if not module_level_only:
                    visit(child, False)
                continue
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                if not module_level_only:
                    visit(child, top)
                continue
            if isinstance(child, ast.Import):
                found.extend((child.lineno, a.name) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - child.level + 1]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                for a in child.names:  # `from pkg import module` imports the module
                    sub = f"{target}.{a.name}"
                    as_module = sub.replace(".", "/")
                    is_module = (REPO / f"{as_module}.py").is_file() or (
                        REPO / as_module / "__init__.py"
                    ).is_file()
                    found.append((child.lineno, sub if is_module else target))
            visit(child, top)

    visit(tree, True)
    return [(line, m) for line, m in found if m == "storyboard" or m.startswith("storyboard.")]


def sources() -> list[Path]:
    return sorted(PKG.rglob("*.py"))


def test_imports_follow_the_pipeline() -> None:
    wrong = []
    for path in sources():
        me = module_name(path)
        mine = layer(me)
        for line, target in imports(path, module_level_only=False):
            theirs = layer(target)
            if theirs == mine or theirs in SHARED or theirs in ALLOWED[mine]:
                continue
            wrong.append(f"{path.relative_to(REPO)}:{line}: {mine} imports {target}")
    assert wrong == []


def test_no_module_level_import_cycles() -> None:
    graph = {module_name(p): {m for _, m in imports(p, True)} for p in sources()}
    cycles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            # importing a submodule first runs its package's __init__: that is not a cycle
            if node.startswith(nxt + "."):
                continue
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*path[path.index(nxt) :], nxt]))
            elif nxt not in state:
                walk(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            walk(node)
    assert cycles == []


def test_every_folder_is_in_the_readme_architecture_section() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Architecture\n(.*?)(?=^## |\Z)", readme, re.S | re.M)
    assert match, "README has no '## Architecture' section"
    section = match.group(1)
    folders = sorted(p.parent.name for p in PKG.glob("*/__init__.py"))
    assert set(folders) >= {"api", "board", "plan", "generate", "cut", "media", "emulator", "cli"}
    missing = [f for f in folders if f"{f}/" not in section]
    assert missing == []
    named = set(re.findall(r"\b([a-z]+)/", section)) - {"storyboard", "tests"}
    assert named <= set(ALLOWED), "the section names a folder that has no import rule"
    assert set(ALLOWED) >= set(folders), "a new folder needs its import rule here"


def test_the_checker_sees_wrong_way_lazy_and_relative_imports() -> None:
    text = (
        "from typing import TYPE_CHECKING\n"
        "from ..generate.state import Take\n"
        "if TYPE_CHECKING:\n"
        "    from storyboard.cut import timeline\n"
        "def f():\n"
        "    import storyboard.cli.main\n"
    )
    every = imports_in(text, "storyboard.board.probe", False, module_level_only=False)
    assert every == [
        (2, "storyboard.generate.state"),
        (4, "storyboard.cut.timeline"),
        (6, "storyboard.cli.main"),
    ]
    assert [layer(m) in ALLOWED["board"] for _, m in every] == [False, False, False]
    assert imports_in(text, "storyboard.board.probe", False, module_level_only=True) == [
        (2, "storyboard.generate.state")
    ]
