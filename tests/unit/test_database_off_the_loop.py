"""States and HTTP routes reach the database only through `rdv_app.blocking.within`, off the event loop (the
import layers, components without states included, are import-linter contracts: `make lint`)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "rdv_app"


def _database_access_outside_within(path: Path) -> list[str]:
    """`with UnitOfWork(...)` blocks and direct engine or session calls: database work that would run on
    the event loop instead of in `rdv_app.blocking.within`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.With | ast.AsyncWith):
            found += [f"{path.name}:{node.lineno} with {ast.unparse(item.context_expr)}" for item in node.items
                      if isinstance(item.context_expr, ast.Call) and ast.unparse(item.context_expr.func) == "UnitOfWork"]
        elif isinstance(node, ast.Call) and ast.unparse(node.func) in {"get_engine", "session_scope", "rx.session",
                                                                       "rx.asession"}:
            found.append(f"{path.name}:{node.lineno} {ast.unparse(node.func)}()")
    return found


def test_states_and_http_routes_reach_the_database_only_off_the_event_loop() -> None:
    paths = [*(ROOT / "state").rglob("*.py"), *(ROOT / "api").rglob("*.py")]
    assert [found for path in paths for found in _database_access_outside_within(path)] == []
