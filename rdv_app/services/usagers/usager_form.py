"""An usager's record as agents create and edit it (admin-domain.md 1.3, 1.4 and 2.1).

Who: any agent of the organisation (no service restriction) creates usagers there, and edits those it
holds (or, in a territory visible throughout, those of the territory). An usager of the territory's other
organisations is never edited from here: "Importer cet usager" first adds it to the organisation, with its
responsible and its relatives (`import_usager`).

What (`save_usager`, one transaction, nothing written when anything is refused):
- "Type d'usager": Responsable or Proche, fixed once saved. A relative holds only its names, birth date
  and notes (`usager_record.RELATIVE_FIELDS`), and its own pre-demande number where the organisation has
  ANTS motifs (each title has its own: integrations.md 1d); its responsible is an usager the organisation holds (not
  itself a relative, so no usager is ever its own responsible, directly or not), or a new responsible
  created in the same submit. A relative is added to every organisation of its responsible.
- Every field follows `rdv_app.domain.usager_record`; the errors of all fields come back together, as a
  mapping field → French message (`UsagerFormInvalid.errors`; the new responsible's fields are prefixed
  with `RESPONSIBLE_PREFIX`).
- Fields hidden by the territory's toggles are neither read nor changed (hiding never deletes).
- FranceConnect: once the usager signed in with it, the first name, birth name and birth date it
  certified cannot change. Notification preferences are the usager's own once they confirmed their
  account (a verified email or a FranceConnect sign-in).
- Duplicates, checked at save time among the usagers of the organisation's territory that the agent may
  see (RDV Service Public searched the whole base: port note of admin-domain.md 2.1), and only for the
  attributes this save changes: the same email blocks (the address belongs to one usager, whoever it is;
  an usager out of the agent's reach is not shown); the same phone, or the same first name, last name
  (accents and case aside) and birth date, warn, and the agent may confirm past them. The usager shown
  for each is the one with the most RDVs; details of an usager of another organisation are masked.
- Audit rows and the `user` / `user_profile` webhooks, as `usagers.create_usager` does.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from rdv_app.db.models import (
    Motif,
    MotifCategory,
    Organisation,
    Participation,
    Territory,
    Usager,
    UsagerProfile,
)
from rdv_app.db.rows import require_id
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import ants, clock, usager_record
from rdv_app.domain.enums import CaisseAffiliation, CreatedThrough, FamilySituation, Logement, UsagerKind
from rdv_app.domain.enums import WebhookSubscription as Webhook
from rdv_app.domain.events import Actor, Change, RecordChanged
from rdv_app.domain.masking import mask_birth_date, mask_email, mask_phone, reverse_full_name
from rdv_app.domain.usager_record import FieldRefused
from rdv_app.domain.usager_search import fold
from rdv_app.services import audit
from rdv_app.services.boundary import boundary
from rdv_app.services.errors import DomainError, NeedsConfirmation, NotFound, PermissionDenied
from rdv_app.services.integrations import ants as ants_service
from rdv_app.services.organisation import local_time
from rdv_app.services.rights import agent_scope
from rdv_app.services.usagers import usager_page, usagers

RESPONSIBLE_PREFIX = "responsible_"
CREATED = "L'usager a été créé."
UPDATED = "L'usager a été modifié."
IMPORTED = "L'usager a été associé à votre organisation."
INVITED = " Une invitation à créer son compte lui a été envoyée par email (valable une semaine)."
NOT_MOBILE = " Le numéro de téléphone n'est pas un mobile : l'usager ne recevra pas de SMS."
INVALID = "Le formulaire contient des erreurs : corrigez les champs signalés."
NOT_FOUND = "Cet usager n'existe pas."
OUT_OF_REACH = "Cet usager n'est pas suivi par votre organisation."
SAME_EMAIL = "Un usager avec le même email a déjà un compte."
SAME_PHONE = "Un usager avec le même numéro de téléphone existe déjà."
SAME_IDENTITY = "Un usager avec le même prénom, nom d'usage et date de naissance existe déjà."
_CERTIFIED = ("first_name", "birth_name", "birth_date")
_NOTIFICATIONS = ("notify_by_sms", "notify_by_email")


@dataclass(frozen=True)
class UsagerFields:
    """The fields of the form, as typed (a relative's form fills only its own)."""

    first_name: str = ""
    last_name: str = ""
    birth_name: str = ""
    birth_date: date | None = None
    email: str = ""
    phone_number: str = ""
    address: str = ""
    post_code: str = ""
    city_code: str = ""
    city_name: str = ""
    address_details: str = ""
    case_number: str = ""
    notes: str = ""
    caisse_affiliation: str = ""
    affiliation_number: str = ""
    family_situation: str = ""
    number_of_children: str = ""
    logement: str = ""
    notify_by_sms: bool = True
    notify_by_email: bool = True
    ants_pre_demande_number: str = ""  # only where the organisation has motifs of the ANTS categories


@dataclass(frozen=True)
class UsagerForm:
    kind: str  # UsagerKind
    usager: UsagerFields
    responsible_id: int | None = None  # a relative's existing responsible
    new_responsible: UsagerFields | None = None  # or the one created with it
    invite: bool = False  # a new responsible: "Inviter l'usager à se créer un compte" (admin-domain.md 1.6)


@dataclass(frozen=True)
class RecordToggles:
    """The optional fields the territory shows (admin-domain.md 1.2)."""

    enable_notes_field: bool = False
    enable_logement_field: bool = False
    enable_caisse_affiliation_field: bool = False
    enable_affiliation_number_field: bool = False
    enable_family_situation_field: bool = False
    enable_number_of_children_field: bool = False
    enable_case_number: bool = False
    enable_address_details: bool = False

    def shows(self, field: str) -> bool:
        toggle = usager_record.TOGGLED_FIELDS.get(field)
        return toggle is None or bool(getattr(self, toggle))


@dataclass(frozen=True)
class Duplicate:
    """An usager found with the same email, phone or identity as the one being saved."""

    key: str  # "email", "phone_number" or "identity"
    message: str
    about_responsible: bool  # found for the new responsible of a relative
    usager_id: int | None  # None: out of the agent's reach, nothing of it is shown
    name: str = ""
    birth_date: str = ""
    address: str = ""
    email: str = ""
    phone_number: str = ""
    in_organisation: bool = False  # otherwise "Importer cet usager" adds it


class UsagerFormInvalid(DomainError):
    """Field errors, all of them: {field: French message}; nothing was written."""

    def __init__(self, errors: dict[str, str], duplicates: list[Duplicate]) -> None:
        super().__init__(INVALID)
        self.errors = errors
        self.duplicates = duplicates


class DuplicateWarnings(NeedsConfirmation):
    """Usagers that look like the one being saved: the agent may confirm past them."""

    def __init__(self, duplicates: list[Duplicate]) -> None:
        super().__init__([d.message for d in duplicates])
        self.duplicates = duplicates


@dataclass(frozen=True)
class ResponsibleChoice:
    id: int
    name: str  # "DUPONT Jeanne - 14/07/1985"


@dataclass(frozen=True)
class UsagerFormView:
    """What the form shows: the territory's toggles, and the usager edited (None: a new one)."""

    toggles: RecordToggles
    usager_id: int | None
    kind: str
    values: UsagerFields  # hidden fields empty: the browser gets only what it shows
    responsible: ResponsibleChoice | None
    franceconnect: bool  # first name, birth name and birth date are certified
    notifications_locked: bool
    ants: bool = False  # the organisation has motifs of the ANTS categories: the pre-demande number is asked


@dataclass(frozen=True)
class Saved:
    usager_id: int
    message: str


# --------------------------------------------------------------------------- reading


def _toggles(uow: UnitOfWork, organisation_id: int) -> RecordToggles:
    territory = uow.session.exec(select(Territory).join(Organisation, col(Organisation.territory_id) == Territory.id)
                                 .where(Organisation.id == organisation_id)).one()
    return RecordToggles(**{f.name: getattr(territory, f.name) for f in fields(RecordToggles)})


def _editable(uow: UnitOfWork, reach: usagers.Reach, usager_id: int) -> Usager:
    usager = uow.session.get(Usager, usager_id)
    if usager is None or usager.deleted_at is not None:
        raise NotFound(NOT_FOUND)
    held = uow.session.exec(select(UsagerProfile.id).where(
        UsagerProfile.usager_id == usager_id, col(UsagerProfile.organisation_id).in_(reach.in_full))).first()
    if held is None:
        raise PermissionDenied(OUT_OF_REACH)
    return usager


def _account_confirmed(usager: Usager) -> bool:
    return usager.email_verified_at is not None or usager.logged_once_with_franceconnect


def _choice(usager: Usager) -> ResponsibleChoice:
    birth = f" - {usager.birth_date:%d/%m/%Y}" if usager.birth_date else ""
    return ResponsibleChoice(require_id(usager), reverse_full_name(usager.first_name, usager.last_name) + birth)


def _shown_values(usager: Usager, toggles: RecordToggles, kind: str) -> UsagerFields:
    values: dict[str, Any] = {}
    for f in fields(UsagerFields):
        shown = toggles.shows(f.name) and (kind == UsagerKind.RESPONSIBLE or f.name in usager_record.RELATIVE_FIELDS)
        stored = getattr(usager, f.name)
        if not shown:
            values[f.name] = f.default
        elif f.name == "birth_date" or isinstance(stored, bool):
            values[f.name] = stored
        else:
            values[f.name] = "" if stored is None else str(stored)
    return UsagerFields(**values)


@boundary
def usager_form(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, usager_id: int | None) -> UsagerFormView:
    """The form of a new usager (`usager_id` None) or of one the organisation holds."""
    agent_scope(uow, actor_agent_id, organisation_id)
    toggles = _toggles(uow, organisation_id)
    asks_ants = _asks_ants_number(uow, organisation_id)
    if usager_id is None:
        return UsagerFormView(toggles, None, UsagerKind.RESPONSIBLE, UsagerFields(), None, False, False, asks_ants)
    usager = _editable(uow, usagers.reach(uow, organisation_id), usager_id)
    kind = UsagerKind.RESPONSIBLE if usager.responsible_id is None else UsagerKind.RELATIVE
    responsible = uow.session.get(Usager, usager.responsible_id) if usager.responsible_id else None
    values = _shown_values(usager, toggles, kind)
    # A relative has a pre-demande number of their own (their own title), as a responsible has.
    values = replace(values, ants_pre_demande_number=(usager.ants_pre_demande_number or "") if asks_ants else "")
    return UsagerFormView(toggles, usager_id, kind, values,
                          _choice(responsible) if responsible else None, usager.logged_once_with_franceconnect,
                          _account_confirmed(usager), asks_ants)


def _asks_ants_number(uow: UnitOfWork, organisation_id: int) -> bool:
    return uow.session.exec(
        select(Motif.id).join(MotifCategory, col(MotifCategory.id) == Motif.motif_category_id)
        .where(Motif.organisation_id == organisation_id, col(Motif.deleted_at).is_(None),
               col(MotifCategory.name).in_(ants.ANTS_CATEGORIES))).first() is not None


@boundary
def check_ants_number(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, usager_id: int | None,
                      ants_pre_demande_number: str) -> ants_service.NumberVerdict:
    """The live check of the form's pre-demande number, as the agent leaves the field: the same verdict as
    at saving (format first, then ANTS: consumed, expired, unknown… are errors, a number already used for
    another RDV a warning to confirm), for the usager edited (None: a new one), a responsible or a relative.
    The number the usager already has is not asked again, as at saving."""
    agent_scope(uow, actor_agent_id, organisation_id)
    if not _asks_ants_number(uow, organisation_id):
        raise NotFound("Cette organisation ne demande pas de numéro de pré-demande ANTS.")
    number = ants.normalized_number(ants_pre_demande_number)
    if usager_id is not None:
        existing = _editable(uow, usagers.reach(uow, organisation_id), usager_id)
        if number and number == existing.ants_pre_demande_number:
            return ants_service.NumberVerdict(number)
    if not number:
        return ants_service.NumberVerdict("")
    return ants_service.check_number(number)


def _ants_number(typed: str, errors: dict[str, str]) -> tuple[str | None, Duplicate | None]:
    """The number checked with ANTS (format first): stored, and the warning of a number already used."""
    if not typed.strip():
        return None, None
    verdict = ants_service.check_number(typed)
    if verdict.error:
        errors["ants_pre_demande_number"] = verdict.error
        return verdict.number, None
    if verdict.warning:
        return verdict.number, Duplicate(key="ants_pre_demande_number", message=verdict.warning,
                                         about_responsible=False, usager_id=None)
    return verdict.number, None


@boundary
def responsible_choices(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, query: str,
                        usager_id: int | None = None) -> list[ResponsibleChoice]:
    """The usagers of the organisation that may be a relative's responsible, by name: not relatives
    themselves, nor the usager edited."""
    found = usagers.search_usagers(uow, actor_agent_id, organisation_id, query, limit=20)
    ids = [u.id for u in found.usagers if u.id != usager_id]
    rows = uow.session.exec(select(Usager).where(col(Usager.id).in_(ids), col(Usager.responsible_id).is_(None))).all()
    by_id = {require_id(u): u for u in rows}
    return [_choice(by_id[i]) for i in ids if i in by_id][:8]


# --------------------------------------------------------------------------- cleaning


def _clean(typed: UsagerFields, kind: str, toggles: RecordToggles, region: str, today: date,
           errors: dict[str, str], prefix: str) -> dict[str, Any]:
    """The columns this form writes, cleaned; errors under `prefix + field`."""
    rules: dict[str, Any] = {
        "first_name": lambda v: usager_record.clean_name(v, "first_name", "prénom"),
        "last_name": lambda v: usager_record.clean_name(v, "last_name", "nom d'usage"),
        "birth_name": usager_record.clean_text,
        "birth_date": lambda v: _birth_date(v, today),
        "email": usager_record.clean_email,
        "address": usager_record.clean_text,
        "post_code": usager_record.clean_text,
        "city_code": usager_record.clean_text,
        "city_name": usager_record.clean_text,
        "address_details": usager_record.clean_text,
        "case_number": usager_record.clean_text,
        "notes": usager_record.clean_note,
        "caisse_affiliation": lambda v: usager_record.choice(v, CaisseAffiliation, "caisse_affiliation"),
        "affiliation_number": usager_record.clean_text,
        "family_situation": lambda v: usager_record.choice(v, FamilySituation, "family_situation"),
        "number_of_children": usager_record.parse_number_of_children,
        "logement": lambda v: usager_record.choice(v, Logement, "logement"),
        "notify_by_sms": bool,
        "notify_by_email": bool,
    }
    values: dict[str, Any] = {}
    for name, rule in rules.items():
        if not toggles.shows(name) or (kind == UsagerKind.RELATIVE and name not in usager_record.RELATIVE_FIELDS):
            continue
        try:
            values[name] = rule(getattr(typed, name))
        except FieldRefused as refused:
            errors[prefix + refused.field] = refused.message
    if kind == UsagerKind.RESPONSIBLE:
        try:
            phone = usager_record.parse_phone(typed.phone_number, region)
        except FieldRefused as refused:
            errors[prefix + refused.field] = refused.message
        else:
            values["phone_number"] = phone.typed if phone else None
            values["phone_number_formatted"] = phone.e164 if phone else None
            values["_mobile"] = phone.mobile if phone else False
    return values


def _birth_date(value: date | None, today: date) -> date | None:
    usager_record.check_birth_date(value, today)
    return value


def _check_locks(usager: Usager, values: dict[str, Any], errors: dict[str, str]) -> None:
    if usager.logged_once_with_franceconnect:
        for name in _CERTIFIED:
            if name in values and values[name] != getattr(usager, name):
                errors[name] = usager_record.FRANCECONNECT_CERTIFIED
    if _account_confirmed(usager):
        for name in _NOTIFICATIONS:
            if name in values and values[name] != getattr(usager, name):
                errors[name] = usager_record.NOTIFICATIONS_LOCKED


# --------------------------------------------------------------------------- duplicates


def _most_rdvs_first() -> Any:
    rdvs = select(sa.func.count()).where(Participation.usager_id == Usager.id).scalar_subquery()
    return (rdvs.desc(), col(Usager.id))


def _in(organisation_ids: list[int]) -> Any:
    return col(Usager.id).in_(select(UsagerProfile.usager_id)
                              .where(col(UsagerProfile.organisation_id).in_(organisation_ids)))


def _shown(uow: UnitOfWork, reach: usagers.Reach, match: Usager, key: str, message: str,
           about_responsible: bool) -> Duplicate:
    match_id = require_id(match)
    in_organisation = uow.session.exec(select(UsagerProfile.id).where(
        UsagerProfile.usager_id == match_id, UsagerProfile.organisation_id == reach.organisation_id)).first()
    in_full = uow.session.exec(select(UsagerProfile.id).where(
        UsagerProfile.usager_id == match_id, col(UsagerProfile.organisation_id).in_(reach.in_full))).first()
    address = ", ".join(p for p in (match.address, match.post_code, match.city_name) if p)
    if in_full is not None:
        return Duplicate(key, message, about_responsible, match_id,
                         reverse_full_name(match.first_name, match.last_name),
                         f"{match.birth_date:%d/%m/%Y}" if match.birth_date else "", address, match.email or "",
                         match.phone_number or "", in_organisation is not None)
    return Duplicate(key, message, about_responsible, match_id, reverse_full_name(match.first_name, match.last_name),
                     mask_birth_date(match.birth_date) or "", "", mask_email(match.email) or "",
                     mask_phone(match.phone_number) or "", False)


def _duplicates(uow: UnitOfWork, reach: usagers.Reach, values: dict[str, Any], before: Usager | None,
                about_responsible: bool) -> list[Duplicate]:
    """The usagers this save would duplicate, for the attributes it changes."""
    def changed(*names: str) -> bool:
        return any(name in values and (before is None or values[name] != getattr(before, name)) for name in names)

    others: list[sa.ColumnElement[bool]] = [col(Usager.deleted_at).is_(None)]
    if before is not None:
        others.append(col(Usager.id) != before.id)
    found: list[Duplicate] = []
    if values.get("email") and changed("email"):
        match = uow.session.exec(select(Usager).where(Usager.email == values["email"],
                                                      *([] if before is None else [col(Usager.id) != before.id]))).first()
        if match is not None:
            seen = match.deleted_at is None and uow.session.exec(select(UsagerProfile.id).where(
                UsagerProfile.usager_id == match.id, col(UsagerProfile.organisation_id).in_(reach.all))).first()
            found.append(_shown(uow, reach, match, "email", SAME_EMAIL, about_responsible) if seen
                         else Duplicate("email", SAME_EMAIL, about_responsible, None))
    if values.get("phone_number_formatted") and changed("phone_number_formatted"):
        match = uow.session.exec(select(Usager).where(
            Usager.phone_number_formatted == values["phone_number_formatted"], *others, _in(reach.all))
            .order_by(*_most_rdvs_first())).first()
        if match is not None:
            found.append(_shown(uow, reach, match, "phone_number", SAME_PHONE, about_responsible))
    named = "first_name" in values and "last_name" in values
    if named and values.get("birth_date") and changed("first_name", "last_name", "birth_date"):
        same_day = uow.session.exec(select(Usager).where(Usager.birth_date == values["birth_date"], *others,
                                                         _in(reach.all)).order_by(*_most_rdvs_first())).all()
        identity = (fold(values["first_name"]), fold(values["last_name"]))
        match = next((u for u in same_day if (fold(u.first_name.strip()),
                                               fold(u.last_name.strip())) == identity), None)
        if match is not None:
            found.append(_shown(uow, reach, match, "identity", SAME_IDENTITY, about_responsible))
    return found


# --------------------------------------------------------------------------- saving


def _responsible(uow: UnitOfWork, reach: usagers.Reach, responsible_id: int, usager_id: int | None) -> Usager:
    responsible = uow.session.get(Usager, responsible_id)
    held = uow.session.exec(select(UsagerProfile.id).where(
        UsagerProfile.usager_id == responsible_id, col(UsagerProfile.organisation_id).in_(reach.in_full))).first()
    if responsible is None or responsible.deleted_at is not None or held is None:
        raise FieldRefused("Choisissez l'usager responsable parmi les usagers de votre organisation.", "responsible_id")
    if responsible_id == usager_id:
        raise FieldRefused("L'usager ne peut pas être son propre responsable.", "responsible_id")
    if responsible.responsible_id is not None:
        raise FieldRefused("Cet usager est lui-même un proche : choisissez son responsable.", "responsible_id")
    return responsible


def _create(uow: UnitOfWork, organisation_id: int, values: dict[str, Any], actor_agent_id: int,
            responsible_id: int | None) -> Usager:
    usager = Usager(**values, responsible_id=responsible_id, created_through=CreatedThrough.AGENT_CREATION.value)
    uow.session.add(usager)
    uow.session.flush()
    profile = UsagerProfile(organisation_id=organisation_id, usager_id=require_id(usager))
    uow.session.add(profile)
    uow.session.flush()
    now = clock.now()
    uow.record(RecordChanged(model=Webhook.USER, record_id=require_id(usager), change=Change.CREATED, occurred_at=now))
    uow.record(RecordChanged(model=Webhook.USER_PROFILE, record_id=require_id(profile), change=Change.CREATED,
                             occurred_at=now))
    audit.record(uow.session, action="created", entity_type="usager", entity_id=require_id(usager),
                 changes={"organisation_id": [None, organisation_id], "responsible_id": [None, responsible_id]},
                 organisation_id=organisation_id, actor_agent_id=actor_agent_id)
    return usager


def _update(uow: UnitOfWork, organisation_id: int, usager: Usager, values: dict[str, Any], actor_agent_id: int,
            responsible_id: int | None) -> None:
    wanted = {**values, "responsible_id": responsible_id}
    before = {name: getattr(usager, name) for name in wanted}
    changes = audit.diff(before, wanted)
    if not changes:
        return
    for name, value in wanted.items():
        setattr(usager, name, value)
    now = clock.now()
    usager.updated_at = now
    uow.session.flush()
    uow.record(RecordChanged(model=Webhook.USER, record_id=require_id(usager), change=Change.UPDATED, occurred_at=now))
    audit.record(uow.session, action="updated", entity_type="usager", entity_id=require_id(usager), changes=changes,
                 organisation_id=organisation_id, actor_agent_id=actor_agent_id)


@boundary
def save_usager(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, usager_id: int | None, form: UsagerForm,
                confirm_warnings: bool = False) -> Saved:
    """Creates (`usager_id` None) or updates an usager of the organisation: see the module's docstring.
    Raises UsagerFormInvalid (field errors) or DuplicateWarnings (unless `confirm_warnings`)."""
    agent_scope(uow, actor_agent_id, organisation_id)
    reach = usagers.reach(uow, organisation_id)
    toggles = _toggles(uow, organisation_id)
    region = usagers.territory_phone_region(uow, organisation_id)
    today = local_time.today(uow, organisation_id)
    existing = None if usager_id is None else _editable(uow, reach, usager_id)
    errors: dict[str, str] = {}
    kind = form.kind
    if kind not in set(UsagerKind):
        errors["kind"] = "Choisissez le type d'usager : responsable ou proche."
        kind = UsagerKind.RESPONSIBLE
    if existing is not None:
        stored_kind = UsagerKind.RESPONSIBLE if existing.responsible_id is None else UsagerKind.RELATIVE
        if kind != stored_kind:
            errors["kind"] = "Le type d'usager ne peut plus être modifié une fois l'usager enregistré."
            kind = stored_kind
    values = _clean(form.usager, kind, toggles, region, today, errors, "")
    ants_warning = None
    if _asks_ants_number(uow, organisation_id):  # a relative's own number too
        number = ants.normalized_number(form.usager.ants_pre_demande_number)
        if existing is not None and number and number == existing.ants_pre_demande_number:
            values["ants_pre_demande_number"] = number  # unchanged: ANTS is not asked again
        else:
            values["ants_pre_demande_number"], ants_warning = _ants_number(number, errors)
    if existing is not None:
        _check_locks(existing, values, errors)
    responsible_values: dict[str, Any] | None = None
    responsible: Usager | None = None
    if kind == UsagerKind.RELATIVE:
        if form.new_responsible is not None:
            responsible_values = _clean(form.new_responsible, UsagerKind.RESPONSIBLE, toggles, region, today, errors,
                                        RESPONSIBLE_PREFIX)
        elif form.responsible_id is not None:
            try:
                responsible = _responsible(uow, reach, form.responsible_id, usager_id)
            except FieldRefused as refused:
                errors[refused.field] = refused.message
        else:
            errors["responsible_id"] = "Choisissez l'usager responsable, ou créez-le dans l'onglet « Nouvel usager »."
    invite = form.invite and existing is None and kind == UsagerKind.RESPONSIBLE
    if invite and not values.get("email"):
        errors["email"] = "Renseignez l'email de l'usager pour l'inviter à créer son compte."
    mobile = bool(values.pop("_mobile", False))
    if responsible_values is not None:
        responsible_values.pop("_mobile", None)
    duplicates = _duplicates(uow, reach, values, existing, about_responsible=False)
    if responsible_values is not None:
        duplicates += _duplicates(uow, reach, responsible_values, None, about_responsible=True)
    if ants_warning is not None:
        duplicates.append(ants_warning)
    blocking = [d for d in duplicates if d.key == "email"]
    for duplicate in blocking:
        errors[(RESPONSIBLE_PREFIX if duplicate.about_responsible else "") + "email"] = duplicate.message
    if errors:
        raise UsagerFormInvalid(errors, blocking)
    if duplicates and not confirm_warnings:
        raise DuplicateWarnings(duplicates)

    if responsible_values is not None:
        responsible = _create(uow, organisation_id, responsible_values, actor_agent_id, None)
    responsible_id = None if responsible is None else require_id(responsible)
    if existing is None:
        usager = _create(uow, organisation_id, values, actor_agent_id, responsible_id)
    else:
        usager = existing
        _update(uow, organisation_id, usager, values, actor_agent_id, responsible_id)
    if responsible is not None:
        _follow_responsible(uow, usager, responsible, actor_agent_id)
    if invite:
        usager_page.send_invitation(uow, actor_agent_id, organisation_id, usager)
    uow.commit()
    message = CREATED if existing is None else UPDATED
    if invite:
        message += INVITED
    if kind == UsagerKind.RESPONSIBLE and values.get("phone_number") and values.get("notify_by_sms") and not mobile:
        message += NOT_MOBILE
    return Saved(require_id(usager), message)


def _follow_responsible(uow: UnitOfWork, relative: Usager, responsible: Usager, actor_agent_id: int) -> None:
    """A relative is in every organisation of its responsible."""
    theirs = uow.session.exec(select(UsagerProfile.organisation_id).where(
        UsagerProfile.usager_id == responsible.id)).all()
    mine = set(uow.session.exec(select(UsagerProfile.organisation_id).where(
        UsagerProfile.usager_id == relative.id)).all())
    for organisation_id in sorted(set(theirs) - mine):
        usagers.add_to_organisation(uow, organisation_id, [relative], Actor.agent(actor_agent_id), now=clock.now())


@boundary
def import_usager(uow: UnitOfWork, actor_agent_id: int, organisation_id: int, usager_id: int) -> int:
    """"Importer cet usager": an usager of another organisation of the territory, found as a duplicate,
    joins this organisation with its responsible and its relatives."""
    agent_scope(uow, actor_agent_id, organisation_id)
    reach = usagers.reach(uow, organisation_id)
    usager = uow.session.get(Usager, usager_id)
    if usager is None or usager.deleted_at is not None:
        raise NotFound(NOT_FOUND)
    known = uow.session.exec(select(UsagerProfile.id).where(
        UsagerProfile.usager_id == usager_id, col(UsagerProfile.organisation_id).in_(reach.all))).first()
    if known is None:
        raise PermissionDenied("Cet usager n'est pas accessible depuis cette organisation.")
    usagers.add_to_organisation(uow, organisation_id, [usager], Actor.agent(actor_agent_id), now=clock.now())
    uow.commit()
    return usager_id

