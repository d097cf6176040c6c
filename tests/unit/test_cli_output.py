"""`make run` shows Reflex's output without the advice that misleads a newcomer."""

from __future__ import annotations

import io

from rdv_app.cli import relay

REFLEX_OUTPUT = """\
───────────────────────────── Initializing rdv_app ─────────────────────────────
Info: Initializing the web directory.
Success: Initialized rdv_app. Run `uv run reflex run` to start the app.
───────────────────────────── Starting Reflex App ──────────────────────────────
Warning: Your version (20.20.2) of Node.js is out of date. Upgrade to 22.22.0 or
higher.
/app/.venv/lib/python3.11/site-packages/alembic/ddl/impl.py:859: UserWarning: autogenerate skipping metadata-specified expression-based index 'ix_usager_search_terms'; dialect 'sqlite' under SQLAlchemy 2.1.9 can't reflect these indexes so they can't be compared
  util.warn(
Detected database schema changes. Run reflex db makemigrations to generate\x20
migration scripts.
Creating Production Build:  ━━━━━━━━ 100% 4/4 0:00:36
App running at: http://0.0.0.0:3000/
"""


def test_the_misleading_advice_goes_and_the_rest_stays() -> None:
    shown = io.StringIO()
    relay(REFLEX_OUTPUT.splitlines(keepends=True), shown)
    assert shown.getvalue() == """\
───────────────────────────── Initializing rdv_app ─────────────────────────────
Info: Initializing the web directory.
Success: Initialized rdv_app.
───────────────────────────── Starting Reflex App ──────────────────────────────
Creating Production Build:  ━━━━━━━━ 100% 4/4 0:00:36
App running at: http://0.0.0.0:3000/
"""
