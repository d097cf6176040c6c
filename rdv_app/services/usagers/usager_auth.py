"""Usager accounts for online booking: email links, sessions, FranceConnect identities, relatives.

- **Créer un compte** (`request_account`): first name, last name, email, optional phone. The usager is
  created (or found by email: an existing account simply gets a sign-in link, and the page says the same
  thing either way) and a verification email is queued in the outbox with a link carrying a random token.
  Only the token's SHA-256 is stored (`UsagerEmailToken`), with the path to come back to; it works once,
  for 24 hours.
- **Returning usagers** (`request_sign_in_link`) get the same kind of link by email.
- **Opening the link** (`open_email_link`, from a POST: a mail scanner fetching the link changes nothing)
  marks the email verified, consumes the token and opens an `UsagerSession` whose token, HttpOnly in a
  cookie, is stored hashed too.
- **FranceConnect** (`sign_in_with_franceconnect`): the usager is found by FranceConnect subject, then
  by email among accounts whose email was verified, or created; names and birth date given by FranceConnect are then certified and cannot be
  edited (`update_informations` refuses).
- The FranceConnect id_token, kept for the sign-out, rests encrypted (rdv_app.auth.sealed).
- Rate limits fail closed: account creation and link emails per IP and per email address.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import TypeVar
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from limits import RateLimitItem, parse
from sqlalchemy import update
from sqlmodel import col, select

from rdv_app import routes
from rdv_app.auth import rate_limit
from rdv_app.auth.franceconnect import FranceConnectIdentity
from rdv_app.auth.sealed import seal, unseal
from rdv_app.auth.tokens import hash_token, new_token
from rdv_app.config import settings
from rdv_app.db.models import Usager, UsagerEmailToken, UsagerSession
from rdv_app.db.rows import require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, usager_input
from rdv_app.domain.contact import InvalidValue
from rdv_app.domain.datefmt import MONTHS
from rdv_app.domain.enums import Channel, CreatedThrough, NotificationEvent, WebhookSubscription
from rdv_app.domain.events import Change, RecordChanged
from rdv_app.domain.sessions import (
    USAGER_SESSION_LIFETIME,
    safe_next_path,
    session_is_active,
    session_needs_touch,
)
from rdv_app.notify.outbox import enqueue
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError, FieldErrors

EMAIL_LINK_LIFETIME = timedelta(hours=24)
INVITATION_LIFETIME = timedelta(weeks=1)  # as Devise's `invite_for` in RDV Service Public
PARIS = ZoneInfo("Europe/Paris")
USAGER_SESSION_IDLE_TIMEOUT = timedelta(days=7)
# Limited per email and per device (the browser's `rdv_appareil` cookie) first; a France Services computer
# or a carrier's NAT puts many people behind one IP, which only has a much higher ceiling (issue 26).
LINKS_PER_EMAIL = parse("5/hour")
ACCOUNT_CREATIONS_PER_DEVICE = parse("10/hour")
LINKS_PER_DEVICE = parse("30/hour")
ACCOUNT_CREATIONS_PER_IP = parse("200/hour")
LINKS_PER_IP = parse("300/hour")
LINK_SENT = ("Un email vient de vous être envoyé. Ouvrez le lien qu'il contient pour vous connecter : "
             "vous reviendrez directement à votre réservation.")
FRANCECONNECT_CERTIFIED = "Cette information est certifiée par FranceConnect et ne peut pas être modifiée."
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
T = TypeVar("T")


class TooManyRequests(DomainError):
    def __init__(self, wait_seconds: int) -> None:
        minutes = max(1, round(wait_seconds / 60))
        super().__init__(f"Trop de demandes en peu de temps. Veuillez réessayer dans {minutes} minute"
                         f"{'s' if minutes > 1 else ''}.")
        self.wait_seconds = wait_seconds


@dataclass(frozen=True)
class LinkRequested:
    outbox_ids: tuple[int, ...]  # the email to deliver right after the commit (empty: no such account)


@dataclass(frozen=True)
class OpenedSession:
    token: str  # for the HttpOnly cookie; only its hash is stored
    usager_id: int
    next_path: str


@dataclass(frozen=True)
class Relative:
    id: int
    name: str


@dataclass(frozen=True)
class UsagerAccount:
    id: int
    first_name: str
    last_name: str
    email: str | None
    phone_number: str | None
    address: str | None
    birth_date: date | None
    franceconnect: bool  # names and birth date are certified
    relatives: tuple[Relative, ...]

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


# --------------------------------------------------------------------------- email links


@boundary
def request_account(uow: UnitOfWork, *, first_name: str, last_name: str, email: str, phone_number: str | None,
                    next_path: str, ip: str, device: str = "", now: datetime | None = None) -> LinkRequested:
    """Creates the account (unless the email has one) and queues the verification email; commits."""
    now = now or clock.now()
    errors: dict[str, str] = {}
    first = _checked(errors, "first_name", lambda: usager_input.person_name(first_name, "votre prénom"))
    last = _checked(errors, "last_name", lambda: usager_input.person_name(last_name, "votre nom"))
    address = _checked(errors, "email", lambda: _email(email))
    raw_phone, formatted = _checked(errors, "phone_number", lambda: _phone(phone_number)) or (None, None)
    if errors or first is None or last is None or address is None:
        raise FieldErrors(errors)
    _throttle(LINKS_PER_EMAIL, f"usager-link:email:{address}")
    if device:
        _throttle(ACCOUNT_CREATIONS_PER_DEVICE, f"usager-account:device:{device}")
    _throttle(ACCOUNT_CREATIONS_PER_IP, f"usager-account:ip:{ip}")
    usager = uow.session.exec(select(Usager).where(Usager.email == address, col(Usager.deleted_at).is_(None))).first()
    if usager is None:
        usager = Usager(first_name=first, last_name=last, email=address, phone_number=raw_phone,
                        phone_number_formatted=formatted, created_through=CreatedThrough.USER_SIGN_UP.value,
                        created_at=now, updated_at=now)
        uow.session.add(usager)
        uow.session.flush()
        uow.record(RecordChanged(model=WebhookSubscription.USER, record_id=require_id(usager),
                                 change=Change.CREATED, occurred_at=now))
    ids = _queue_link(uow, usager, next_path, now, welcome=usager.email_verified_at is None)
    uow.commit()
    return LinkRequested(ids)


@boundary
def request_sign_in_link(uow: UnitOfWork, *, email: str, next_path: str, ip: str, device: str = "",
                         now: datetime | None = None) -> LinkRequested:
    """Queues a sign-in link when the address has an account; the page says the same thing otherwise."""
    now = now or clock.now()
    address = _email(email)
    _throttle(LINKS_PER_EMAIL, f"usager-link:email:{address}")
    if device:
        _throttle(LINKS_PER_DEVICE, f"usager-link:device:{device}")
    _throttle(LINKS_PER_IP, f"usager-link:ip:{ip}")
    usager = uow.session.exec(select(Usager).where(Usager.email == address, col(Usager.deleted_at).is_(None))).first()
    if usager is None:
        return LinkRequested(())
    ids = _queue_link(uow, usager, next_path, now, welcome=False)
    uow.commit()
    return LinkRequested(ids)


@boundary
def email_link_leads_to_rdvs(uow: UnitOfWork, token: str) -> bool:
    """Whether a sign-in link was asked from « Mes rendez-vous » (it leads back there once opened), whether
    still valid or not; False for a booking's link or a token no one was sent. Reads only: the page that asks
    to confirm the sign-in words its button by it."""
    if not token:
        return False
    destination = uow.session.exec(select(UsagerEmailToken.next_path)
                                   .where(col(UsagerEmailToken.token_hash) == hash_token(token))).first()
    return destination is not None and urlsplit(destination).path == routes.USAGER_RDVS


@boundary
def open_email_link(uow: UnitOfWork, token: str, now: datetime | None = None) -> OpenedSession | None:
    """Consumes a valid link (once, within 24 h) and opens a session; None for any other token."""
    now = now or clock.now()
    if not token:
        return None
    # One UPDATE decides: two clicks racing on the same link cannot both open a session.
    consumed = uow.session.execute(
        update(UsagerEmailToken)
        .where(col(UsagerEmailToken.token_hash) == hash_token(token), col(UsagerEmailToken.used_at).is_(None),
               col(UsagerEmailToken.expires_at) > now)
        .values(used_at=now)
        .returning(col(UsagerEmailToken.usager_id), col(UsagerEmailToken.next_path))
    ).first()
    if consumed is None:
        uow.rollback()
        return None
    usager_id, next_path = consumed
    usager = uow.session.get(Usager, usager_id)
    if usager is None or usager.deleted_at is not None:
        uow.rollback()
        return None
    if usager.email_verified_at is None:
        usager.email_verified_at = now
        uow.session.add(usager)
    opened = _open_session(uow, usager_id, now)
    uow.commit()
    return OpenedSession(opened, usager_id, next_path)


def _queue_link(uow: UnitOfWork, usager: Usager, next_path: str, now: datetime, *, welcome: bool) -> tuple[int, ...]:
    row, link = _new_link(uow, usager, next_path, now, EMAIL_LINK_LIFETIME)
    intro = ("Bienvenue ! Pour confirmer votre adresse email et vous connecter, ouvrez ce lien :" if welcome
             else "Pour vous connecter et reprendre votre réservation, ouvrez ce lien :")
    text = "\n".join([f"Bonjour {usager.first_name},", "", intro, link, "",
                      "Ce lien fonctionne une seule fois, pendant 24 heures.",
                      "Si vous n'êtes pas à l'origine de cette demande, ignorez cet email.", ""])
    subject = "Confirmez votre adresse email" if welcome else "Votre lien de connexion"
    outbox_id = enqueue(uow.session, channel=Channel.MAIL, event=NotificationEvent.ACCOUNT,
                        idempotency_key=f"usager-email-link:{row.token_hash}", usager_id=usager.id,
                        payload={"to": usager.email, "subject": subject, "text": text},
                        expires_at=now + EMAIL_LINK_LIFETIME)
    return () if outbox_id is None else (outbox_id,)


def queue_invitation(uow: UnitOfWork, usager: Usager, now: datetime, *, site_name: str,
                     organisation_id: int) -> tuple[int, ...]:
    """The invitation an agent sends an usager to create their account (admin-domain.md 1.6): the same
    single-use link as a sign-in, valid a week; opening it verifies the email, and the account exists. The
    caller has checked the usager may be invited. No commit."""
    row, link = _new_link(uow, usager, routes.USAGER_RDVS, now, INVITATION_LIFETIME)
    until = (now + INVITATION_LIFETIME).astimezone(PARIS).date()
    text = "\n".join([f"Bonjour {usager.email},", "",
                      f"Vous avez été invité sur {site_name}, pour suivre et prendre vos rendez-vous en ligne.",
                      "Accepter l'invitation :", link, "",
                      f"Cette invitation est valable jusqu'au {'1er' if until.day == 1 else until.day} {MONTHS[until.month - 1]}.",
                      "Si vous n'acceptez pas cette invitation, ignorez cet email : votre compte ne sera pas créé.",
                      ""])
    outbox_id = enqueue(uow.session, channel=Channel.MAIL, event=NotificationEvent.ACCOUNT,
                        idempotency_key=f"usager-invitation:{row.token_hash}", usager_id=usager.id,
                        organisation_id=organisation_id,
                        payload={"to": usager.email, "subject": f"Vous avez été invité sur {site_name}", "text": text},
                        expires_at=now + INVITATION_LIFETIME)
    return () if outbox_id is None else (outbox_id,)


def _new_link(uow: UnitOfWork, usager: Usager, next_path: str, now: datetime,
              lifetime: timedelta) -> tuple[UsagerEmailToken, str]:
    token = new_token()
    path = safe_next_path(next_path, routes.PUBLIC_BOOKING)
    row = UsagerEmailToken(usager_id=require_id(usager), token_hash=hash_token(token), next_path=path,
                           expires_at=now + lifetime, created_at=now)
    uow.session.add(row)
    uow.session.flush()
    return row, f"{settings.api_url or settings.public_url}{routes.USAGER_EMAIL_LINK}?{urlencode({'jeton': token})}"


# --------------------------------------------------------------------------- sessions


@boundary
def resolve_session(uow: UnitOfWork, token: str | None, now: datetime | None = None) -> int | None:
    """The usager id of an active session token, or None (unknown, revoked, idle for 7 days, or opened
    30 days ago)."""
    if not token:
        return None
    now = now or clock.now()
    row = uow.session.exec(select(UsagerSession).where(UsagerSession.token_hash == hash_token(token))).first()
    if row is None or not session_is_active(row.created_at, row.last_seen_at, now, revoked=row.revoked_at is not None,
                                            idle_timeout=USAGER_SESSION_IDLE_TIMEOUT,
                                            lifetime=USAGER_SESSION_LIFETIME):
        return None
    if session_needs_touch(row.last_seen_at, now):
        row.last_seen_at = now
        uow.session.add(row)
        uow.commit()
    return row.usager_id


@boundary
def revoke_session(uow: UnitOfWork, token: str | None, now: datetime | None = None) -> str | None:
    """Ends the session; returns the FranceConnect id_token to end the FranceConnect session too."""
    if not token:
        return None
    row = uow.session.exec(select(UsagerSession).where(UsagerSession.token_hash == hash_token(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    row.revoked_at = now or clock.now()
    uow.session.add(row)
    id_token = unseal(row.franceconnect_id_token)
    uow.commit()
    return id_token


def _open_session(uow: UnitOfWork, usager_id: int, now: datetime, *, id_token: str | None = None) -> str:
    token = new_token()
    uow.session.add(UsagerSession(usager_id=usager_id, token_hash=hash_token(token),
                                  via_franceconnect=id_token is not None,
                                  franceconnect_id_token=seal(id_token) if id_token else None,
                                  created_at=now, last_seen_at=now))
    return token


# --------------------------------------------------------------------------- FranceConnect


@boundary
def sign_in_with_franceconnect(uow: UnitOfWork, identity: FranceConnectIdentity, id_token: str, next_path: str,
                               now: datetime | None = None) -> OpenedSession:
    """Finds the usager by FranceConnect subject, then by email among verified accounts, or creates them;
    opens a session.

    An account whose email was never verified proves nothing about who holds it (anyone can type someone
    else's address and their own phone): FranceConnect never joins it, and a new account is created
    instead. Its email is filled in once no other account holds the address (unverified sign-ups are
    purged after 24 hours, rdv_app.services.retention)."""
    now = now or clock.now()
    usager = uow.session.exec(select(Usager).where(Usager.franceconnect_sub == identity.sub,
                                                   col(Usager.deleted_at).is_(None))).first()
    email = (identity.email or "").strip().lower() or None
    if usager is None and email:
        usager = uow.session.exec(select(Usager).where(Usager.email == email, col(Usager.deleted_at).is_(None),
                                                       col(Usager.email_verified_at).is_not(None))).first()
    created = usager is None
    if usager is None:
        usager = Usager(first_name=identity.given_name, last_name=identity.family_name,
                        created_through=CreatedThrough.FRANCECONNECT_SIGN_UP.value, created_at=now)
    if usager.email is None and email and not _email_taken(uow, email):
        usager.email, usager.email_verified_at = email, now
    # Certified by FranceConnect: written at each sign-in, never editable by the usager.
    usager.first_name = identity.given_name
    usager.birth_name = identity.family_name
    usager.last_name = identity.preferred_username or identity.family_name
    if identity.birthdate is not None:
        usager.birth_date = identity.birthdate
    usager.franceconnect_sub = identity.sub
    usager.logged_once_with_franceconnect = True
    usager.updated_at = now
    uow.session.add(usager)
    uow.session.flush()
    uow.record(RecordChanged(model=WebhookSubscription.USER, record_id=require_id(usager),
                  change=Change.CREATED if created else Change.UPDATED, occurred_at=now))
    token = _open_session(uow, require_id(usager), now, id_token=id_token)
    uow.commit()
    return OpenedSession(token, require_id(usager), safe_next_path(next_path, routes.PUBLIC_BOOKING))


def _email_taken(uow: UnitOfWork, email: str) -> bool:
    return uow.session.exec(select(Usager.id).where(Usager.email == email)).first() is not None


# --------------------------------------------------------------------------- account and relatives


@boundary
def account(uow: UnitOfWork, usager_id: int) -> UsagerAccount:
    usager = _holder(uow, usager_id)
    relatives = uow.session.exec(select(Usager).where(Usager.responsible_id == usager_id,
                                                      col(Usager.deleted_at).is_(None))
                                 .order_by(col(Usager.first_name), col(Usager.id))).all()
    return UsagerAccount(id=usager_id, first_name=usager.first_name, last_name=usager.last_name, email=usager.email,
                         phone_number=usager.phone_number, address=usager.address, birth_date=usager.birth_date,
                         franceconnect=usager.logged_once_with_franceconnect,
                         relatives=tuple(Relative(require_id(r), f"{r.first_name} {r.last_name}") for r in relatives))


@boundary
def update_informations(uow: UnitOfWork, usager_id: int, *, first_name: str, last_name: str,
                        phone_number: str | None, address: str | None, phone_required: bool = False,
                        address_required: bool = False) -> None:
    """The "Vos informations" step; names stay as they are for FranceConnect accounts. Commits."""
    usager = _holder(uow, usager_id)
    errors: dict[str, str] = {}
    first = _checked(errors, "first_name", lambda: usager_input.person_name(first_name, "votre prénom"))
    last = _checked(errors, "last_name", lambda: usager_input.person_name(last_name, "votre nom"))
    if usager.logged_once_with_franceconnect:
        for name, typed, kept in (("first_name", first, usager.first_name), ("last_name", last, usager.last_name)):
            if typed is not None and typed != kept:
                errors[name] = FRANCECONNECT_CERTIFIED
    raw_phone, formatted = _checked(errors, "phone_number", lambda: _phone(phone_number)) or (None, None)
    if phone_required and raw_phone is None and "phone_number" not in errors:
        errors["phone_number"] = "Indiquez un numéro de téléphone : l'agent vous appellera à ce numéro."
    clean_address = " ".join((address or "").split()) or None
    if address_required and clean_address is None:
        errors["address"] = "Indiquez votre adresse : l'agent se déplace à votre domicile."
    if errors or first is None or last is None:
        raise FieldErrors(errors)
    usager.first_name, usager.last_name = first, last
    usager.phone_number, usager.phone_number_formatted = raw_phone, formatted
    usager.address = clean_address
    usager.updated_at = clock.now()
    uow.session.add(usager)
    uow.commit()


@boundary(form_fields={"first_name": "relative_first_name", "last_name": "relative_last_name",
                       "birth_date": "relative_birth_date"})
def add_relative(uow: UnitOfWork, usager_id: int, *, first_name: str, last_name: str,
                 birth_date: date | None, today: date | None = None) -> int:
    """A relative ("proche") the usager books for; their messages go to the usager. Commits."""
    _holder(uow, usager_id)
    errors: dict[str, str] = {}
    first = _checked(errors, "relative_first_name",
                     lambda: usager_input.person_name(first_name, "le prénom de votre proche"))
    last = _checked(errors, "relative_last_name", lambda: usager_input.person_name(last_name, "le nom de votre proche"))
    today = today or clock.now().date()
    if birth_date is not None and not date(today.year - 130, 1, 1) <= birth_date <= today:
        errors["relative_birth_date"] = "La date de naissance n'est pas valide."
    if errors or first is None or last is None:
        raise FieldErrors(errors)
    relative = Usager(first_name=first, last_name=last, birth_date=birth_date, responsible_id=usager_id,
                      created_through=CreatedThrough.USER_RELATIVE_CREATION.value)
    uow.session.add(relative)
    uow.session.flush()
    relative_id: int = require_id(relative)
    uow.record(RecordChanged(model=WebhookSubscription.USER, record_id=relative_id,
                             change=Change.CREATED, occurred_at=clock.now()))
    uow.commit()
    return relative_id


# --------------------------------------------------------------------------- input


def _holder(uow: UnitOfWork, usager_id: int) -> Usager:
    usager = uow.session.get(Usager, usager_id)
    if usager is None or usager.deleted_at is not None:
        raise DomainError("Votre compte est introuvable. Reconnectez-vous.")
    return usager


def _throttle(limit: RateLimitItem, key: str) -> None:
    wait = rate_limit.is_blocked(limit, key)
    if wait:
        raise TooManyRequests(wait)
    rate_limit.record(limit, key)


_NAME_FIELDS = {"first_name": "votre prénom", "last_name": "votre nom", "relative_first_name": "le prénom de votre proche",
                "relative_last_name": "le nom de votre proche"}


def field_problem(field: str, value: str, *, required: bool = False) -> str | None:
    """What is still wrong with one field of the usager's forms as typed now ("" when nothing), so that a
    form clears each error as it is fixed; None for a field checked only when the form is sent."""
    check: Callable[[], object]
    if field in _NAME_FIELDS:
        check = partial(usager_input.person_name, value, _NAME_FIELDS[field])
    elif field in ("email", "sign_in_email"):
        check = partial(_email, value)
    elif field == "phone_number":
        check = partial(_phone, value)
    else:
        return None
    errors: dict[str, str] = {}
    checked = _checked(errors, field, check)
    if not errors and required and checked in (None, (None, None)):
        return "Ce champ est obligatoire."
    return errors.get(field, "")


def _checked(errors: dict[str, str], field: str, check: Callable[[], T]) -> T | None:
    """The checked value, or None with the field's French message added to `errors`."""
    try:
        return check()
    except (InvalidValue, DomainError) as error:
        errors[field] = error.message
        return None


def _email(value: str | None) -> str:
    cleaned = (value or "").strip().lower()
    if not cleaned:
        raise DomainError("Indiquez votre adresse email.", "email")
    if not _EMAIL.match(cleaned):
        raise DomainError("L'adresse email n'est pas valide (exemple : prenom.nom@exemple.fr).", "email")
    return cleaned


def _phone(value: str | None) -> tuple[str | None, str | None]:
    """(the number formatted back, its E.164 form), (None, None) when nothing was typed."""
    checked = usager_input.phone_number(value)
    return checked if checked else (None, None)
