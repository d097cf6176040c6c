"""An organisation's time zone and its "today": every local date and wall-clock time of the
organisation's pages and rules is read through these (domain.md section 1, "Time zones")."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import select

from rdv_app.db.models import Organisation
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.services.boundary import boundary


@boundary
def time_zone(uow: UnitOfWork, organisation_id: int) -> str:
    """The organisation's IANA time zone, e.g. "Indian/Reunion"."""
    name = uow.session.exec(select(Organisation.timezone).where(Organisation.id == organisation_id)).one()
    assert name is not None, "the column is NOT NULL"
    return name


def zone(uow: UnitOfWork, organisation_id: int) -> ZoneInfo:
    return ZoneInfo(time_zone(uow, organisation_id))


def today(uow: UnitOfWork, organisation_id: int, now: datetime | None = None) -> date:
    """The date on the organisation's wall clocks at `now` (default: the clock's now)."""
    return (now or clock.now()).astimezone(zone(uow, organisation_id)).date()
