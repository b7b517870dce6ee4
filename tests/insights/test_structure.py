"""The insight package's shape: records in ``schema``, the orchestrator in ``compute``, no
circular import, nothing from the floors above, no settings read behind the caller's back."""

from __future__ import annotations

import ast
from pathlib import Path

import parley.insights

PACKAGE = Path(parley.insights.__file__).parent
MODULES = {p.stem: p for p in PACKAGE.glob("*.py")}
ABOVE = ("parley.api", "parley.services", "parley.jobs", "parley.storage", "parley.conversations")


def imports(path: Path) -> set[str]:
    """Fully qualified modules imported by ``path`` (``from pkg import mod`` counts as
    ``pkg.mod`` when ``mod`` is a module of the package), type-checking imports included."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                is_module = node.module == "parley.insights" and alias.name in MODULES
                out.add(name if is_module else node.module)
    return out


def graph() -> dict[str, set[str]]:
    return {
        name: {
            m.removeprefix("parley.insights.")
            for m in imports(path)
            if m.startswith("parley.insights.")
        }
        for name, path in MODULES.items()
        if name != "__init__"
    }


def test_no_circular_import_in_the_package() -> None:
    edges = graph()
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            assert state.get(nxt) != 1, "circular import: " + " -> ".join([*trail, node, nxt])
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [])


def test_detectors_import_the_records_never_the_orchestrator_or_the_package() -> None:
    for name, path in MODULES.items():
        if name == "__init__":
            continue
        mods = imports(path)
        assert "parley.insights" not in mods, f"{name} imports the package's __init__"
        if name not in ("compute", "pool"):  # pool runs compute in another process
            assert "parley.insights.compute" not in mods, f"{name} imports compute"
    assert "parley.insights.compute" in imports(MODULES["__init__"])
    assert not (PACKAGE / "base.py").exists()


def test_nothing_imports_a_floor_above_or_reads_the_environment() -> None:
    for name, path in MODULES.items():
        mods = imports(path)
        assert not [m for m in mods if m.startswith(ABOVE)], name
        source = path.read_text(encoding="utf-8")
        assert "os.environ" not in source and "getenv" not in source, name


def test_public_names_still_exported() -> None:
    for name in (
        "ConversationInsights",
        "CustomEntity",
        "InsightOptions",
        "LlmSettings",
        "Member",
        "Message",
        "TrackerSpec",
        "compute_insights",
        "person_json",
        "warm",
    ):
        assert name in parley.insights.__all__ and hasattr(parley.insights, name)
