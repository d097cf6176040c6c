"""A browser tab on a public page, run on Reflex's own state tree (no server): `go` loads an address as
following a link does, `click_week` is a plain click on a link to another week (the page's `change_week`);
`statements` holds the SQL that the last of them sent. For the week pages of the usagers' booking, « Changer
la date » and the prescripteurs' search."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import sqlalchemy as sa
from reflex.config import reload_config
from reflex.state import BaseState, State

import rdv_app.rdv_app  # noqa: F401  (every page's state, as the app registers them)
from rdv_app.db.engine import get_engine

Asked = tuple[str, dict[str, object]] | None  # what an event asks the browser: Reflex's frontend event, its args


@contextmanager
def app_database(db_url: str) -> Iterator[None]:
    """The states open their own units of work on the configured database: point it at `db_url`."""
    previous = os.environ.get("REFLEX_DB_URL")
    os.environ["REFLEX_DB_URL"] = db_url
    reload_config()
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("REFLEX_DB_URL", None)
        else:
            os.environ["REFLEX_DB_URL"] = previous
        reload_config()


class Tab:
    def __init__(self, db_url: str, state: type[BaseState], cookie: str = "") -> None:
        self.root = State(_reflex_internal_init=True)
        self.engine = get_engine(db_url)
        self.state = state
        self.cookie = cookie
        self.statements: list[str] = []

    def _record(self, _conn, _cursor, statement, _parameters, _context, _executemany) -> None:  # noqa: ANN001
        if statement.split(None, 1)[0].upper() not in {"BEGIN", "COMMIT", "ROLLBACK"}:
            self.statements.append(statement)

    @contextmanager
    def _recording(self) -> Iterator[None]:
        self.statements = []
        sa.event.listen(self.engine, "before_cursor_execute", self._record)
        try:
            yield
        finally:
            sa.event.remove(self.engine, "before_cursor_execute", self._record)

    async def go(self, href: str) -> Any:
        """The page at `href` (a path and its query), loaded."""
        address = urlsplit(href)
        query = dict(parse_qsl(address.query))
        self.root.router_data = self.root._update_router_vars(
            {"headers": {"cookie": self.cookie}, "pathname": address.path,
             "asPath": f"{address.path}?{urlencode(query)}" if query else address.path, "query": query}, {})
        page = await self.root.get_state(self.state)
        with self._recording():
            async for _ in self.state.event_handlers["load"].fn(page):
                pass
        return page

    async def click_week(self, which: str) -> tuple[Any, Asked]:
        """A plain click on a link to another week (`which`: "previous", "next", "following"): the page's
        `change_week` event; the page and what it asks the browser to do."""
        page = await self.root.get_state(self.state)
        with self._recording():
            spec = await self.state.event_handlers["change_week"].fn(page, which)
        if spec is None:
            return page, None
        return page, (spec.handler.fn.__qualname__, {str(name): value._var_value for name, value in spec.args})


def pushed(asked: Asked) -> str:
    """The address a `history_push` writes into the tab's history (the script's last string)."""
    assert asked is not None and asked[0] == "_call_script", asked
    script = str(asked[1]["javascript_code"])
    return script.rsplit(", '', ", 1)[1].removesuffix("); })()").strip('"')


def redirected(asked: Asked) -> str:
    """The address an `rx.redirect` loads as a page."""
    assert asked is not None and asked[0] == "_redirect", asked
    assert asked[1]["replace"] is False and asked[1]["external"] is False
    return str(asked[1]["path"])
