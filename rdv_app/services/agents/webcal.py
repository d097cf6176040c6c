"""An agent's personal calendar feed (webcal), domain.md section 4 and the FAQ "Comment synchroniser avec
mon agenda ?".

- The feed lives at `/calendrier/<calendar_uid>.ics`; the `calendar_uid` is the only credential
  (calendar software cannot log in), so it is long (192 random bits) and "Réinitialiser le lien" replaces
  it, after which the old address is unknown (404). As in RDV Service Public it starts with a slug of the
  agent's name ("marie-dupont-<secret>") so that an agent tells their feeds apart; the slug is part of the
  hashed secret, so it grants nothing alone and a name alone finds no agent. Addresses made before the
  slug (a bare secret) keep working until reset.
- At rest the secret is never in clear: the database keeps its SHA-256 (`Agent.calendar_uid_hash`), which
  finds the agent from an address, and the secret sealed with RDV_SECRET_KEY (`calendar_uid_sealed`,
  rdv_app.auth.sealed), which shows the agent their address again on "Mon compte", as before. A copy of
  the database alone gives no feed. Sealing rather than showing the address only once: agents come back
  to copy it into another device, and the addresses in use before (migration 0008) keep working. A
  server started with another RDV_SECRET_KEY cannot show the address any more (it still works): the agent
  is told so and resets it.
- Content: every RDV of the agent, in every organisation, starting one month ago or later, newest
  first, cancelled ones with STATUS:CANCELLED. UID = the RDV's uuid and SEQUENCE = its `ics_sequence`
  (the same as the emailed ICS, so a calendar fed both ways sees one event); DTSTART/DTEND carry the
  organisation's TZID, defined by a VTIMEZONE.
- Privacy: the motif, the place without personal data (a home RDV says "À domicile", never the
  usager's address) and a link to the RDV in the agents' space. No usager name, phone or note.
- Speed: the events are written directly as RFC 5545 text (escaped, folded at 75 octets) from one
  column query; icalendar only provides the VTIMEZONEs, cached per zone and years. 2,000 RDVs build in
  well under the 200 ms budget (tests/bench/test_bench_webcal.py), where serialising through
  icalendar's objects takes about half a second.
- DTSTAMP is the RDV's last change, so that the same data gives the same bytes: the ETag is the hash of
  the body and an unchanged feed answers 304.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Timezone
from sqlmodel import col, select

from rdv_app import routes
from rdv_app.auth.sealed import seal, unseal
from rdv_app.auth.tokens import hash_token
from rdv_app.config import settings
from rdv_app.db.models import Agent, Lieu, Motif, Organisation, Rdv, RdvAgent, Territory
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.enums import CANCELLED_STATUSES, LieuAvailability
from rdv_app.domain.labels import impersonal_place
from rdv_app.domain.names import agent_name, name_slug
from rdv_app.notify.ics import PRODID, PRODUCT_NAME
from rdv_app.services import audit
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError, NotFound

FEED_WINDOW = timedelta(days=31)
REFRESH_INTERVAL = "PT1H"  # a hint; Google Agenda refreshes at its own pace (up to 12 hours)
_UID_BYTES = 24
_UID_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,128}")
UNREADABLE = ("L'adresse de votre calendrier ne peut plus être affichée (la clé secrète du serveur a changé) ; "
              "elle fonctionne toujours dans les agendas déjà abonnés. Pour en obtenir une nouvelle à copier, "
              "réinitialisez le lien.")
_CANCELLED = [status.value for status in CANCELLED_STATUSES]
@dataclass(frozen=True)
class FeedLinks:
    https_url: str
    webcal_url: str


@dataclass(frozen=True)
class Feed:
    body: bytes
    etag: str  # quoted, as in the ETag header
    last_modified: datetime  # the latest change of the RDVs shown (or of the link itself)


# --------------------------------------------------------------------------- the agent's link


@boundary
def feed_links(uow: UnitOfWork, agent_id: int) -> FeedLinks:
    """The agent's feed addresses; the secret is created on the first visit (as in RDV Service Public)."""
    agent = _active_agent(uow, agent_id)
    if not agent.calendar_uid_hash:
        created = _store_new_uid(agent)
        uow.session.add(agent)
        uow.commit()
        return links_for(created)
    kept = unseal(agent.calendar_uid_sealed)
    if kept is None:
        raise DomainError(UNREADABLE)
    return links_for(kept)


@boundary
def reset_feed(uow: UnitOfWork, agent_id: int) -> FeedLinks:
    """A new secret: calendars subscribed to the old address stop receiving anything (404)."""
    agent = _active_agent(uow, agent_id)
    secret = _store_new_uid(agent)
    uow.session.add(agent)
    audit.record(uow.session, action="webcal_reset", entity_type="agent", entity_id=agent_id, changes={},
                 actor_agent_id=agent_id)
    uow.commit()
    return links_for(secret)


def links_for(calendar_uid: str) -> FeedLinks:
    base = settings.api_url or settings.public_url
    https_url = base + routes.WEBCAL_FEED.format(calendar_uid=calendar_uid)
    return FeedLinks(https_url=https_url, webcal_url="webcal://" + https_url.split("://", 1)[1])


def stored_secret(secret: str) -> tuple[str, str]:
    """What the database keeps of a feed secret: `Agent.calendar_uid_hash` and `calendar_uid_sealed`."""
    return hash_token(secret), seal(secret)


def _store_new_uid(agent: Agent) -> str:
    secret = f"{name_slug(agent.first_name, agent.last_name)}-{secrets.token_urlsafe(_UID_BYTES)}"
    agent.calendar_uid_hash, agent.calendar_uid_sealed = stored_secret(secret)
    agent.updated_at = clock.now()
    return secret


def _active_agent(uow: UnitOfWork, agent_id: int) -> Agent:
    agent = uow.session.get(Agent, agent_id)
    if agent is None or agent.deleted_at is not None:
        raise NotFound("Compte introuvable.")
    return agent


# --------------------------------------------------------------------------- the feed


@boundary
def agent_feed(uow: UnitOfWork, calendar_uid: str, *, now: datetime | None = None) -> Feed:
    """The calendar behind a feed address; NotFound for an unknown (or reset) secret."""
    if not _UID_PATTERN.fullmatch(calendar_uid or ""):
        raise NotFound("Calendrier introuvable.")
    agent = uow.session.exec(
        select(Agent).where(Agent.calendar_uid_hash == hash_token(calendar_uid), col(Agent.deleted_at).is_(None))
    ).first()
    if agent is None:
        raise NotFound("Calendrier introuvable.")
    now = now or clock.now()
    rows = uow.session.exec(
        # sqlmodel types select() for at most 4 entities.
        select(Rdv.id, Rdv.uuid, Rdv.ics_sequence, Rdv.starts_at, Rdv.ends_at, Rdv.status, Rdv.updated_at,  # type: ignore[call-overload]
               Rdv.name, Rdv.users_count, Rdv.max_participants_count, Motif.name, Motif.collectif,
               Motif.location_type, Motif.updated_at, Lieu.name, Lieu.address, Organisation.timezone,
               Territory.timezone, Lieu.availability)
        .join(RdvAgent, col(RdvAgent.rdv_id) == Rdv.id)
        .join(Motif, col(Motif.id) == Rdv.motif_id)
        .join(Organisation, col(Organisation.id) == Rdv.organisation_id)
        .join(Territory, col(Territory.id) == Organisation.territory_id)
        .outerjoin(Lieu, col(Lieu.id) == Rdv.lieu_id)
        .where(RdvAgent.agent_id == agent.id, Rdv.starts_at >= now - FEED_WINDOW)
        .order_by(col(Rdv.starts_at).desc(), col(Rdv.id).desc())
    ).all()
    events = [FeedRdv(*row) for row in rows]
    name = agent_name(agent.first_name, agent.last_name)
    body = build_feed(f"{name} sur {PRODUCT_NAME}", events)
    last_modified = max([agent.updated_at, *(e.changed_at for e in events)])
    return Feed(body=body, etag=f'"{hashlib.sha256(body).hexdigest()[:32]}"', last_modified=last_modified)


@dataclass(frozen=True, slots=True)
class FeedRdv:
    id: int
    uuid: str
    sequence: int
    starts_at: datetime
    ends_at: datetime
    status: str
    updated_at: datetime
    name: str | None
    users_count: int
    max_participants_count: int | None
    motif_name: str
    collectif: bool
    location_type: str
    motif_updated_at: datetime
    lieu_name: str | None
    lieu_address: str | None
    organisation_timezone: str | None
    territory_timezone: str
    lieu_availability: str | None = None

    @property
    def time_zone(self) -> str:
        return self.organisation_timezone or self.territory_timezone or "Europe/Paris"

    @property
    def changed_at(self) -> datetime:
        return max(self.updated_at, self.motif_updated_at)


def build_feed(calendar_name: str, rdvs: Iterable[FeedRdv]) -> bytes:
    """The calendar text of a feed (public for the benchmark)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{_text(PRODID)}", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", f"X-WR-CALNAME:{_text(calendar_name)}", f"REFRESH-INTERVAL;VALUE=DURATION:{REFRESH_INTERVAL}",
             f"X-PUBLISHED-TTL:{REFRESH_INTERVAL}"]
    events: list[str] = []
    years: dict[str, tuple[int, int]] = {}
    for rdv in rdvs:
        zone = ZoneInfo(rdv.time_zone)
        start, end = rdv.starts_at.astimezone(zone), rdv.ends_at.astimezone(zone)
        low, high = years.get(rdv.time_zone, (start.year, end.year))
        years[rdv.time_zone] = (min(low, start.year), max(high, end.year))
        link = settings.public_url + routes.rdv_page(rdv.id)
        events += [
            "BEGIN:VEVENT",
            f"UID:{_text(rdv.uuid)}",
            f"SEQUENCE:{rdv.sequence}",
            f"DTSTAMP:{_utc(rdv.changed_at)}",
            f"LAST-MODIFIED:{_utc(rdv.changed_at)}",
            f"DTSTART;TZID={rdv.time_zone}:{_local(start)}",
            f"DTEND;TZID={rdv.time_zone}:{_local(end)}",
            f"SUMMARY:{_text(_summary(rdv))}",
            f"LOCATION:{_text(_place(rdv))}",
            f"DESCRIPTION:{_text(f'Plus d’infos dans {PRODUCT_NAME} : {link}')}",
            f"URL:{link}",
            f"STATUS:{'CANCELLED' if rdv.status in _CANCELLED else 'CONFIRMED'}",
            "TRANSP:OPAQUE",
            "END:VEVENT",
        ]
    for time_zone, (first, last) in sorted(years.items()):
        lines += _vtimezone(time_zone, first, last)
    lines += events
    lines.append("END:VCALENDAR")
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode("utf-8")


def _summary(rdv: FeedRdv) -> str:
    if not rdv.collectif:
        return rdv.motif_name
    title = f"{rdv.motif_name} : {rdv.name}" if rdv.name else rdv.motif_name
    seats = f"{rdv.users_count}/{rdv.max_participants_count}" if rdv.max_participants_count else f"{rdv.users_count}"
    return f"{title} ({seats})"


def _place(rdv: FeedRdv) -> str:
    return impersonal_place(rdv.location_type, rdv.lieu_name, rdv.lieu_address,
                            rdv.lieu_availability == LieuAvailability.SINGLE_USE.value)


def _utc(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _local(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S")


def _text(value: str) -> str:
    """A TEXT value (RFC 5545 section 3.3.11)."""
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def _fold(line: str) -> str:
    """Content lines longer than 75 octets continue on lines starting with a space, never splitting a
    UTF-8 character (RFC 5545 section 3.1)."""
    if len(line) <= 75 and line.isascii():
        return line
    parts: list[str] = []
    current: list[str] = []
    size, limit = 0, 75
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            parts.append("".join(current))
            current, size, limit = [], 0, 74  # continuation lines start with a space
        current.append(char)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts)


@lru_cache(maxsize=64)
def _vtimezone(time_zone: str, first_year: int, last_year: int) -> tuple[str, ...]:
    """The zone's offsets and changes from January of the first year to the end of the last one."""
    component = Timezone.from_tzid(time_zone, first_date=date(first_year, 1, 1), last_date=date(last_year + 1, 1, 1))
    return tuple(component.to_ical().decode("utf-8").rstrip("\r\n").split("\r\n"))
