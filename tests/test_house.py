"""The floor plan holds: who may import what, no import loops, one package per concern.

Read from the source with ``ast`` (nothing is imported), so a change that breaks the plan
fails here with the file and the import that broke it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "src" / "caseharvest"
# Lowest first: a package may import only packages below it (and itself).
FLOORS = [
    {"model", "processes"},
    {"extract", "capture", "replica"},
    {"listings"},
    {"sites"},
    {"archive"},
    {"crawl", "commands"},
    {"cli"},
    {"__main__"},
]


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(("caseharvest", *parts)).removesuffix(".__init__")
        yield name, path


def imports_of(path: Path) -> Iterator[tuple[str, int]]:
    """Every module name *path* imports (TYPE_CHECKING and function-level imports too)."""
    tree = ast.parse(path.read_text("utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno
            for alias in node.names:
                yield f"{node.module}.{alias.name}", node.lineno


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def floor_of(package: str) -> int:
    for number, floor in enumerate(FLOORS):
        if package in floor:
            return number
    raise AssertionError(f"package {package!r} has no floor in tests/test_house.py")


ALL = dict(modules())


def our_import(name: str) -> str | None:
    """The module of ours an import names (``from a.b import c`` may name a.b or a.b.c)."""
    if name in ALL:
        return name
    parent = name.rsplit(".", 1)[0]
    return parent if parent in ALL and parent != "caseharvest" else None


def test_scrapy_and_twisted_are_imported_by_the_crawl_package_only() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}:{line}: {name}"
        for module, path in ALL.items()
        if package_of(module) != "crawl"
        for name, line in imports_of(path)
        if name.split(".")[0] in ("scrapy", "twisted")
    ]
    assert not offenders, offenders


def test_nothing_imports_upward() -> None:
    offenders = []
    for module, path in ALL.items():
        here = package_of(module)
        if not here:
            continue
        for name, line in imports_of(path):
            target = our_import(name)
            if target is None or package_of(target) in ("", here):
                continue
            if floor_of(package_of(target)) > floor_of(here):
                offenders.append(f"{path.relative_to(PACKAGE)}:{line} imports {target} (upward)")
    assert not offenders, offenders


def test_no_import_loops_between_files() -> None:
    graph: dict[str, set[str]] = {module: set() for module in ALL}
    for module, path in ALL.items():
        for name, _line in imports_of(path):
            target = our_import(name)
            if target is not None and target != module and not module.startswith(f"{target}."):
                graph[module].add(target)
    # Tarjan-free check: a module reaching itself through its imports is a loop.
    loops = []
    for start in graph:
        seen: set[str] = set()
        stack = list(graph[start])
        while stack:
            current = stack.pop()
            if current == start:
                loops.append(start)
                break
            if current not in seen:
                seen.add(current)
                stack.extend(graph[current])
    assert not loops, f"modules in an import loop: {sorted(loops)}"


def test_the_model_imports_nothing_of_ours() -> None:
    assert not [n for n, _ in imports_of(ALL["caseharvest.model"]) if n.startswith("caseharvest")]


@pytest.mark.parametrize("word", ["warc", "indexes", "text", "replay"])
def test_only_the_layout_spells_the_archives_folder_names(word: str) -> None:
    # A path built from a literal folder name: "warc" / x, x / "indexes", Path("text") …
    pattern = re.compile(rf"""(/\s*["']{word}["'])|(["']{word}["']\s*/)""")
    offenders = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for module, path in ALL.items()
        if module != "caseharvest.archive.layout" and package_of(module) != "replica"
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert not offenders, offenders
