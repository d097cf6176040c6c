"""Personal data retention (RGPD, admin-domain.md section 13): the daily purges the worker runs
(rdv_app.wiring registers them; rdv_app.notify.daily_jobs runs each once a day, whatever the number of
workers, and logs what each handled).

As RDV Service Public:
- RDVs that started more than 2 years ago are deleted with their participations, agents, messages and
  receipts (webhook `destroyed`, `webhook_reason: "rgpd"`);
- receipts lose the phone number, address, content and error after 6 months, and go after 2 years;
- usagers created more than 2 years ago with no participation left and no relative are deleted, their
  organisation profiles first (webhooks `destroyed`, reason `rgpd`);
- agents who never had an RDV, created and last signed in more than 2 years ago, get an email; still
  inactive 30 days later, they are deleted (webhook `destroyed`, reason `rgpd`). Agents without an email
  cannot be told, and are kept;
- history (audit) entries older than a year are deleted for the records that hold personal data; on the
  others (configuration) the author is erased, and everything older than 5 years is deleted; the
  security event log (agents and IP addresses) keeps a year too.

Beyond RDV Service Public:
- outbox payloads (texts, links, addresses, webhook bodies) are emptied 30 days after the message was
  sent, failed or given up;
- accounts created by sign-up whose email was never verified are deleted after 24 hours (nobody proved
  they own the address: see FranceConnect in rdv_app.services.usagers.usager_auth);
- sessions past their idle timeout or revoked, sign-in links and tickets expired or used, and the
  "Infos et annulation" tokens past their expiry are deleted;
- indisponibilités that ended more than a year ago are deleted, as the plages d'ouverture
  (rdv_app.services.availability.plages.purge_expired_plages).

Every job takes the day of its run (Europe/Paris) and reads the time from the clock; it returns how
many records it deleted or changed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from rdv_app import routes
from rdv_app.config import settings
from rdv_app.db.models import (
    Absence,
    Agent,
    AgentLoginTicket,
    AgentRole,
    AgentSession,
    AuditLog,
    OutboxMessage,
    Participation,
    Rdv,
    RdvAgent,
    Receipt,
    ReferentAssignation,
    SecurityEvent,
    Usager,
    UsagerEmailToken,
    UsagerProfile,
    UsagerSession,
)
from rdv_app.db.rows import not_null, require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.enums import Channel, CreatedThrough, NotificationEvent, OutboxStatus, WebhookSubscription
from rdv_app.domain.events import Actor, AvailabilityChanged, Change, RecordChanged
from rdv_app.domain.periods import shift_years
from rdv_app.domain.sessions import AGENT_SESSION_IDLE_TIMEOUT
from rdv_app.notify.outbox import enqueue
from rdv_app.services.usagers.usager_auth import USAGER_SESSION_IDLE_TIMEOUT

RGPD = "rgpd"
RDV_YEARS = 2
RECEIPT_ANONYMISED_AFTER = timedelta(days=183)  # 6 months
RECEIPT_YEARS = 2
USAGER_YEARS = 2
AGENT_INACTIVE_YEARS = 2
AGENT_NOTICE = timedelta(days=30)
HISTORY_YEARS = 1
HISTORY_ALL_YEARS = 5
OUTBOX_PAYLOAD_KEPT = timedelta(days=30)
UNVERIFIED_ACCOUNT_KEPT = timedelta(hours=24)
ABSENCE_YEARS = 1
# History of configuration records, which hold no personal data: kept (without author) for 5 years.
CONFIGURATION_ENTITIES = frozenset({"webhook_endpoint", "service", "lieu", "organisation", "territory", "team",
                                    "motif_category", "motif", "plage_ouverture", "territory_service"})


def _years(count: int) -> str:
    return f"{count} an" if count == 1 else f"{count} ans"


# What these purges keep and for how long, in the words of the "Données personnelles" page.
RETENTION_TABLE: tuple[tuple[str, str], ...] = (
    ("Rendez-vous, avec leurs participants, leurs agents et les messages envoyés",
     f"{_years(RDV_YEARS)} après la date du rendez-vous"),
    ("Accusés de réception des SMS et emails",
     f"numéro, adresse et contenu effacés après {round(RECEIPT_ANONYMISED_AFTER.days / 30.5)} mois, "
     f"supprimés après {_years(RECEIPT_YEARS)}"),
    ("Comptes et fiches des usagers sans rendez-vous ni proche", f"{_years(USAGER_YEARS)} après leur création"),
    ("Comptes créés en ligne dont l'adresse email n'a pas été confirmée",
     f"{int(UNVERIFIED_ACCOUNT_KEPT.total_seconds() // 3600)} heures"),
    ("Comptes des agents sans rendez-vous ni connexion",
     f"{_years(AGENT_INACTIVE_YEARS)}, puis {AGENT_NOTICE.days} jours après un email les prévenant"),
    ("Historique des modifications des fiches et des rendez-vous, journal de sécurité (adresses IP)",
     _years(HISTORY_YEARS)),
    ("Historique de la configuration (sans son auteur)", _years(HISTORY_ALL_YEARS)),
    ("Contenu des SMS, emails et webhooks", f"{OUTBOX_PAYLOAD_KEPT.days} jours après leur envoi"),
    ("Sessions, liens de connexion et liens « Infos et annulation »", "jusqu'à leur expiration ou leur utilisation"),
    ("Indisponibilités des agents", f"{_years(ABSENCE_YEARS)} après leur fin"),
)
_FINISHED = (OutboxStatus.SENT.value, OutboxStatus.FAILED.value, OutboxStatus.CANCELLED.value)


def _years_ago(now: datetime, years: int) -> datetime:
    """The same instant of the same calendar day, `years` earlier (a 29 February becomes the 28th)."""
    day = shift_years(now.date(), -years)
    return now.replace(year=day.year, month=day.month, day=day.day)


# --------------------------------------------------------------------------- RDVs and receipts


def purge_rdvs(uow: UnitOfWork, today: date) -> int:
    """Deletes the RDVs that started more than 2 years ago, with their participations, agents, messages
    and receipts; the webhook of each says `destroyed` for reason "rgpd"."""
    now = clock.now()
    ids = list(uow.session.exec(select(not_null(Rdv.id)).where(col(Rdv.starts_at) < _years_ago(now, RDV_YEARS))))
    for rdv_id in ids:
        uow.record(RecordChanged(model=WebhookSubscription.RDV, record_id=rdv_id, change=Change.DELETED,
                                 occurred_at=now, reason=RGPD))
    uow.publish()  # before the deletion: the webhooks still read the RDVs
    if ids:
        session = uow.session
        session.exec(sa.delete(Receipt).where(col(Receipt.rdv_id).in_(ids)))
        session.exec(sa.delete(OutboxMessage).where(col(OutboxMessage.rdv_id).in_(ids)))
        session.exec(sa.delete(Participation).where(col(Participation.rdv_id).in_(ids)))
        session.exec(sa.delete(RdvAgent).where(col(RdvAgent.rdv_id).in_(ids)))
        session.exec(sa.delete(Rdv).where(col(Rdv.id).in_(ids)))
    uow.commit()
    return len(ids)


def purge_receipts(uow: UnitOfWork, today: date) -> int:
    """Deletes the receipts older than 2 years and anonymises those older than 6 months."""
    now = clock.now()
    deleted = uow.session.exec(sa.delete(Receipt).where(col(Receipt.created_at) < _years_ago(now, RECEIPT_YEARS)))
    personal = (Receipt.sms_phone_number, Receipt.email_address, Receipt.content, Receipt.error_message)
    anonymised = uow.session.exec(
        sa.update(Receipt).where(col(Receipt.created_at) < now - RECEIPT_ANONYMISED_AFTER,
                                 sa.or_(*(col(column).is_not(None) for column in personal)))
        .values(sms_phone_number=None, email_address=None, content=None, error_message=None))
    uow.commit()
    return deleted.rowcount + anonymised.rowcount


# --------------------------------------------------------------------------- usagers


def purge_usagers(uow: UnitOfWork, today: date) -> int:
    """Deletes the usagers created more than 2 years ago who take part in no RDV and have no relative."""
    now = clock.now()
    return _delete_usagers(uow, now, col(Usager.created_at) < _years_ago(now, USAGER_YEARS))


def purge_unverified_accounts(uow: UnitOfWork, today: date) -> int:
    """Deletes the accounts created by sign-up more than 24 hours ago whose email was never verified."""
    now = clock.now()
    return _delete_usagers(uow, now, col(Usager.created_through) == CreatedThrough.USER_SIGN_UP.value,
                           col(Usager.email_verified_at).is_(None),
                           col(Usager.created_at) < now - UNVERIFIED_ACCOUNT_KEPT)


# An anonymised usager reads "Usager supprimé" wherever their name is shown.
DELETED_FIRST_NAME, DELETED_LAST_NAME = "Usager", "supprimé"
# Every personal column an anonymised usager loses (names are replaced, `deleted_at` stamped).
PERSONAL_COLUMNS = ("birth_name", "birth_date", "email", "email_verified_at", "phone_number", "phone_number_formatted",
                    "address", "address_details", "post_code", "city_name", "city_code", "responsible_id",
                    "franceconnect_sub", "case_number", "notes", "caisse_affiliation", "affiliation_number",
                    "family_situation", "number_of_children", "logement")


def forget_identity(session: Session, usager: Usager, now: datetime) -> None:
    """What identifies an usager goes: their personal fields (names become "Usager supprimé"), their
    sessions and sign-in links, the contact details and texts of their receipts; `deleted_at` is stamped.
    Shared by the removal from the last organisation and the merge. No commit."""
    usager_id = require_id(usager)
    for column in PERSONAL_COLUMNS:
        setattr(usager, column, None)
    usager.first_name, usager.last_name = DELETED_FIRST_NAME, DELETED_LAST_NAME
    usager.notify_by_sms = usager.notify_by_email = usager.logged_once_with_franceconnect = False
    usager.deleted_at = usager.updated_at = now
    session.add(usager)
    session.exec(sa.delete(UsagerSession).where(col(UsagerSession.usager_id) == usager_id))
    session.exec(sa.delete(UsagerEmailToken).where(col(UsagerEmailToken.usager_id) == usager_id))
    session.exec(sa.update(Receipt).where(col(Receipt.usager_id) == usager_id)
                 .values(sms_phone_number=None, email_address=None, content=None, error_message=None))
    session.flush()


def anonymise_usager(uow: UnitOfWork, usager_id: int, now: datetime) -> None:
    """An usager removed from their last organisation (admin-domain.md 1.5): `forget_identity`, and also
    their referents, the context of their RDVs and their history. The row stays for the RDVs it took part
    in (kept, then purged, as any RDV). No commit."""
    usager = uow.session.get(Usager, usager_id)
    if usager is None or usager.deleted_at is not None:
        return
    uow.record(RecordChanged(model=WebhookSubscription.USER, record_id=usager_id, change=Change.DELETED,
                             occurred_at=now))
    referents = list(uow.session.exec(select(not_null(ReferentAssignation.id))
                                      .where(ReferentAssignation.usager_id == usager_id)).all())
    for referent_id in referents:
        uow.record(RecordChanged(model=WebhookSubscription.REFERENT_ASSIGNATION, record_id=referent_id,
                                 change=Change.DELETED, occurred_at=now))
    uow.publish()  # before the changes: the webhooks still read who this was
    session = uow.session
    forget_identity(session, usager, now)
    session.exec(sa.delete(ReferentAssignation).where(col(ReferentAssignation.usager_id) == usager_id))
    session.exec(sa.update(Rdv).where(col(Rdv.id).in_(select(Participation.rdv_id).where(
        Participation.usager_id == usager_id))).values(context=None))
    session.exec(sa.delete(AuditLog).where(col(AuditLog.entity_type) == "usager",
                                           col(AuditLog.entity_id) == str(usager_id)))
    session.flush()


def _delete_usagers(uow: UnitOfWork, now: datetime, *conditions: sa.ColumnElement[bool]) -> int:
    relative = sa.orm.aliased(Usager)
    takes_part = select(Participation.id).where(Participation.usager_id == Usager.id).exists()
    has_relative = select(relative.id).where(relative.responsible_id == Usager.id).exists()
    ids = list(uow.session.exec(select(not_null(Usager.id)).where(*conditions, ~takes_part, ~has_relative)))
    if not ids:
        uow.commit()
        return 0
    profiles = uow.session.exec(select(not_null(UsagerProfile.id)).where(col(UsagerProfile.usager_id).in_(ids))).all()
    for profile_id in profiles:
        uow.record(RecordChanged(model=WebhookSubscription.USER_PROFILE, record_id=profile_id,
                                 change=Change.DELETED, occurred_at=now, reason=RGPD))
    for usager_id in ids:
        uow.record(RecordChanged(model=WebhookSubscription.USER, record_id=usager_id,
                                 change=Change.DELETED, occurred_at=now, reason=RGPD))
    uow.publish()
    uow.session.exec(sa.delete(UsagerProfile).where(col(UsagerProfile.usager_id).in_(ids)))
    uow.session.exec(sa.delete(UsagerEmailToken).where(col(UsagerEmailToken.usager_id).in_(ids)))
    uow.session.exec(sa.delete(UsagerSession).where(col(UsagerSession.usager_id).in_(ids)))
    uow.session.exec(sa.delete(Usager).where(col(Usager.id).in_(ids)))
    uow.commit()
    return len(ids)


# --------------------------------------------------------------------------- agents


def purge_inactive_agents(uow: UnitOfWork, today: date) -> int:
    """Warns the inactive agents by email, and deletes those warned 30 days ago who stayed inactive;
    returns how many were warned or deleted."""
    now = clock.now()
    cutoff = _years_ago(now, AGENT_INACTIVE_YEARS)
    had_rdv = select(RdvAgent.rdv_id).where(RdvAgent.agent_id == Agent.id).exists()
    inactive = (col(Agent.created_at) < cutoff, ~had_rdv, col(Agent.email).is_not(None),
                sa.or_(col(Agent.last_sign_in_at).is_(None), col(Agent.last_sign_in_at) < cutoff))
    warned_since_sign_in = sa.and_(col(Agent.inactivity_warned_at).is_not(None),
                                   sa.or_(col(Agent.last_sign_in_at).is_(None),
                                          col(Agent.last_sign_in_at) < Agent.inactivity_warned_at))
    doomed = list(uow.session.exec(select(not_null(Agent.id)).where(
        *inactive, warned_since_sign_in, col(Agent.inactivity_warned_at) <= now - AGENT_NOTICE)))
    for agent_id in doomed:
        uow.record(RecordChanged(model=WebhookSubscription.AGENT, record_id=agent_id,
                                 change=Change.DELETED, occurred_at=now, reason=RGPD))
    uow.publish()
    if doomed:
        uow.session.exec(sa.delete(Agent).where(col(Agent.id).in_(doomed)))
    to_warn = uow.session.exec(select(Agent).where(*inactive, ~warned_since_sign_in)).all()
    for agent in to_warn:
        _warn(uow, agent, now)
    uow.commit()
    return len(doomed) + len(to_warn)


def _warn(uow: UnitOfWork, agent: Agent, now: datetime) -> None:
    domain = settings.public_url.split("://", 1)[-1]
    text = "\n".join([
        "Bonjour,", "",
        f"Votre compte sur {domain} lié à l'adresse email {agent.email} est inactif depuis au moins 2 ans. "
        "Sans action de votre part, il sera supprimé automatiquement dans 30 jours.", "",
        f"Pour le garder, connectez-vous : {settings.public_url}{routes.LOGIN}",
        "",
    ])
    enqueue(uow.session, channel=Channel.MAIL, event=NotificationEvent.ACCOUNT,
            idempotency_key=f"agent-inactive:{agent.id}:{now.date().isoformat()}", agent_id=agent.id,
            payload={"to": agent.email, "subject": "Votre compte inactif sera supprimé dans 30 jours",
                     "text": text})
    agent.inactivity_warned_at = now
    uow.session.add(agent)


# --------------------------------------------------------------------------- history, messages, sessions


def purge_history(uow: UnitOfWork, today: date) -> int:
    """History entries: those of personal records after a year, the author of the others after a year,
    all of them after 5 years; security events after a year."""
    now = clock.now()
    year_ago, five_years_ago = _years_ago(now, HISTORY_YEARS), _years_ago(now, HISTORY_ALL_YEARS)
    configuration = col(AuditLog.entity_type).in_(sorted(CONFIGURATION_ENTITIES))
    deleted = uow.session.exec(sa.delete(AuditLog).where(sa.or_(
        col(AuditLog.occurred_at) < five_years_ago, sa.and_(col(AuditLog.occurred_at) < year_ago, ~configuration))))
    erased = uow.session.exec(
        sa.update(AuditLog).where(col(AuditLog.occurred_at) < year_ago, configuration,
                                  sa.or_(col(AuditLog.actor_agent_id).is_not(None),
                                         col(AuditLog.actor_usager_id).is_not(None)))
        .values(actor_agent_id=None, actor_usager_id=None))
    security = uow.session.exec(sa.delete(SecurityEvent).where(col(SecurityEvent.occurred_at) < year_ago))
    uow.commit()
    return deleted.rowcount + erased.rowcount + security.rowcount


def empty_outbox_payloads(uow: UnitOfWork, today: date) -> int:
    """Empties the payloads of messages sent, failed or given up more than 30 days ago."""
    cutoff = clock.now() - OUTBOX_PAYLOAD_KEPT
    finished_at = sa.func.coalesce(OutboxMessage.sent_at, OutboxMessage.next_attempt_at)
    emptied = uow.session.exec(
        sa.update(OutboxMessage).where(col(OutboxMessage.status).in_(_FINISHED), finished_at < cutoff,
                                       sa.cast(OutboxMessage.payload, sa.Text) != "{}")
        .values(payload={}))
    uow.commit()
    return emptied.rowcount


def purge_sessions_and_tokens(uow: UnitOfWork, today: date) -> int:
    """Sessions revoked or past their idle timeout, sign-in links and tickets used or expired, and the
    "Infos et annulation" tokens past their expiry."""
    now = clock.now()
    session = uow.session
    counts = [
        session.exec(sa.delete(AgentSession).where(sa.or_(
            col(AgentSession.revoked_at).is_not(None),
            col(AgentSession.last_seen_at) < now - AGENT_SESSION_IDLE_TIMEOUT))),
        session.exec(sa.delete(UsagerSession).where(sa.or_(
            col(UsagerSession.revoked_at).is_not(None),
            col(UsagerSession.last_seen_at) < now - USAGER_SESSION_IDLE_TIMEOUT))),
        session.exec(sa.delete(AgentLoginTicket).where(sa.or_(
            col(AgentLoginTicket.used_at).is_not(None), col(AgentLoginTicket.expires_at) < now))),
        session.exec(sa.delete(UsagerEmailToken).where(sa.or_(
            col(UsagerEmailToken.used_at).is_not(None), col(UsagerEmailToken.expires_at) < now))),
        session.exec(sa.update(Participation).where(col(Participation.access_token_hash).is_not(None),
                                                    col(Participation.access_token_expires_at) < now)
                     .values(access_token_hash=None, access_token_expires_at=None)),
    ]
    uow.commit()
    return sum(result.rowcount for result in counts)


# --------------------------------------------------------------------------- absences


def purge_absences(uow: UnitOfWork, today: date) -> int:
    """Deletes the indisponibilités that ended more than a year before `today` (one-off: their last day;
    series: their end date; a series without end never ends)."""
    now = clock.now()
    cutoff = shift_years(today, -ABSENCE_YEARS)
    ended = sa.or_(sa.and_(col(Absence.recurrence).is_(None), col(Absence.end_day) < cutoff),
                   sa.and_(col(Absence.recurrence).is_not(None), col(Absence.recurrence_until) < cutoff))
    rows = uow.session.exec(select(not_null(Absence.id), Absence.agent_id).where(ended)).all()
    organisations = dict(uow.session.exec(
        select(AgentRole.agent_id, sa.func.min(AgentRole.organisation_id))
        .where(col(AgentRole.agent_id).in_({agent_id for _, agent_id in rows})).group_by(col(AgentRole.agent_id))).all())
    for absence_id, agent_id in rows:
        if agent_id in organisations:
            uow.record(AvailabilityChanged(model="absence", record_id=absence_id,
                                           organisation_id=organisations[agent_id], change=Change.DELETED,
                                           actor=Actor.SYSTEM, occurred_at=now, notify=False, reason=RGPD))
    uow.publish()  # before the deletion: the webhooks still read the absences
    if rows:
        uow.session.exec(sa.delete(Absence).where(col(Absence.id).in_([absence_id for absence_id, _ in rows])))
    uow.commit()
    return len(rows)


DAILY_JOBS = {
    "purge_rdvs": purge_rdvs,
    "purge_receipts": purge_receipts,
    "purge_usagers": purge_usagers,
    "purge_unverified_accounts": purge_unverified_accounts,
    "purge_inactive_agents": purge_inactive_agents,
    "purge_history": purge_history,
    "empty_outbox_payloads": empty_outbox_payloads,
    "purge_sessions_and_tokens": purge_sessions_and_tokens,
    "purge_absences": purge_absences,
}
