"""The layout a newcomer relies on (ARCHITECTURE.md): rooms that import one way only."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PIPELINES = ROOT / "pipelines"


def _module(path: Path) -> str:
    parts = path.relative_to(PIPELINES).with_suffix("").parts
    return ".".join(p for p in parts if p != "__init__")


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(path: Path) -> set[str]:
    """Modules of pipelines/ that this file imports, at any depth (functions too), except
    under ``if TYPE_CHECKING``: those are names for annotations, never run."""
    me = _module(path)
    package = me.split(".") if path.name == "__init__.py" else me.split(".")[:-1]
    package = [p for p in package if p]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if _type_checking(node):
            return
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                target = [*base, *(node.module.split(".") if node.module else [])]
                if node.module:  # "from . import x" runs x, not the package's door again
                    found.add(".".join(target))
                found.update(".".join([*target, alias.name]) for alias in node.names)
            elif node.module and node.module.startswith("cust.pipelines"):
                found.add(node.module.removeprefix("cust.pipelines").lstrip("."))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def _graph() -> dict[str, set[str]]:
    files = {_module(p): p for p in PIPELINES.rglob("*.py")}
    return {m: {t for t in _imports(p) if t in files and t != m} for m, p in files.items()}


def test_no_import_cycle_in_pipelines():
    graph = _graph()
    # A package's front door (its __init__) imports its own modules; a module importing its
    # package's door would be a loop through it, found like any other.
    seen: dict[str, int] = {}
    stack: list[str] = []

    def walk(m: str) -> None:
        seen[m] = 1
        stack.append(m)
        for t in sorted(graph[m]):
            if seen.get(t) == 1:
                cycle = [*stack[stack.index(t):], t]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if t not in seen:
                walk(t)
        stack.pop()
        seen[m] = 2

    for m in sorted(graph):
        if m not in seen:
            walk(m)
    assert {"funnel.spec", "funnel.count", "funnel.drift", "io.inputs"} <= set(graph)
    assert "funnel.count" not in graph["funnel.drift"]  # the old loop, broken by spec


def test_the_cycle_check_finds_a_cycle(tmp_path, monkeypatch):
    # The check itself: a planted loop a -> b -> a (one import inside a function) is found.
    pkg = tmp_path / "pipelines"
    pkg.mkdir()
    (pkg / "a.py").write_text("from .b import x\n")
    (pkg / "b.py").write_text("def f():\n    from .a import y\n")
    monkeypatch.setattr(__import__(__name__), "PIPELINES", pkg)
    with pytest.raises(AssertionError, match="a -> b -> a"):
        test_no_import_cycle_in_pipelines()


def test_pipelines_never_import_the_layers_above():
    for path in PIPELINES.rglob("*.py"):
        depth = len(path.relative_to(PIPELINES).parts)  # pipelines/x.py: 1
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
                if node.level > depth:  # climbs out of pipelines/: cust.<module>
                    names = ["cust." + (node.module or "")]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                assert not name.startswith(("typer", "rich", "cust.cli", "cust.reports")), (
                    path, name)


def test_cli_has_no_polars_and_enters_pipelines_by_the_front_doors():
    doors = {"io", "segment", "funnel", "cohort", "promo", "weekly"}
    for path in (ROOT / "cli").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("polars") for a in node.names), path
            elif isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("polars"), path
                parts = node.module.split(".")
                if parts[:2] == ["cust", "pipelines"] and len(parts) > 3:
                    assert parts[2] not in doors, (path, node.module)  # past the door
