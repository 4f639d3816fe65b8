"""No import cycles in the package.

Every module of ``musebench`` (the folder ``benchmark/``, and ``listening_app/`` as
``musebench.listening_app``: the ``package_dir`` map of setup.py) is parsed with :mod:`ast`, and
each ``import``/``from ... import`` of a ``musebench`` module becomes an edge of a graph. Two
graphs are checked:

* the module-level imports (everything outside a function body) must form no cycle at all: a
  cycle there is an import order that works by luck;
* with the imports inside functions added, the graph must have no cycle either: an import
  moved into a function to dodge a cycle hides the cycle, it does not remove it. Lazy imports
  of heavy libraries stay legitimate (they are not ``musebench`` modules, so not in the graph).

Imports under ``if TYPE_CHECKING:`` are left out: they never run (type annotations may refer
both ways). ``from pkg import name`` counts as an import of ``pkg.name`` when that is a module,
else of ``pkg``. Importing a submodule also runs its parent packages' ``__init__``; that implicit edge is
not drawn (every submodule would otherwise "import" its own package).
"""
from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: import name -> source folder (setup.py's package_dir)
PACKAGES = {"musebench": ROOT / "benchmark", "musebench.listening_app": ROOT / "listening_app"}
#: cycles through imports inside functions that another part of issue 12 is removing; each
#: entry is the set of modules of one strongly connected component. Delete an entry when its
#: cycle is gone; never add one.
KNOWN_FUNCTION_LEVEL_CYCLES: list[frozenset[str]] = [
]


def _modules() -> dict[str, tuple[Path, bool]]:
    """Module name -> (file, is a package ``__init__``)."""
    out: dict[str, tuple[Path, bool]] = {}
    for name, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if "__pycache__" in parts or (name == "musebench" and parts[0] == "listening_app"):
                continue
            is_package = parts[-1] == "__init__"
            if is_package:
                parts = parts[:-1]
            out[".".join([name, *parts])] = (path, is_package)
    return out


MODULES = _modules()


def _owner(name: str) -> str | None:
    """The module of ``MODULES`` that ``name`` (a module or an attribute of one) lives in."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _targets(module: str, is_package: bool, node: ast.Import | ast.ImportFrom) -> set[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = module if is_package else module.rpartition(".")[0]
        if node.level:
            parts = base.split(".")
            base = ".".join(parts[:len(parts) - (node.level - 1)])
            source = f"{base}.{node.module}" if node.module else base
        else:
            source = node.module or ""
        names = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in MODULES else source
                 for alias in node.names]
    owners = {_owner(n) for n in names if n == "musebench" or n.startswith("musebench.")}
    return {o for o in owners if o is not None and o != module}


def _type_checking_only(node: ast.AST) -> bool:
    """``if TYPE_CHECKING:`` (or ``typing.TYPE_CHECKING``) without an ``else``."""
    if not isinstance(node, ast.If) or node.orelse:
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, *, inside_functions: bool) -> list[ast.Import | ast.ImportFrom]:
    """The import statements of a module: those at module level, or all of them."""
    found: list[ast.Import | ast.ImportFrom] = []
    todo: list[tuple[ast.AST, bool]] = [(tree, False)]
    while todo:
        node, in_function = todo.pop()
        for child in ast.iter_child_nodes(node):
            if _type_checking_only(child):
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)) and (inside_functions or not in_function):
                found.append(child)
            todo.append((child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))))
    return found


@cache
def _graph(*, inside_functions: bool) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, (path, is_package) in MODULES.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in _imports(tree, inside_functions=inside_functions):
            graph[module] |= _targets(module, is_package, node)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


def _reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        v = todo.pop()
        if v == goal:
            return True
        if v not in seen:
            seen.add(v)
            todo.extend(graph[v])
    return False


def _describe(cycles: list[frozenset[str]]) -> str:
    return "; ".join(" <-> ".join(sorted(c)) for c in cycles)


def test_the_package_is_found():
    assert {"musebench", "musebench.runner.core", "musebench.leaderboard", "musebench.listening_app"} <= set(MODULES)
    assert _graph(inside_functions=False)["musebench.runner.local"] >= {"musebench.runner.core"}


def test_module_level_imports_have_no_cycle():
    cycles = _cycles(_graph(inside_functions=False))
    assert not cycles, f"import cycle(s) at module level: {_describe(cycles)}"


def test_imports_inside_functions_hide_no_cycle():
    cycles = [c for c in _cycles(_graph(inside_functions=True)) if c not in KNOWN_FUNCTION_LEVEL_CYCLES]
    assert not cycles, (f"import cycle(s) through imports inside functions: {_describe(cycles)} "
                        "(move the shared part into a module both can import)")


@pytest.mark.parametrize("lower, upper", [
    ("musebench.leaderboard", "musebench.report"),  # ranking never imports its renderer
    ("musebench.runner.core", "musebench.runner.local"),  # the item loop never imports a backend
    ("musebench.runner.core", "musebench.runner.ray_backend"),
    ("musebench.runner.core", "musebench.runner.dispatch"),
    ("musebench.runner.local", "musebench.runner.dispatch"),
    ("musebench.runner.ray_backend", "musebench.runner.dispatch"),
    ("musebench.families.base", "musebench.runner.core"),  # families know no runner
])
def test_dependencies_go_one_way(lower, upper):
    """The two cycles of issue 12, and the layering that keeps them gone."""
    graph = _graph(inside_functions=True)
    assert _reaches(graph, upper, lower), f"{upper} no longer depends on {lower}: update this test"
    assert not _reaches(graph, lower, upper), f"{lower} imports {upper} (directly or through others)"
