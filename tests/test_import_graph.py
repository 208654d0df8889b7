"""The package's import graph: no circles, and every import follows the layer order.

The graph is built from the source with `ast` (no module is imported), counting every import —
top-level, function-local and under `if __name__ == "__main__"` alike — so a lazy import cannot
hide a circle. The layers are those of docs/architecture.md (a new top-level module needs a line
in LAYER_OF_PREFIX):

    base  (errors, registry, atomic, console, config, config_keys, config_help, cli)
    losses | data (tcc.datasets) | models            each over base only
    algos        over losses, models
    evaluation   over data
    training     over algos, evaluation, data
    run          (tcc.runs, tcc.checks) over training
    apps         over run, evaluation, data — never training or algos directly
    entry        (train, evaluate, extract_embeddings, experiments, ...) over everything
"""

from __future__ import annotations

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "tcc"

# Layer of a module: the first prefix that matches (longest prefixes listed first).
LAYER_OF_PREFIX = [
    ("tcc.losses", "losses"),
    ("tcc.datasets", "data"),
    ("tcc.models", "models"),
    ("tcc.algos", "algos"),
    ("tcc.evaluation", "evaluation"),
    ("tcc.training", "training"),
    ("tcc.runs", "run"),
    ("tcc.checks", "run"),
    ("tcc.apps", "apps"),
    ("tcc.experiments", "entry"),
    ("tcc.train", "entry"),
    ("tcc.evaluate", "entry"),
    ("tcc.extract_embeddings", "entry"),
    ("tcc.console_scripts", "entry"),
    ("tcc.errors", "base"),
    ("tcc.registry", "base"),
    ("tcc.atomic", "base"),
    ("tcc.console", "base"),
    ("tcc.config_keys", "base"),
    ("tcc.config_help", "base"),
    ("tcc.cli", "base"),
    ("tcc.config_help", "base"),
    ("tcc.cli", "base"),
    ("tcc.config", "base"),
]

# What each layer may import (besides itself).
ALLOWED = {
    "base": set(),
    "losses": {"base"},
    "data": {"base"},
    "models": {"base"},
    "algos": {"base", "losses", "models"},
    "evaluation": {"base", "data"},
    "training": {"base", "losses", "models", "algos", "evaluation", "data"},
    "run": {"base", "losses", "models", "algos", "evaluation", "data", "training"},
    "apps": {"base", "data", "evaluation", "run"},
    "entry": {"base", "losses", "models", "algos", "evaluation", "data", "training", "run", "apps"},
}


def module_names() -> dict[str, pathlib.Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports (anywhere in its source)."""
    modules = module_names()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                for alias in node.names:
                    submodule = f"{source}.{alias.name}"
                    # `from pkg import submodule` depends on the submodule, not on pkg's __init__.
                    targets.append(submodule if submodule in modules else source)
            for target in targets:
                while target and target not in modules:  # `import tcc.x.y` of a non-module name
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def layer(module: str) -> str:
    for prefix, name in LAYER_OF_PREFIX:
        if module == prefix or module.startswith(prefix + "."):
            return name
    if module == "tcc":
        return "base"
    raise AssertionError(
        f"{module} has no layer: add it to LAYER_OF_PREFIX and docs/architecture.md"
    )


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def test_the_graph_sees_lazy_and_relative_imports(tmp_path, monkeypatch):
    package = tmp_path / "tcc"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "a.py").write_text("def f():\n    from . import b\n")
    (package / "sub" / "b.py").write_text("if __name__ == '__main__':\n    import tcc.sub.a\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", package)
    graph = import_graph()
    assert graph["tcc.sub.a"] == {"tcc.sub.b"}
    assert graph["tcc.sub.b"] == {"tcc.sub.a"}
    assert circles(graph) == [["tcc.sub.a", "tcc.sub.b"]]


def test_no_import_circles():
    assert circles(import_graph()) == []


def test_every_import_follows_the_layer_order():
    upward = {
        (source, target)
        for source, targets in import_graph().items()
        for target in targets
        if layer(target) != layer(source) and layer(target) not in ALLOWED[layer(source)]
    }
    assert not upward, "\n".join(
        f"{s} ({layer(s)}) imports {t} ({layer(t)})" for s, t in sorted(upward)
    )


def test_every_module_has_a_layer():
    for name in import_graph():
        layer(name)
