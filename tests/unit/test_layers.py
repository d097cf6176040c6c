"""Import layers the code keeps: components are reusable because they take props and import no state."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "rdv_app"


def _imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            modules |= {f"{node.module}.{alias.name}" for alias in node.names}
    return modules


def test_components_import_no_state_and_no_page() -> None:
    offending = {
        f"{path.relative_to(ROOT.parent)}: {module}"
        for path in (ROOT / "components").rglob("*.py")
        for module in _imported_modules(path)
        if module.startswith(("rdv_app.state", "rdv_app.pages"))
    }
    assert offending == set()
