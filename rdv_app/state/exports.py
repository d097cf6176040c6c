""""Vos exports": the signed-in agent's exports, their progress followed live while one is being built; every
rule lives in services.rdv.rdv_export (which lists only the agent's own)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import reflex as rx

from rdv_app import routes
from rdv_app.blocking import within
from rdv_app.config import settings
from rdv_app.db.uow import UnitOfWork
from rdv_app.services.rdv import rdv_export
from rdv_app.state.agent import AgentState
from rdv_app.state.organisation import OrganisationPageState
from rdv_app.state.typed_event import event

# The progress shown moves this often while an export is being built, for at most FOLLOW_SECONDS.
FOLLOW_PAUSE = 1.0
FOLLOW_SECONDS = 30 * 60
IN_PROGRESS = ("pending", "running")


@dataclass
class ExportRow:
    id: str
    title: str
    organisations: str
    format_label: str
    state: str
    progress: int
    progress_label: str  # "En création… 42 %"
    total: str
    error: str
    href: str


def _rows(lines: tuple[rdv_export.ExportLine, ...]) -> list[ExportRow]:
    return [ExportRow(
        id=line.id, title=line.title, organisations=line.organisations, format_label=line.format_label,
        state=line.state, progress=line.progress, progress_label=f"En création… {line.progress} %",
        total=f"{line.total} ligne(s)" if line.total else "",
        error=line.error, href=settings.api_path(line.download_path) if line.download_path else "")
        for line in lines]


async def _lines(agent_id: int) -> tuple[rdv_export.ExportLine, ...]:
    return await within(UnitOfWork(read_only=True), lambda uow: rdv_export.list_exports(uow, agent_id))


class ExportsState(OrganisationPageState, AgentState):
    rows: rx.Field[list[ExportRow]] = rx.field(default_factory=list)
    link_hours: rx.Field[int] = rx.field(settings.export_link_hours)
    ready_message: rx.Field[str] = rx.field("")  # announced when an export followed here is ready
    _following: bool = False

    async def _load(self, agent_id: int, organisation_id: int):
        self.ready_message = ""
        self.rows = _rows(await _lines(agent_id))
        if any(row.state in IN_PROGRESS for row in self.rows) and not self._following:
            self._following = True
            return ExportsState.follow_progress
        return None

    @event(background=True)
    async def follow_progress(self):
        """Reads the exports again every FOLLOW_PAUSE while one is being built and the page is open."""
        deadline = time.monotonic() + FOLLOW_SECONDS
        try:
            while time.monotonic() < deadline:
                await asyncio.sleep(FOLLOW_PAUSE)
                async with self:
                    agent_id = self._agent_id
                    here = self.router.route_id == routes.EXPORTS
                if agent_id is None or not here:
                    return
                rows = _rows(await _lines(agent_id))
                async with self:
                    waiting = {row.id for row in self.rows if row.state in IN_PROGRESS}
                    ready = [row.title for row in rows if row.id in waiting and row.state == "available"]
                    if ready:
                        self.ready_message = f"Votre export est prêt : {ready[0]}. Vous pouvez le télécharger."
                    self.rows = rows
                if not any(row.state in IN_PROGRESS for row in rows):
                    return
        finally:
            async with self:
                self._following = False

    @event
    async def refresh(self):
        if self._agent_id is not None:
            self.rows = _rows(await _lines(self._agent_id))
