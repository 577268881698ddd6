"""The packages depend on each other one way: contract <- lambda_fn <- export <- train,
with bench and scripts on top. A new edge against that order, or an import cycle
between modules, fails here before it can spread."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGES = ("contract", "lambda_fn", "export", "train", "bench", "scripts")

# package -> packages it may import at module level (itself always allowed).
MODULE_LEVEL = {
    "contract": set(),
    "lambda_fn": {"contract"},
    "export": {"contract", "lambda_fn"},
    "train": {"contract"},
    "bench": {"contract", "lambda_fn", "export", "train"},
    "scripts": {"contract", "lambda_fn", "export", "train", "bench", "scripts"},
}
# Inside a function (imported only when called): export reads a run folder's
# pickled model types, training hands the exporter's cost measure to search, and
# the cold-start benchmark drives the real runtime through scripts/invoke_rie.py.
LAZY = {
    **MODULE_LEVEL,
    "bench": {"contract", "lambda_fn", "export", "train", "scripts"},
    "export": {"contract", "lambda_fn", "train"},
    "train": {"contract", "export"},
}
# What the serving side may import from outside the standard library: the
# image installs lambda_fn/requirements.txt and nothing else.
THIRD_PARTY = {
    "contract": {"numpy"},
    "lambda_fn": {"numpy", "onnxruntime", "aws_lambda_powertools", "boto3", "botocore"},
}


def modules(package: str) -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(path: Path) -> list[tuple[str, bool]]:
    """(imported module, at module level?) for every import in a file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    lazy_nodes = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for inner in ast.walk(node)
    }
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found += [(name, id(node) not in lazy_nodes) for name in names]
    return found


ALL = {name: path for package in PACKAGES for name, path in modules(package).items()}


def top(name: str) -> str:
    return name.split(".")[0]


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_imports_only_the_layers_below_it(package):
    wrong = []
    for name, path in modules(package).items():
        for target, module_level in imports(path):
            layer = top(target)
            if layer not in PACKAGES or layer == package:
                continue
            allowed = (MODULE_LEVEL if module_level else LAZY)[package]
            if layer not in allowed:
                where = "module level" if module_level else "inside a function"
                wrong.append(f"{name} imports {target} ({where})")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("package", sorted(THIRD_PARTY))
def test_the_serving_side_imports_only_the_standard_library_and_its_requirements(package):
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    wrong = []
    for name, path in modules(package).items():
        for target, _ in imports(path):
            layer = top(target)
            if layer in PACKAGES or layer in stdlib or layer in THIRD_PARTY[package]:
                continue
            wrong.append(f"{name} imports {target}")
    assert not wrong, "\n".join(wrong)


def module_graph() -> dict[str, set[str]]:
    graph = {}
    for name, path in ALL.items():
        edges = set()
        for target, module_level in imports(path):
            if not module_level:
                continue
            while target and target not in ALL:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):
                edges.add(target)
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_module_imports_itself_through_others():
    cycle = find_cycle(module_graph())
    assert cycle is None, " -> ".join(cycle)


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_imports_are_told_apart_by_where_they_run(tmp_path, monkeypatch):
    source = tmp_path / "probe.py"
    source.write_text("import train.cli\n\ndef later():\n    from export import graph\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert imports(source) == [("train.cli", True), ("export", False), ("export.graph", False)]
