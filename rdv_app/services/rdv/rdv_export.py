"""Exports of "Liste des RDV" (admin-domain.md 9.2 to 9.4, domain.md section 7): asked from the list with its
filters, built by the worker, downloaded from "Vos exports" by their creator only.

- What: the rows of `rdv_app.services.rdv.rdv_search` for the same filters and the same agent, so the
  visibility rule of the list applies to the file (a basic agent's file has no RDV of another service),
  read again when the file is built: an agent who lost a role meanwhile gets a refusal, not the rows.
  The statuses are told by time at the instant the export was asked, so that the file counts what the
  button said.
- Several organisations: one file, whose "Organisation" column (one of RDV Service Public's 21 columns)
  tells their RDVs apart; RDV Service Public's file names are kept (`export-rdv-YYYY-MM-DD-org-000042`
  for one organisation, `export-rdv-YYYY-MM-DD` for several, `export-rdvs-user-YYYY-MM-DD` by usager),
  since some départements read them by position. One file rather than one per organisation: a filter
  over several organisations asks one question, and a spreadsheet filters on a column.
- Formats: `.xlsx` (dates in date cells "DD/MM/YYYY", times in time cells "hh:mm", in each organisation's
  time zone) and `.csv` (semicolons, UTF-8 with its mark, the way French spreadsheets open it).
- Building (`build_next_export`, run by the worker's thread of long jobs): the oldest waiting export is
  claimed with a lease (`claimed_by`, `locked_until`); its RDVs are read BATCH at a time, by start from the
  latest (keyset, each batch in its own short read), and written as they come to a temporary file
  (XlsxWriter's constant-memory mode or the csv module: memory stays flat whatever the size); every batch
  renews the lease and the progress, only while the claim is still this one's.
- Crash safety: the file reaches the database only at the end, in the transaction that marks the export
  available and queues the email (idempotency key `export-ready:<id>`): a crash before leaves no file to
  offer and no email; a crash after leaves both, once. An export whose worker died is claimed again when
  its lease ends and built again from the start; after MAX_ATTEMPTS claims it fails, with a message.
- Retention: a link works `settings.export_link_hours` (6 by default) after the file is ready; "Vos
  exports" lists the exports of the last LISTED_FOR; the daily job `purge_exports` empties expired files and
  deletes the rows no longer listed.
"""

from __future__ import annotations

import csv
import logging
import os
import secrets
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
import xlsxwriter
from sqlalchemy.orm import aliased
from sqlmodel import col, func, select

from rdv_app import routes
from rdv_app.config import settings
from rdv_app.db.models import (
    Agent,
    Export,
    Lieu,
    Motif,
    Organisation,
    Participation,
    Prescripteur,
    Rdv,
    RdvAgent,
    Receipt,
    Service,
    Usager,
)
from rdv_app.db.rows import not_null, require_id, table_of
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, datefmt
from rdv_app.domain.enums import (
    Channel,
    ExportFormat,
    ExportStatus,
    ExportType,
    LieuAvailability,
    NotificationEvent,
    ReceiptResult,
)
from rdv_app.domain.masking import reverse_full_name
from rdv_app.domain.names import agent_name
from rdv_app.domain.rdv_export import (
    NOTIFICATIONS_DONE,
    NOTIFICATIONS_FAILED,
    PARTICIPATION_COLUMNS,
    RDV_COLUMNS,
    Cell,
    ExportedRdv,
    Person,
    participation_rows,
    rdv_row,
)
from rdv_app.domain.rdv_list import RdvFilters
from rdv_app.notify.email_html import with_html
from rdv_app.notify.outbox import enqueue
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError, NotFound
from rdv_app.services.rdv.rdv_search import Scoped, conditions, count_rdvs, scoped

logger = logging.getLogger(__name__)

BATCH = 500
# Renewed at every batch (well under a second each): a dead worker's export is taken again within this.
LEASE = timedelta(seconds=30)
MAX_ATTEMPTS = 3
LISTED_FOR = timedelta(days=14)
JOBS_ZONE = "Europe/Paris"  # of file names and email subjects: the organisations' zone when they share one
FAILED = "L'export n'a pas pu être créé. Créez-en un nouveau depuis la liste des RDV ; si cela se reproduit, " \
         "contactez le support."
EXPIRED = "Ce lien de téléchargement a expiré : créez un nouvel export depuis la liste des RDV."
MEDIA_TYPES = {ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               ExportFormat.CSV: "text/csv; charset=utf-8"}
FORMAT_LABELS = {ExportFormat.XLSX: "Excel (.xlsx)", ExportFormat.CSV: "CSV (.csv)"}


# --------------------------------------------------------------------------- asking, listing, downloading


@dataclass(frozen=True)
class ExportRequested:
    id: str
    total: int  # RDVs, or participations for an export by usager


@dataclass(frozen=True)
class ExportLine:
    id: str
    title: str  # "Export de RDV du 07/12/2026 14:05"
    organisations: str
    format_label: str
    state: str  # pending, running, available, expired, failed
    progress: int
    total: int
    error: str
    download_path: str  # "" unless available


@dataclass(frozen=True)
class ExportFile:
    file_name: str
    media_type: str
    content: bytes


def _filters_json(filters: RdvFilters) -> dict[str, Any]:
    return {"organisation_ids": list(filters.organisation_ids), "agent_id": filters.agent_id,
            "usager_id": filters.usager_id, "lieu_ids": list(filters.lieu_ids), "motif_ids": list(filters.motif_ids),
            "status": filters.status, "start": filters.start.isoformat() if filters.start else None,
            "end": filters.end.isoformat() if filters.end else None}


def _filters_of(options: dict[str, Any]) -> RdvFilters:
    f = options["filters"]
    return RdvFilters(organisation_ids=tuple(f["organisation_ids"]), agent_id=f["agent_id"], usager_id=f["usager_id"],
                      lieu_ids=tuple(f["lieu_ids"]), motif_ids=tuple(f["motif_ids"]), status=f["status"],
                      start=date.fromisoformat(f["start"]) if f["start"] else None,
                      end=date.fromisoformat(f["end"]) if f["end"] else None)


def _rdv_query(checked: Scoped, asked_at: datetime) -> sa.Select:
    return select(Rdv.id).where(*conditions(checked, asked_at))


def count_rows(uow: UnitOfWork, checked: Scoped, export_type: str, asked_at: datetime) -> int:
    """The rows of the file: RDVs, or their participations for an export by usager."""
    if export_type == ExportType.RDV_EXPORT:
        return count_rdvs(uow, checked, asked_at)
    rdvs = _rdv_query(checked, asked_at).subquery()
    return uow.session.exec(select(func.count()).select_from(Participation)
                            .where(col(Participation.rdv_id).in_(select(rdvs.c.id)))).one()


@boundary
def request_export(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, filters: RdvFilters,
                   export_type: str, export_format: str, now: datetime | None = None) -> ExportRequested:
    """Asks the worker for a file of the list with these filters (see the module's docstring)."""
    now = now or clock.now()
    if export_type not in set(ExportType):
        raise DomainError("Ce type d'export n'existe pas.")
    if export_format not in set(ExportFormat):
        raise DomainError("Ce format de fichier n'est pas proposé : choisissez Excel (.xlsx) ou CSV (.csv).")
    checked = scoped(uow, actor_agent_id, organisation_id, filters)
    total = count_rows(uow, checked, export_type, now)
    if total == 0:
        raise DomainError("Aucun RDV ne correspond à ces filtres : il n'y a rien à exporter.")
    organisation_ids = [scope.organisation_id for scope in checked.scopes]
    stored = RdvFilters(**{**filters.__dict__, "organisation_ids": tuple(organisation_ids)})
    row = Export(export_type=export_type, agent_id=actor_agent_id, organisation_ids=organisation_ids,
                 options={"filters": _filters_json(stored), "asked_at": now.isoformat()},
                 export_format=export_format, total=total, expires_at=now + timedelta(hours=settings.export_link_hours),
                 created_at=now)
    uow.session.add(row)
    uow.commit()
    return ExportRequested(row.id, total)


def _title(export: Export) -> str:
    kind = "Export de RDV par usager" if export.export_type == ExportType.PARTICIPATIONS_EXPORT else "Export de RDV"
    asked = datefmt.local(export.created_at, JOBS_ZONE)
    return f"{kind} du {asked:%d/%m/%Y %H:%M}"


@boundary
def list_exports(uow: UnitOfWork, actor_agent_id: int, now: datetime | None = None) -> tuple[ExportLine, ...]:
    """"Vos exports": the agent's own exports of the last two weeks, newest first."""
    now = now or clock.now()
    exports = uow.session.exec(
        select(Export).where(Export.agent_id == actor_agent_id, col(Export.created_at) > now - LISTED_FOR)
        .order_by(col(Export.created_at).desc())).all()
    organisation_ids = {org for export in exports for org in export.organisation_ids}
    names = dict(uow.session.exec(select(Organisation.id, Organisation.name)
                                  .where(col(Organisation.id).in_(organisation_ids))).all())
    lines = []
    for export in exports:
        state = export.status
        if state == ExportStatus.AVAILABLE and export.expires_at <= now:
            state = "expired"
        lines.append(ExportLine(
            id=export.id, title=_title(export),
            organisations=", ".join(sorted(names.get(org, "") for org in export.organisation_ids)),
            format_label=FORMAT_LABELS[ExportFormat(export.export_format)], state=state, progress=export.progress,
            total=export.total, error=export.error or "",
            download_path=routes.export_download(export.id) if state == ExportStatus.AVAILABLE else ""))
    return tuple(lines)


@boundary
def export_file(uow: UnitOfWork, actor_agent_id: int, export_id: str, now: datetime | None = None) -> ExportFile:
    """The file of an export, for its creator while its link is valid; NotFound for anyone else (as for
    an export that does not exist) and once expired."""
    now = now or clock.now()
    export = uow.session.get(Export, export_id)
    if export is None or export.agent_id != actor_agent_id:
        raise NotFound("Cet export n'existe pas ou ne vous appartient pas.")
    if export.status != ExportStatus.AVAILABLE or export.content is None or export.file_name is None:
        raise NotFound(EXPIRED if export.expires_at <= now else "Cet export n'est pas encore prêt.")
    if export.expires_at <= now:
        raise NotFound(EXPIRED)
    return ExportFile(export.file_name, MEDIA_TYPES[ExportFormat(export.export_format)], export.content)


def purge_exports(uow: UnitOfWork, day: date) -> int:
    """Daily job: empties the files whose link has expired and deletes the exports no longer listed."""
    now = clock.now()
    emptied = uow.session.exec(sa.update(Export).where(col(Export.expires_at) <= now, col(Export.content).is_not(None))
                               .values(content=None)).rowcount  # type: ignore[call-overload]
    deleted = uow.session.exec(sa.delete(Export).where(col(Export.created_at) <= now - LISTED_FOR)).rowcount  # type: ignore[call-overload]
    uow.commit()
    return int(emptied or 0) + int(deleted or 0)


# --------------------------------------------------------------------------- building (the worker)


class ClaimLost(Exception):
    """Another worker took the export (this one was taken for dead): stop without writing anything."""


class Stopping(Exception):
    """The worker is stopping: the export is handed back, to be built again by the next worker."""


class RowWriter(Protocol):
    def write(self, row: Sequence[Cell]) -> None: ...

    def close(self) -> None: ...


class XlsxWriter:
    """XlsxWriter's constant-memory mode: each row goes to a temporary file as it is written (openpyxl's
    write-only mode streams too, but writes its XML in pure Python, ten times slower)."""

    DATE_FORMAT, TIME_FORMAT = "dd/mm/yyyy", "hh:mm"

    def __init__(self, path: str, columns: Sequence[str]) -> None:
        self.book = xlsxwriter.Workbook(path, {"constant_memory": True, "tmpdir": os.path.dirname(path)})
        self.sheet = self.book.add_worksheet("RDV")
        self.dates = self.book.add_format({"num_format": self.DATE_FORMAT})
        self.times = self.book.add_format({"num_format": self.TIME_FORMAT})
        self.sheet.write_row(0, 0, list(columns))
        self.row = 1

    def write(self, row: Sequence[Cell]) -> None:
        for column, value in enumerate(row):
            if isinstance(value, date):
                self.sheet.write_datetime(self.row, column, value, self.dates)
            elif isinstance(value, time):
                self.sheet.write_datetime(self.row, column, value, self.times)
            elif isinstance(value, int):
                self.sheet.write_number(self.row, column, value)
            elif value:
                self.sheet.write_string(self.row, column, value)
        self.row += 1

    def close(self) -> None:
        self.book.close()


class CsvWriter:
    def __init__(self, path: str, columns: Sequence[str]) -> None:
        self.file = open(path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed by close()
        self.writer = csv.writer(self.file, delimiter=";")
        self.writer.writerow(columns)

    @staticmethod
    def _text(value: Cell) -> str | int:
        if isinstance(value, date):
            return value.strftime("%d/%m/%Y")
        if isinstance(value, time):
            return value.strftime("%H:%M")
        return "" if value is None else value

    def write(self, row: Sequence[Cell]) -> None:
        self.writer.writerow([self._text(value) for value in row])

    def close(self) -> None:
        self.file.close()


def _file_name(export: Export, asked_at: datetime) -> str:
    day = datefmt.local(asked_at, JOBS_ZONE).date().isoformat()
    if export.export_type == ExportType.PARTICIPATIONS_EXPORT:
        stem = f"export-rdvs-user-{day}"
    elif len(export.organisation_ids) == 1:
        stem = f"export-rdv-{day}-org-{export.organisation_ids[0]:06d}"
    else:
        stem = f"export-rdv-{day}"
    return f"{stem}.{export.export_format}"


def _exported(uow: UnitOfWork, checked: Scoped, rdv_ids: Sequence[int]) -> list[ExportedRdv]:
    """The RDVs of a batch with everything their rows tell, in a handful of queries."""
    r, m, sv, lieu = table_of(Rdv).c, table_of(Motif).c, table_of(Service).c, table_of(Lieu).c
    main = uow.session.execute(
        sa.select(r.id, r.organisation_id, r.created_at, r.created_by_type, r.created_by_agent_id,
                  r.created_by_usager_id, r.created_by_prescripteur_id, r.starts_at, r.status, r.context, m.name,
                  m.location_type, sv.name, lieu.name, lieu.address, lieu.availability)
        .join_from(table_of(Rdv), table_of(Motif), m.id == r.motif_id).join(table_of(Service), sv.id == m.service_id)
        .outerjoin(table_of(Lieu), lieu.id == r.lieu_id).where(r.id.in_(rdv_ids))).all()
    agents: dict[int, list[tuple[str, str]]] = {}
    for rdv_id, first, last, email in uow.session.exec(
            select(RdvAgent.rdv_id, Agent.first_name, Agent.last_name, Agent.email)
            .join(Agent, col(Agent.id) == RdvAgent.agent_id).where(col(RdvAgent.rdv_id).in_(rdv_ids))
            .order_by(col(Agent.last_name), col(Agent.first_name))).all():
        agents.setdefault(rdv_id, []).append((agent_name(first, last), email or ""))
    receipts: dict[tuple[int, int | None], str] = {}
    for receipt_rdv, receipt_usager, failures in uow.session.exec(
            select(col(Receipt.rdv_id), col(Receipt.usager_id),
                   func.sum(sa.case((col(Receipt.result) == ReceiptResult.FAILURE.value, 1), else_=0)))
            .where(col(Receipt.rdv_id).in_(rdv_ids)).group_by(col(Receipt.rdv_id), col(Receipt.usager_id))).all():
        receipts[(receipt_rdv or 0, receipt_usager)] = NOTIFICATIONS_FAILED if failures else NOTIFICATIONS_DONE
    responsible = aliased(Usager)
    people: dict[int, list[Person]] = {}
    for rdv_id, status, usager, lead in uow.session.exec(
            select(Participation.rdv_id, Participation.status, Usager, responsible)
            .join(Usager, col(Usager.id) == Participation.usager_id)
            .outerjoin(responsible, col(responsible.id) == Usager.responsible_id)
            .where(col(Participation.rdv_id).in_(rdv_ids)).order_by(col(Participation.id))).all():
        contact = lead or usager
        people.setdefault(rdv_id, []).append(Person(
            reverse_full_name(usager.first_name, usager.last_name), usager.birth_date, contact.city_name,
            contact.address, contact.post_code, status, receipts.get((rdv_id, usager.id), "")))
    authors = _authors(uow, main)
    found = []
    for (rdv_id, organisation_id, created_at, created_by_type, by_agent, by_usager, by_prescripteur, starts_at, status,
         context, motif, location_type, service, lieu_name, lieu_address, availability) in main:
        rdv_receipts = [result for (rid, _), result in receipts.items() if rid == rdv_id]
        found.append(ExportedRdv(
            id=rdv_id, time_zone=checked.zones[organisation_id], created_at=created_at,
            created_by_type=created_by_type,
            author=authors.get(("agent", by_agent)) or authors.get(("usager", by_usager))
            or authors.get(("prescripteur", by_prescripteur)) or "",
            starts_at=starts_at, status=status, service=service, motif=motif, context=context,
            location_type=location_type, lieu_name=lieu_name, lieu_address=lieu_address,
            lieu_single_use=availability == LieuAvailability.SINGLE_USE,
            agents=tuple(name for name, _ in agents.get(rdv_id, [])),
            agent_emails=tuple(email for _, email in agents.get(rdv_id, []) if email),
            organisation=checked.names[organisation_id], people=tuple(people.get(rdv_id, ())),
            notifications=NOTIFICATIONS_FAILED if NOTIFICATIONS_FAILED in rdv_receipts
            else (NOTIFICATIONS_DONE if rdv_receipts else "")))
    return found


def _authors(uow: UnitOfWork, main: Sequence[Any]) -> dict[tuple[str, int | None], str]:
    agent_ids = {row[4] for row in main if row[4]}
    usager_ids = {row[5] for row in main if row[5]}
    prescripteur_ids = {row[6] for row in main if row[6]}
    authors: dict[tuple[str, int | None], str] = {}
    for agent_id, first, last in uow.session.exec(select(Agent.id, Agent.first_name, Agent.last_name)
                                                  .where(col(Agent.id).in_(agent_ids))).all():
        authors[("agent", agent_id)] = agent_name(first, last)
    for usager_id, first, last in uow.session.exec(select(Usager.id, Usager.first_name, Usager.last_name)
                                                   .where(col(Usager.id).in_(usager_ids))).all():
        authors[("usager", usager_id)] = reverse_full_name(first, last)
    for prescripteur_id, first, last in uow.session.exec(
            select(Prescripteur.id, Prescripteur.first_name, Prescripteur.last_name)
            .where(col(Prescripteur.id).in_(prescripteur_ids))).all():
        authors[("prescripteur", prescripteur_id)] = reverse_full_name(first, last)
    return authors


def _batches(url: str, export: Export, asked_at: datetime) -> Iterator[list[ExportedRdv]]:
    """The export's RDVs, latest start first, BATCH at a time, each batch read in its own short transaction."""
    filters = _filters_of(export.options)
    after: tuple[datetime, int] | None = None
    while True:
        with UnitOfWork(url, read_only=True) as uow:
            checked = scoped(uow, export.agent_id, export.organisation_ids[0], filters)
            query = select(Rdv.starts_at, not_null(Rdv.id)).where(*conditions(checked, asked_at))
            if after is not None:
                query = query.where(sa.or_(col(Rdv.starts_at) < after[0],
                                           sa.and_(col(Rdv.starts_at) == after[0], col(Rdv.id) < after[1])))
            keys = uow.session.exec(query.order_by(col(Rdv.starts_at).desc(), col(Rdv.id).desc()).limit(BATCH)).all()
            if not keys:
                return
            by_id = {rdv.id: rdv for rdv in _exported(uow, checked, [rdv_id for _, rdv_id in keys])}
        yield [by_id[rdv_id] for _, rdv_id in keys]
        after = (keys[-1][0], keys[-1][1])


def _claim(url: str, lease: timedelta) -> tuple[str, str] | None:
    """(export id, claim) of the oldest export waiting or whose worker's lease ended; None when none."""
    now = clock.now()
    waiting = sa.or_(col(Export.status) == ExportStatus.PENDING.value,
                     sa.and_(col(Export.status) == ExportStatus.RUNNING.value, col(Export.locked_until) < now))
    with UnitOfWork(url) as uow:
        for export_id in uow.session.exec(select(Export.id).where(waiting).order_by(col(Export.created_at)).limit(5)):
            claim = secrets.token_hex(8)
            taken = uow.session.exec(sa.update(Export).where(col(Export.id) == export_id, waiting).values(  # type: ignore[call-overload]
                status=ExportStatus.RUNNING.value, claimed_by=claim, locked_until=now + lease,
                attempts=col(Export.attempts) + 1, progress=0)).rowcount
            if taken:
                uow.commit()
                return export_id, claim
    return None


def _held(export_id: str, claim: str) -> list[sa.ColumnElement[bool]]:
    return [col(Export.id) == export_id, col(Export.claimed_by) == claim,
            col(Export.status) == ExportStatus.RUNNING.value]


def _update(url: str, export_id: str, claim: str, **values: Any) -> None:
    with UnitOfWork(url) as uow:
        if not uow.session.exec(sa.update(Export).where(*_held(export_id, claim)).values(**values)).rowcount:  # type: ignore[call-overload]
            raise ClaimLost(export_id)
        uow.commit()


def build_next_export(url: str, *, lease: timedelta = LEASE, stopping: Callable[[], bool] = lambda: False) -> bool:
    """Builds the oldest export waiting (see the module's docstring); False when none waited."""
    claimed = _claim(url, lease)
    if claimed is None:
        return False
    export_id, claim = claimed
    with UnitOfWork(url, read_only=True) as uow:
        export = uow.session.get(Export, export_id)
        assert export is not None, "a claimed export exists"
        uow.session.expunge(export)
    logger.info("export %s: claimed (attempt %d)", export_id, export.attempts)
    if export.attempts > MAX_ATTEMPTS:
        logger.warning("export %s: failed %d times, given up", export_id, export.attempts - 1)
        _update(url, export_id, claim, status=ExportStatus.FAILED.value, error=FAILED, claimed_by=None,
                locked_until=None)
        return True
    fd, path = tempfile.mkstemp(prefix="rdv-export-", suffix=f".{export.export_format}")
    os.close(fd)
    try:
        _write(url, export, claim, path, lease, stopping)
    except (ClaimLost, Stopping) as stop:
        if isinstance(stop, Stopping):
            _update(url, export_id, claim, status=ExportStatus.PENDING.value, claimed_by=None, locked_until=None,
                    attempts=export.attempts - 1)
        logger.info("export %s: %s, left for the next worker", export_id, type(stop).__name__)
    except DomainError as refused:  # the agent lost the rights the export was asked with
        _update(url, export_id, claim, status=ExportStatus.FAILED.value, error=refused.message, claimed_by=None,
                locked_until=None)
    finally:
        os.unlink(path)
    return True


def _write(url: str, export: Export, claim: str, path: str, lease: timedelta, stopping: Callable[[], bool]) -> None:
    asked_at = datetime.fromisoformat(export.options["asked_at"])
    by_usager = export.export_type == ExportType.PARTICIPATIONS_EXPORT
    columns = PARTICIPATION_COLUMNS if by_usager else RDV_COLUMNS
    writer: RowWriter = (XlsxWriter(path, columns) if export.export_format == ExportFormat.XLSX
                         else CsvWriter(path, columns))
    with UnitOfWork(url, read_only=True) as uow:
        checked = scoped(uow, export.agent_id, export.organisation_ids[0], _filters_of(export.options))
        total = count_rows(uow, checked, export.export_type, asked_at)
    _update(url, export.id, claim, total=total, locked_until=clock.now() + lease)
    written = 0
    try:
        for rdvs in _batches(url, export, asked_at):
            for rdv in rdvs:
                rows = participation_rows(rdv, asked_at) if by_usager else [rdv_row(rdv, asked_at)]
                for row in rows:
                    writer.write(row)
                written += len(rows)
            if stopping():
                raise Stopping(export.id)
            _update(url, export.id, claim, progress=min(99, written * 100 // max(total, 1)),
                    locked_until=clock.now() + lease)
    finally:
        writer.close()
    with open(path, "rb") as built:
        content = built.read()
    _complete(url, export, claim, content, written, asked_at)


def _complete(url: str, export: Export, claim: str, content: bytes, written: int, asked_at: datetime) -> None:
    """The file, the available status and the email, in one transaction, only while the claim holds."""
    now = clock.now()
    expires_at = now + timedelta(hours=settings.export_link_hours)
    with UnitOfWork(url) as uow:
        done = uow.session.exec(sa.update(Export).where(*_held(export.id, claim)).values(  # type: ignore[call-overload]
            status=ExportStatus.AVAILABLE.value, content=content, file_name=_file_name(export, asked_at),
            total=written, progress=100, computed_at=now, expires_at=expires_at, claimed_by=None,
            locked_until=None)).rowcount
        if not done:
            raise ClaimLost(export.id)
        agent = uow.session.get(Agent, export.agent_id)
        if agent is not None and agent.email and agent.deleted_at is None:
            _queue_email(uow, export, require_id(agent), agent.email, asked_at, expires_at)
        uow.commit()
    logger.info("export %s: %d row(s) written", export.id, written)


def _queue_email(uow: UnitOfWork, export: Export, agent_id: int, email: str, asked_at: datetime,
                 expires_at: datetime) -> None:
    asked = datefmt.local(asked_at, JOBS_ZONE)
    kind = "Export des RDVs par usager" if export.export_type == ExportType.PARTICIPATIONS_EXPORT else "Export des RDVs"
    text = "\n".join([
        "Bonjour,", "",
        "Votre export est prêt, vous pouvez le télécharger via la page des exports :",
        f"{settings.public_url}{routes.EXPORTS}", "",
        f"Le lien de téléchargement est valable jusqu'au {datefmt.long_datetime(expires_at, JOBS_ZONE)}.", "",
    ])
    enqueue(uow.session, channel=Channel.MAIL, event=NotificationEvent.ACCOUNT,
            idempotency_key=f"export-ready:{export.id}", agent_id=agent_id, expires_at=expires_at,
            payload=with_html({"to": email, "subject": f"{kind} du {asked:%d/%m/%Y} à {asked:%H:%M}", "text": text}))
