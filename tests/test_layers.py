"""The house's floors, as a test: imports point down, never up, and never in a circle.

    api, cli            (floor 4: translate HTTP and the command line)
    services            (floor 3: wiring)
    jobs, conversations, live (floor 2: running work, conversation-level operations)
    pipeline, insights, storage, options, transcript, analytics, outbound (floor 1)
    errors, config, ids, times, checksums, textcheck (floor 0)

The wire models and the client are the ``parley_client`` distribution (``client/``), below
every floor: it imports nothing of Parley's (``tests/client/test_light.py``).

A module may import its own floor or lower ones; every import is read from the source
(``import`` statements at any depth, lazy ones included), so a new arrow up fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "parley"

FLOORS = {
    "api": 4,
    "cli": 4,
    "__main__": 4,
    "services": 3,
    "jobs": 2,
    "conversations": 2,
    "groups": 2,
    "bookmarks": 2,  # a conversation's bookmarks (conversations, user_settings beside)
    "callscore": 2,  # call-score criteria, scorecards and a conversation's score
    "auth": 2,
    "user_settings": 2,  # an app's settings (storage below), read by api and services
    "health": 2,
    "retention": 2,
    "live": 2,  # the Streaming API's sessions, recogniser and live conversations
    "pipeline": 1,
    "insights": 1,
    "storage": 1,
    "options": 1,
    "transcript": 1,
    "analytics": 1,
    "outbound": 1,
    "logs": 1,
    "metrics": 1,
    "client": 1,
    "errors": 0,
    "config": 0,
    "ids": 0,
    "times": 0,
    "checksums": 0,
    "textcheck": 0,
    "__init__": 0,
}
#: Within floor 1 the stages stay independent of each other: the pipeline and insights
#: know nothing of storage (nor of each other), so they can run anywhere.
INDEPENDENT = {"pipeline", "insights"}


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    modules = {m for m in found if m == "parley" or m.startswith("parley.")}
    return {m for m in modules if _resolve(m)}


def _resolve(name: str) -> bool:
    rel = Path(*name.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").exists() or (PACKAGE / rel / "__init__.py").exists()


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


GRAPH = {
    _module(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py")) if "migrations" not in p.parts
}


def test_every_module_has_a_floor() -> None:
    missing = sorted({_top(m) for m in GRAPH} - set(FLOORS))
    assert not missing, f"give these a floor in FLOORS: {missing}"


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_point_down(module: str) -> None:
    here = _top(module)
    for target in GRAPH[module]:
        there = _top(target)
        if there == "__init__" or there == here:
            continue
        assert FLOORS[there] <= FLOORS[here], f"{module} imports {target}: an arrow up"
        if here in INDEPENDENT:
            assert there not in INDEPENDENT | {"storage"}, f"{module} imports {target}"


def test_no_import_cycles() -> None:
    edges = {m: {t for t in targets if t in GRAPH and t != m} for m, targets in GRAPH.items()}
    # a package's __init__ re-exports its own modules: that is not a cycle
    for module, targets in edges.items():
        edges[module] = {t for t in targets if not module.startswith(t + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                raise AssertionError("import cycle: " + " → ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
