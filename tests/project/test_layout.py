"""The folder tree is the architecture: imports point down the layers, and nothing imports in a circle.

Every import of every module (function-local ones too) is read from the source. Layers, top down:

    6  entry points   sidecar (create_app), web, cli, jobs.worker, sandbox, bench
    5  ops            operator actions, audit, health, metrics (may run jobs now: above the runner)
    4  jobs.runner    the handler table: which payments function runs each job kind
    3  payments       checkout, notifications, confirmation, fulfilment, refunds, sweeps, status
    2  the container, the outbox (enqueue, lease, retry), job kinds
    1  store, paytabs, the form-password box
    0  domain, settings, errors, logging; and wp_bridge, which never imports sidecar
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The longest matching prefix decides a module's layer.
LAYERS = {
    "sidecar": 6,
    "sidecar.web": 6,
    "sidecar.cli": 6,
    "sidecar.jobs.worker": 6,
    "sidecar.sandbox": 6,
    "sidecar.bench": 6,
    "sidecar.ops": 5,
    "sidecar.jobs.runner": 4,
    "sidecar.payments": 3,
    "sidecar.core.container": 2,
    "sidecar.jobs": 2,
    "sidecar.store": 1,
    "sidecar.paytabs": 1,
    "sidecar.core.secretbox": 1,
    "sidecar.core": 0,
    "sidecar.domain": 0,
    "wp_bridge": 0,
}
PACKAGE_INITS_WITHOUT_CODE = {"sidecar.jobs", "sidecar.payments", "sidecar.ops", "sidecar.store"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    """Every Python module of the two packages, by dotted name."""
    found = {}
    for package in ("sidecar", "wp_bridge"):
        for path in (ROOT / package).rglob("*.py"):
            found[module_name(path)] = path
    return found


def imports_of(path: Path, known: dict[str, Path]) -> Iterator[str]:
    """The project modules a file imports (``from a import b`` counts b when b is a module)."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in known:
                    yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                if child in known:
                    yield child
                elif node.module in known:
                    yield node.module


def layer(module: str) -> int:
    best = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return LAYERS[best]


def graph() -> dict[str, set[str]]:
    known = modules()
    edges: dict[str, set[str]] = {}
    for name, path in known.items():
        # a package __init__ imported on the way to its modules is not an edge of its own
        edges[name] = {
            target
            for target in imports_of(path, known)
            if target != name and not (name.startswith(target + ".") and target in ("sidecar",))
        }
    return edges


def test_layout_every_module_has_a_layer() -> None:
    for name in modules():
        assert layer(name) >= 0, name


def test_layout_no_import_points_up_a_layer() -> None:
    upward = [
        f"{source} ({layer(source)}) -> {target} ({layer(target)})"
        for source, targets in graph().items()
        for target in targets
        if layer(target) > layer(source)
    ]
    assert upward == []


def test_layout_wp_bridge_never_imports_sidecar() -> None:
    offenders = [
        f"{source} -> {target}"
        for source, targets in graph().items()
        if source.startswith("wp_bridge")
        for target in targets
        if target.startswith("sidecar")
    ]
    assert offenders == []


def test_layout_no_import_cycle() -> None:
    edges = graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_layout_sidecar_top_level_stays_small() -> None:
    entries = [p.name for p in (ROOT / "sidecar").iterdir() if p.name != "__pycache__"]
    assert len(entries) <= 13, sorted(entries)
    for package in PACKAGE_INITS_WITHOUT_CODE:
        init = ROOT / package.replace(".", "/") / "__init__.py"
        tree = ast.parse(init.read_text())
        assert all(isinstance(node, ast.Expr) for node in tree.body), f"{init} holds code"
