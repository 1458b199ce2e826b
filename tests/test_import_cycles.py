"""No import cycle anywhere in the package, counting the imports inside functions.

Pins down: every module's imports, read with ``ast`` (top-level and inside functions, where a lazy
import would only hide a cycle), form a graph without a cycle; and the detector finds one when
there is (a two-module and a three-module cycle, a cycle through a function-level import).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "autograd_scalar"


def module_names(package: Path) -> dict[str, Path]:
    """``autograd_scalar.x.y`` -> its file, for every module of the package."""
    names = {}
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that ``name`` imports anywhere in its file (``from . import x`` counts as x)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    top = next(iter(modules)).split(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target)
    return {m for m in found if m in modules and m != name and m.split(".")[0] == top}


def find_cycles(package: Path) -> list[list[str]]:
    """Every cycle of the import graph, found by a depth-first search (each cycle once, from its least name)."""
    modules = module_names(package)
    graph = {name: sorted(imports_of(name, path, modules)) for name, path in modules.items()}
    cycles = []
    for start in sorted(graph):
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    cycles.append(path)
                elif nxt > start and nxt not in path:
                    stack.append((nxt, [*path, nxt]))
    return cycles


def test_the_package_has_no_import_cycle():
    cycles = find_cycles(PACKAGE)
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join([*c, c[0]]) for c in cycles)


def test_the_detector_finds_cycles_hidden_in_functions(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .b import f\n")
    (pkg / "b.py").write_text("def f():\n    from . import a  # lazy: hides the cycle at import time\n")
    (pkg / "c.py").write_text("import pkg.d\n")
    (pkg / "d.py").write_text("from pkg.e import g\n")
    (pkg / "e.py").write_text("def g():\n    from .c import x\n")
    (pkg / "ok.py").write_text("from .a import f\nimport json\n")
    assert sorted(find_cycles(pkg)) == [["pkg.a", "pkg.b"], ["pkg.c", "pkg.d", "pkg.e"]]
