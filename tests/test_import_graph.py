"""The package's import graph, read from the source with ``ast`` (nothing is imported): no cycle inside
``recviz`` (imports inside functions count too: making an import lazy hides a cycle, it does not remove
it), and Streamlit stays in the UI.

The one allowed cycle is the model registry's: ``registry._load_all`` imports the model modules so their
``@register`` lines run, and each of those modules imports ``register`` from the registry.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "recviz"
REGISTRY = "recviz.models.registry"


def module_name(path: Path) -> str:
    """Dotted name of a source file under ROOT (a package by its ``__init__``)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> Iterator[tuple[str, list[str]]]:
    """(module, imported names) of every import statement in the file, at any depth; ``import a.b`` gives
    ("a.b", []), ``from a import b, c`` gives ("a", ["b", "c"]), relative imports resolved."""
    module = module_name(path)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base, [alias.name for alias in node.names]


def import_graph() -> dict[str, set[str]]:
    """recviz module → the recviz modules it imports. ``from pkg import name`` points at ``pkg.name`` where
    that is a module (a submodule import), at ``pkg`` for any other name."""
    files = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        targets = set()
        for base, names in imports(path):
            subs = [f"{base}.{n}" for n in names if f"{base}.{n}" in files]
            targets.update(subs)
            if (not names or len(subs) < len(names)) and base in files:
                targets.add(base)
        graph[module] = targets - {module}
    return graph


def registration_edges(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    """The registry → model module edges whose module imports the registry back (the @register pattern)."""
    return {(REGISTRY, m) for m in graph.get(REGISTRY, set()) if REGISTRY in graph[m]}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None (iterative depth-first search, sorted: stable output)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for root in sorted(graph):
        if root in state:
            continue
        path, stack = [root], [iter(sorted(graph[root]))]
        state[root] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return None


def test_the_graph_sees_lazy_and_submodule_imports():
    graph = import_graph()
    assert "recviz.models.comirec_sa" in graph[REGISTRY]  # inside _load_all: `from recviz.models import x`
    assert REGISTRY in graph["recviz.models.comirec_sa"]
    assert "recviz.explain.explain" in graph["recviz.explain"]  # a package's __init__
    assert "recviz.models.scoring" in graph["recviz.explain.projection"]  # inside population_points
    assert registration_edges(graph)


def test_find_cycle_reports_the_path():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_import_cycle_inside_recviz():
    graph = import_graph()
    allowed = registration_edges(graph)
    pruned = {m: {t for t in targets if (m, t) not in allowed} for m, targets in graph.items()}
    cycle = find_cycle(pruned)
    assert cycle is None, "import cycle inside recviz: " + " -> ".join(cycle)


def test_only_the_ui_and_app_import_streamlit():
    """recviz/ outside recviz/ui/, and the scripts beside it (bench/, scripts/); tests drive the app
    through streamlit.testing and are not part of this rule."""
    files = [
        *PACKAGE.rglob("*.py"),
        *(ROOT / "bench").rglob("*.py"),
        *(ROOT / "scripts").rglob("*.py"),
        *(p for p in ROOT.glob("*.py") if p.name != "app.py"),
    ]
    offenders = sorted(
        str(path.relative_to(ROOT))
        for path in files
        if path.relative_to(ROOT).parts[:2] != ("recviz", "ui")
        and any(base.split(".")[0] == "streamlit" for base, _ in imports(path))
    )
    assert not offenders, f"streamlit is imported outside recviz/ui/ and app.py: {offenders}"
