"""Usagers as agents find and create them while planning an RDV (domain.md sections 1 and 8).

Visibility: an usager belongs to an organisation through a `UsagerProfile`. An agent of the
organisation sees its usagers in full (no service restriction). Usagers of the territory's other
organisations appear masked (`rdv_app.domain.masking`) under a separate list, except in the virtual
territories "Mairies" and "Conseillers Numériques" where they do not appear at all; when the territory
makes usagers visible throughout (`visible_users_throughout_the_territory`), they are in full with the
organisation's own. Such an usager can be put on an RDV, which adds them to the organisation.

Search (admin-domain.md 1.7, rdv_app.domain.usager_search): the start of any word of the names or the
email, accent- and case-insensitively ("elo" finds "Éloïse", "mar" finds "Jean-Marc"; several words must
all match), an email prefix when the text has an "@", a phone number typed as "06 12" or "+33 6 12".
`matching` reads the index of each database (a tsvector GIN index on PostgreSQL, FTS5 on SQLite), which the models
keep on every write of an usager; both find the same usagers, listed by `by_name`.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from rdv_app.db import search_index
from rdv_app.db.models import Organisation, Territory, Usager, UsagerProfile
from rdv_app.db.rows import not_null, require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock, usager_record
from rdv_app.domain.enums import CreatedThrough, WebhookSubscription
from rdv_app.domain.events import Actor, Change, RecordChanged
from rdv_app.domain.masking import UsagerPreview, preview, reverse_full_name
from rdv_app.domain.recipients import phone_region
from rdv_app.domain.usager_search import Query, parse_query
from rdv_app.services import audit
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError, NotFound, PermissionDenied
from rdv_app.services.rights import agent_scope

# Virtual territories whose organisations never see each other's usagers (domain.md section 8).
_CLOSED_TERRITORY_NAMES = frozenset({"Mairies", "Conseillers Numériques"})
_CLOSED_DEPARTEMENTS = frozenset({"CN"})



@dataclass(frozen=True, slots=True)
class UsagerSummary:
    """An usager the agent may see in full."""

    id: int
    name: str  # last name first: "DUPONT Jeanne"
    birth_date: str | None  # "14/07/1985"
    phone_number: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class UsagerSearch:
    usagers: list[UsagerSummary]
    other_organisations: list[UsagerPreview]  # "Usagers des autres organisations", masked


@dataclass(frozen=True, slots=True)
class _Visibility:
    organisation_id: int
    other_organisation_ids: list[int]  # the territory's other organisations
    territory_wide: bool  # their usagers in full
    masked_elsewhere: bool  # their usagers masked (otherwise not at all)


def matching(uow: UnitOfWork, query: Query) -> sa.ColumnElement[bool]:
    """The usagers `query` finds, through the search index of the database in use."""
    postgresql = uow.session.connection().dialect.name == "postgresql"
    if query.email_prefix is not None:
        if postgresql:  # LIKE on the `varchar_pattern_ops` index
            escaped = re.sub(r"([\\%_])", r"\\\1", query.email_prefix)
            return col(Usager.email).like(f"{escaped}%", escape="\\")
        # GLOB is case-sensitive, as emails are stored (lower case), and uses the email's unique index.
        escaped = re.sub(r"([*?\[])", r"[\1]", query.email_prefix)
        return col(Usager.email).op("GLOB")(f"{escaped}*")
    if postgresql:  # the GIN index of the words: each typed word is the start of one of them
        words = sa.func.to_tsvector(sa.literal_column("'simple'::regconfig"), col(Usager.search_terms))
        prefixes = " & ".join(f"{prefix}:*" for prefix in query.prefixes)
        return words.op("@@")(sa.func.to_tsquery(sa.literal_column("'simple'::regconfig"), prefixes))
    match = " ".join(f'"{prefix}"*' for prefix in query.prefixes)
    return col(Usager.id).in_(sa.select(sa.literal_column("rowid")).select_from(sa.table(search_index.SQLITE_TABLE))
                              .where(sa.literal_column(search_index.SQLITE_TABLE).op("MATCH")(match)))


def by_name(uow: UnitOfWork) -> tuple[Any, ...]:
    """Last name, then first name, folded, in the same order on both databases (byte order of the folded
    words: the terms begin with the last name's)."""
    terms: Any = col(Usager.search_terms)
    if uow.session.connection().dialect.name == "postgresql":
        terms = sa.collate(terms, "C")
    return terms, col(Usager.id)


def _visibility(uow: UnitOfWork, organisation_id: int) -> _Visibility:
    organisation, territory = uow.session.exec(
        select(Organisation, Territory).join(Territory, col(Territory.id) == Organisation.territory_id)
        .where(Organisation.id == organisation_id)
    ).one()
    others = list(uow.session.exec(select(not_null(Organisation.id)).where(
        Organisation.territory_id == territory.id, Organisation.id != organisation_id)).all())
    closed = territory.name in _CLOSED_TERRITORY_NAMES or territory.departement_number in _CLOSED_DEPARTEMENTS
    wide = territory.visible_users_throughout_the_territory
    return _Visibility(organisation_id=require_id(organisation), other_organisation_ids=others,
                       territory_wide=wide, masked_elsewhere=not wide and not closed)


@dataclass(frozen=True, slots=True)
class Reach:
    """The organisations whose usagers an agent of one organisation reaches (the rules above)."""

    organisation_id: int
    in_full: list[int]  # the organisation's own, and the territory's others when visible throughout
    masked: list[int]  # the territory's other organisations, whose usagers show masked

    @property
    def all(self) -> list[int]:
        return [*self.in_full, *self.masked]


def reach(uow: UnitOfWork, organisation_id: int) -> Reach:
    visibility = _visibility(uow, organisation_id)
    if visibility.territory_wide:
        return Reach(organisation_id, [organisation_id, *visibility.other_organisation_ids], [])
    masked = visibility.other_organisation_ids if visibility.masked_elsewhere else []
    return Reach(organisation_id, [organisation_id], masked)


def listed_in(uow: UnitOfWork, organisation_id: int, *, own_only: bool = False) -> sa.ColumnElement[bool]:
    """The usagers an agent of the organisation sees in full: those with a profile there, or anywhere in
    the territory when it makes its usagers visible throughout (unless `own_only`)."""
    organisations = [organisation_id]
    if not own_only:
        visibility = _visibility(uow, organisation_id)
        if visibility.territory_wide:
            organisations += visibility.other_organisation_ids
    return _with_profile_in(organisations)


def _with_profile_in(organisation_ids: Collection[int]) -> sa.ColumnElement[bool]:
    # Read within the usager's row (`profile_organisations`, kept by the database from `usager_profile`):
    # the searches check it on each usager they find instead of looking up a profile for each.
    conditions = [col(Usager.profile_organisations).contains(f" {int(organisation_id)} ")
                  for organisation_id in organisation_ids]
    return sa.or_(*conditions) if conditions else sa.false()


@boundary
def search_usagers(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, query: str,
                   limit: int = 8) -> UsagerSearch:
    """The usagers the typed text finds (see the module's docstring), by name; at most `limit` in each
    list."""
    agent_scope(uow, actor_agent_id, organisation_id)
    parsed = parse_query(query)
    if parsed.is_empty:
        return UsagerSearch([], [])
    visibility = _visibility(uow, organisation_id)
    base = (select(Usager).where(col(Usager.deleted_at).is_(None), matching(uow, parsed))
            .order_by(*by_name(uow)).limit(limit))
    own = [organisation_id]
    if visibility.territory_wide:
        own += visibility.other_organisation_ids
    usagers = [summary(u) for u in uow.session.exec(base.where(_with_profile_in(own))).all()]
    masked: list[UsagerPreview] = []
    if visibility.masked_elsewhere and visibility.other_organisation_ids:
        rows = uow.session.exec(base.where(_with_profile_in(visibility.other_organisation_ids),
                                           ~_with_profile_in([organisation_id]))).all()
        masked = [preview(require_id(u), first_name=u.first_name, last_name=u.last_name,
                          birth_date=u.birth_date, phone_number=u.phone_number, email=u.email) for u in rows]
    return UsagerSearch(usagers, masked)


def summary(usager: Usager) -> UsagerSummary:
    birth = usager.birth_date.strftime("%d/%m/%Y") if usager.birth_date else None
    return UsagerSummary(id=require_id(usager), name=reverse_full_name(usager.first_name, usager.last_name),
                         birth_date=birth, phone_number=usager.phone_number, email=usager.email)


def usagers_for_rdv(uow: UnitOfWork, organisation_id: int, usager_ids: Collection[int]) -> dict[int, Usager]:
    """The usagers an agent of the organisation may put on an RDV, by id; NotFound for an unknown or
    deleted id, PermissionDenied for an usager the organisation cannot see."""
    ids = set(usager_ids)
    found = {require_id(u): u for u in uow.session.exec(
        select(Usager).where(col(Usager.id).in_(ids), col(Usager.deleted_at).is_(None))).all()}
    if set(found) != ids:
        raise NotFound("Cet usager n'existe pas.")
    visibility = _visibility(uow, organisation_id)
    allowed = [organisation_id]
    if visibility.territory_wide or visibility.masked_elsewhere:
        allowed += visibility.other_organisation_ids
    visible = set(uow.session.exec(select(UsagerProfile.usager_id).where(
        col(UsagerProfile.usager_id).in_(ids), col(UsagerProfile.organisation_id).in_(allowed))).all())
    if visible != ids:
        raise PermissionDenied("Cet usager n'est pas accessible depuis cette organisation.")
    return found


@boundary
def usager_for_planning(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, usager_id: int) -> UsagerSummary:
    """An usager "Trouver un RDV" plans for (a link from the usager's page): one the organisation may put
    on an RDV (`usagers_for_rdv`), else NotFound or PermissionDenied."""
    agent_scope(uow, actor_agent_id, organisation_id)
    return summary(usagers_for_rdv(uow, organisation_id, [usager_id])[usager_id])


def add_to_organisation(uow: UnitOfWork, organisation_id: int, usagers: Collection[Usager], actor: Actor, *,
                        now: datetime) -> list[int]:
    """Gives a profile in the organisation to these usagers, their responsible and their relatives
    (a family is followed together); returns the usagers added. No commit."""
    ids = {require_id(u) for u in usagers}
    family = ids | {u.responsible_id for u in usagers if u.responsible_id is not None}
    family |= set(uow.session.exec(select(not_null(Usager.id)).where(col(Usager.responsible_id).in_(ids),
                                                           col(Usager.deleted_at).is_(None))).all())
    present = set(uow.session.exec(select(UsagerProfile.usager_id).where(
        UsagerProfile.organisation_id == organisation_id, col(UsagerProfile.usager_id).in_(family))).all())
    added = sorted(family - present)
    for usager_id in added:
        profile = UsagerProfile(organisation_id=organisation_id, usager_id=usager_id)
        uow.session.add(profile)
        uow.session.flush()
        audit.record(uow.session, action="profile_added", entity_type="usager", entity_id=usager_id,
                     changes={"organisation_id": [None, organisation_id]}, organisation_id=organisation_id,
                     actor_agent_id=actor.agent_id, actor_usager_id=actor.usager_id)
        uow.record(RecordChanged(model=WebhookSubscription.USER_PROFILE, record_id=require_id(profile),
                                 change=Change.CREATED, occurred_at=now))
    return added


@boundary
def create_usager(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, *, first_name: str,
                  last_name: str, email: str | None = None, phone_number: str | None = None,
                  birth_date: date | None = None, today: date | None = None) -> int:
    """Creates an usager from the RDV form, in this organisation; French field errors, nothing saved."""
    agent_scope(uow, actor_agent_id, organisation_id)
    first, last = _name(first_name, "first_name", "prénom"), _name(last_name, "last_name", "nom")
    clean_email = _email(uow, email)
    raw_phone, formatted_phone = _phone(uow, organisation_id, phone_number)
    _check_birth_date(birth_date, today or clock.now().date())
    usager = Usager(first_name=first, last_name=last, email=clean_email, phone_number=raw_phone,
                    phone_number_formatted=formatted_phone, birth_date=birth_date,
                    created_through=CreatedThrough.AGENT_CREATION.value)
    uow.session.add(usager)
    uow.session.flush()
    profile = UsagerProfile(organisation_id=organisation_id, usager_id=require_id(usager))
    uow.session.add(profile)
    uow.session.flush()
    now = clock.now()
    uow.record(RecordChanged(model=WebhookSubscription.USER, record_id=require_id(usager), change=Change.CREATED,
                             occurred_at=now))
    uow.record(RecordChanged(model=WebhookSubscription.USER_PROFILE, record_id=require_id(profile),
                             change=Change.CREATED, occurred_at=now))
    audit.record(uow.session, action="created", entity_type="usager", entity_id=require_id(usager),
                 changes={"organisation_id": [None, organisation_id]}, organisation_id=organisation_id,
                 actor_agent_id=actor_agent_id)
    uow.commit()
    return require_id(usager)


def _name(value: str | None, field: str, label: str) -> str:
    try:
        return usager_record.clean_name(value, field, label)
    except usager_record.FieldRefused as refused:
        raise DomainError(refused.message, refused.field) from None


def _email(uow: UnitOfWork, email: str | None) -> str | None:
    try:
        cleaned = usager_record.clean_email(email)
    except usager_record.FieldRefused as refused:
        raise DomainError(refused.message, refused.field) from None
    if cleaned is not None and uow.session.exec(select(Usager.id).where(Usager.email == cleaned)).first() is not None:
        raise DomainError("Un usager utilise déjà cette adresse email : recherchez-le par son nom.", "email")
    return cleaned


def territory_phone_region(uow: UnitOfWork, organisation_id: int) -> str:
    """The region whose national numbers the organisation's agents type (La Réunion's for its PMI)."""
    departement = uow.session.exec(
        select(Territory.departement_number).join(Organisation, col(Organisation.territory_id) == Territory.id)
        .where(Organisation.id == organisation_id)).one()
    return phone_region(departement)


def _phone(uow: UnitOfWork, organisation_id: int, phone_number: str | None) -> tuple[str | None, str | None]:
    try:
        phone = usager_record.parse_phone(phone_number, territory_phone_region(uow, organisation_id))
    except usager_record.FieldRefused as refused:
        raise DomainError(refused.message, refused.field) from None
    return (None, None) if phone is None else (phone.typed, phone.e164)


def _check_birth_date(birth_date: date | None, today: date) -> None:
    try:
        usager_record.check_birth_date(birth_date, today)
    except usager_record.FieldRefused as refused:
        raise DomainError(refused.message, refused.field) from None
