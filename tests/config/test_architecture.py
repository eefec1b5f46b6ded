"""The shape of the code, measured from the code: layering, import circles, file sizes.

Packages sit in layers (docs/architecture.md). A package imports only packages in lower
layers, so a change at the bottom never needs one at the top and no package reaches up.
Inside a package, modules may import each other, but no import circle is longer than two
files (a Celery task and its service: the service imports the task at module level, the
task imports the service inside the task function). Every import counts, function-local
ones too: hiding an import inside a function does not make the dependency go away.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Lowest first. A package may import packages of lower layers only.
LAYERS = [
    ["core"],
    ["observability"],
    ["audit", "notifications"],
    ["api"],
    ["accounts", "catalog", "idempotency"],
    ["orders"],
    ["payments"],
    ["backoffice", "demo_shop"],
    ["config"],
]
LAYER_OF = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}
# The offline Stripe stands apart: it imports no package of the shop, and only the
# wiring that starts it in development imports it.
STANDALONE = {"stripe_emulator"}
PROJECT = set(LAYER_OF) | STANDALONE
# Outside the packages: tools that drive the whole system from above (tests, benchmarks,
# fault runs, the process toolkit, scripts). They may import anything; nothing imports them.
MAX_LINES = 450
CONFIG_MAX_LINES = 700
SIZE_CHECKED = [*sorted(PROJECT), "bench", "faults", "scripts", "tests", "devstack"]


def _sources(packages):
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every module this file imports, at module level or inside a function."""
    tree = ast.parse(path.read_text(), str(path))
    package = _module_name(path) if path.is_relative_to(ROOT) else ""
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            # `from payments import handlers` imports the module payments.handlers.
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _graph():
    modules = {_module_name(path): path for path in _sources(PROJECT)}
    graph = {}
    for name, path in modules.items():
        graph[name] = {
            target
            for target in _imports(path)
            if target in modules and target != name and target.split(".")[0] in PROJECT
        }
    return graph


def _cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_every_package_has_a_layer():
    packages = {
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in {"tests", "bench", "faults", "devstack"}
    }
    assert packages <= PROJECT, f"give these packages a layer: {sorted(packages - PROJECT)}"


def test_no_package_imports_a_package_above_it_or_beside_it():
    wrong = []
    for module, targets in _graph().items():
        source = module.split(".")[0]
        for target in targets:
            other = target.split(".")[0]
            if other == source:
                continue
            if source in STANDALONE or other in STANDALONE:
                if source != "config":
                    wrong.append(f"{module} -> {target}")
            elif LAYER_OF[other] >= LAYER_OF[source]:
                wrong.append(f"{module} -> {target}")
    assert not wrong, "imports against the layering:\n" + "\n".join(sorted(wrong))


def test_no_import_circle_longer_than_two_files():
    long_cycles = [cycle for cycle in _cycles(_graph()) if len(cycle) > 2]
    assert not long_cycles, "import circles:\n" + "\n".join(" <-> ".join(c) for c in long_cycles)


def test_config_is_only_wiring():
    lines = sum(len(path.read_text().splitlines()) for path in _sources(["config"]))
    assert lines < CONFIG_MAX_LINES, f"config/ has {lines} lines"


@pytest.mark.parametrize("package", SIZE_CHECKED)
def test_no_source_file_over_450_lines(package):
    too_long = {
        str(path.relative_to(ROOT)): length
        for path in _sources([package])
        if (length := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not too_long, f"split these by what they do: {too_long}"


def test_the_checks_see_a_circle_and_an_upward_import(tmp_path):
    """The graph walk itself: a three-file circle and an upward import are found."""
    graph = {"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x"}, "a.w": {"a.x"}}
    assert _cycles(graph) == [["a.x", "a.y", "a.z"]]
    source = tmp_path / "mod.py"
    source.write_text("def f():\n    from payments import handlers\n")
    assert "payments.handlers" in _imports(source)
