"""The engine's layers hold: each package imports only the packages below it, nothing imports in a function to
dodge a cycle, there is no import cycle, only ``engine/process`` touches SpiffWorkflow, the engine never imports
Flask, the web layer or the command line. ``docs/architecture.md`` draws the same table."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "engine"

# package → the engine packages it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "common": set(),
    "store": {"common"},
    "forms": {"common"},
    "calendar": {"common", "store"},
    "auth": {"common", "store", "forms"},
    "documents": {"common", "store", "calendar", "forms"},
    "process": {"common", "store", "calendar", "documents", "forms"},
    "services": {"common", "store", "calendar", "documents", "forms", "auth", "process"},
    "scheduler": {"common", "store", "services"},
}
# what the web layer may use: the use cases, and the few objects they take or raise
WEB_ALLOWED = {"engine.services", "engine.common", "engine.auth", "engine.store.runtime"}


def modules(folder: Path) -> dict[str, Path]:
    found = {}
    for path in sorted(folder.rglob("*.py")):
        if "migrations" in path.parts and path.parent.name == "versions":
            continue
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imports(path: Path, relative_ok: bool = False) -> list[tuple[str, int, bool]]:
    """(imported module, line, at module level) for every absolute import of ``path``; type-checking-only imports
    are not counted. The engine writes every import in full (``relative_ok`` False)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import):
                out.extend((a.name, child.lineno, top) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level and relative_ok:
                    continue
                if child.level:
                    raise AssertionError(f"{path}:{child.lineno}: relative import (write engine.… in full)")
                base = child.module or ""
                out.append((base, child.lineno, top))
                out.extend((f"{base}.{a.name}", child.lineno, top) for a in child.names)
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                visit(child, False)
            elif isinstance(child, ast.ClassDef):
                visit(child, top)
            else:
                visit(child, top)

    visit(tree, True)
    return out


ENGINE_MODULES = modules(ENGINE)


def package_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "engine" else None


def test_every_engine_module_is_in_a_layer() -> None:
    stray = [m for m in ENGINE_MODULES if m != "engine" and package_of(m) not in ALLOWED]
    assert stray == [], f"modules outside the layers: {stray}"


@pytest.mark.parametrize("module", sorted(m for m in ENGINE_MODULES if m != "engine"))
def test_imports_respect_the_layers(module: str) -> None:
    own = package_of(module)
    assert own is not None
    problems = []
    for target, line, top in imports(ENGINE_MODULES[module]):
        if not top:
            problems.append(f"line {line}: import inside a function ({target})")
        root = target.split(".")[0]
        if root in ("flask", "flask_wtf", "web", "cli", "werkzeug"):
            problems.append(f"line {line}: the engine imports {target}")
        if root == "SpiffWorkflow" and own != "process":
            problems.append(f"line {line}: SpiffWorkflow outside engine/process ({target})")
        other = package_of(target)
        if root == "engine" and other is not None and other != own and other not in ALLOWED[own]:
            problems.append(f"line {line}: {own} may not import {other} ({target})")
    assert problems == [], f"{module}: " + "; ".join(problems)


def test_no_import_cycles() -> None:
    graph: dict[str, set[str]] = {m: set() for m in ENGINE_MODULES}
    for module, path in ENGINE_MODULES.items():
        for target, _line, _top in imports(path):
            while target and target not in ENGINE_MODULES:
                target = target.rpartition(".")[0]
            if target and target != module and not module.startswith(target + ".") and target != "engine":
                graph[module].add(target)
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            walk(node)
    assert cycles == [], "import cycles: " + "; ".join(" → ".join(c) for c in cycles)


@pytest.mark.parametrize("module", sorted(modules(ROOT / "web")))
def test_web_uses_the_services(module: str) -> None:
    bad = [f"line {line}: {target}" for target, line, _top in imports(modules(ROOT / "web")[module], relative_ok=True)
           if target.startswith("engine.") and not any(target == a or target.startswith(a + ".") for a in WEB_ALLOWED)]
    assert bad == [], f"{module} reaches below the services: {bad}"


def test_the_layer_test_sees_a_violation(tmp_path: Path) -> None:
    """The checker itself: a function-level import, a relative import and an upward import are all found."""
    sample = tmp_path / "sample.py"
    sample.write_text("from engine.services import cases\n\ndef f():\n    import SpiffWorkflow\n", encoding="utf-8")
    found = imports(sample)
    assert ("engine.services", 1, True) in found and ("SpiffWorkflow", 4, False) in found
    sample.write_text("from . import x\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="relative import"):
        imports(sample)
