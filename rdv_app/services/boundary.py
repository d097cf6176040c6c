"""The services' boundary: every use case that people's input reaches is decorated with `@boundary`.

Before the use case runs, each argument it was given is checked against its annotation, and refused with
`InvalidInput` (French, naming the field) when it does not fit:

- `int`: an int, not a bool, that the database's 32-bit integers can hold; an id (`id`, `..._id`,
  `..._ids`) is positive;
- `bool`: True or False; `str`: text, no longer than its kind of field allows (`FIELDS`, with the limits
  of rdv_app.domain.limits), without NUL or unpaired surrogate characters, which no database stores;
- `datetime`: an instant, so timezone-aware; `date`: a day, not a datetime; `time`: a wall-clock time,
  without a time zone; dates and instants between the years `FIRST_YEAR` and `LAST_YEAR`;
- `None` only where the annotation allows it; lists, sets, tuples and mappings of at most `MAX_ITEMS`
  items, each checked in turn; dataclasses field by field; any other class by `isinstance`.

The use case keeps its own rules (a required name, a valid phone number, a day not too far...): the
boundary only makes sure they run on values of the right shape and size.

A database error that these checks could not foresee (a constraint, a value out of the column's range)
leaves the use case as `InvalidInput` too, and a row that a query expected and did not find as
`NotFound`, after the unit of work is rolled back: nothing is written.
Errors of the database itself (unreachable, locked) are not the person's input and go on as they are.
The use cases that handle an `IntegrityError` themselves (the booking key, the online slots' exclusion
constraint, a motif's unique name) still do: the boundary only sees what leaves them.

Every parameter and dataclass field a decorated use case takes has its French label in `FIELDS`, and every
text its maximum length; `check_declarations` (run by the unit tests) proves it for each of them.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import logging
import types
import typing
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, ParamSpec, TypeVar

import sqlalchemy as sa

from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import limits
from rdv_app.domain.labels import french_number
from rdv_app.services.errors import DomainError, InvalidInput, NotFound

P = ParamSpec("P")
R = TypeVar("R")

logger = logging.getLogger(__name__)

INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # PostgreSQL's integer, the type of every id and count column
MAX_ITEMS = 1_000  # far more than any form offers, far fewer than the databases' bound parameters
# Wider than any rule of the services (which speak first of a birth date too old or a day too far), narrow
# enough that no computation on the day overflows.
FIRST_YEAR, LAST_YEAR = 1800, 2200
REFUSED = "Cette demande n'a pas pu aboutir : vérifiez les informations saisies, puis réessayez."
# Database errors about what was sent; unreachable or locked databases are not the person's doing.
_REFUSALS = (sa.exc.IntegrityError, sa.exc.DataError, sa.exc.ProgrammingError)


@dataclass(frozen=True)
class Field:
    label: str  # as the form names it, in French
    max_length: int | None = None  # for text: one of rdv_app.domain.limits


FIELDS: dict[str, Field] = {
    # people's names and contact details
    "first_name": Field("prénom", limits.NAME),
    "last_name": Field("nom", limits.NAME),
    "given_name": Field("prénom", limits.NAME),
    "family_name": Field("nom", limits.NAME),
    "preferred_username": Field("nom d'usage", limits.NAME),
    "answer": Field("trois premières lettres du nom", limits.NAME),
    "email": Field("adresse email", limits.EMAIL),
    "admin_email": Field("adresse email de l'administrateur", limits.EMAIL),
    "departement_number": Field("numéro du territoire", limits.CODE),
    "territory_name": Field("nom du territoire", limits.LABEL),
    "organisation_name": Field("nom de l'organisation", limits.LABEL),
    "short_name": Field("nom court", limits.LABEL),
    "access_level": Field("niveau", limits.CODE),
    "is_secretariat": Field("secrétariat"),
    "phone_number": Field("téléphone", limits.PHONE),
    "address": Field("adresse", limits.ADDRESS),
    "birth_date": Field("date de naissance"),
    "birth_name": Field("nom de naissance", limits.NAME),
    "address_details": Field("complément d'adresse", limits.ADDRESS),
    "post_code": Field("code postal", limits.CODE),
    "city_code": Field("code INSEE de la commune", limits.CODE),
    "city_name": Field("commune", limits.LABEL),
    "case_number": Field("numéro de dossier", limits.CODE),
    "notes": Field("remarques", limits.NOTE),
    "affiliation_number": Field("numéro d'allocataire", limits.CODE),
    "number_of_children": Field("nombre d'enfants", limits.CODE),
    "caisse_affiliation": Field("caisse d'affiliation", limits.CODE),
    "family_situation": Field("situation familiale", limits.CODE),
    "logement": Field("logement", limits.CODE),
    "kind": Field("type d'usager", limits.CODE),
    "birthdate": Field("date de naissance"),
    # names of things, and texts
    "name": Field("nom", limits.LABEL),
    "title": Field("titre", limits.LABEL),
    "location_label": Field("type de lieu", limits.LABEL),
    "context": Field("contexte", limits.NOTE),
    "horaires": Field("horaires", limits.NOTE),
    "restriction_for_rdv": Field("conditions du rendez-vous", limits.INSTRUCTIONS),
    "instruction_for_rdv": Field("instructions", limits.INSTRUCTIONS),
    "custom_cancel_warning_message": Field("avertissement avant annulation", limits.INSTRUCTIONS),
    "website": Field("site web", limits.URL),
    "target_url": Field("adresse du webhook", limits.URL),
    "next_path": Field("page de retour", limits.URL),
    "user_agent": Field("navigateur", limits.NOTE),
    "query": Field("recherche", limits.SEARCH),
    "text": Field("recherche", limits.SEARCH),
    "name_contains": Field("nom du motif", limits.SEARCH),
    # values picked from a list, and codes
    "status": Field("statut", limits.CODE),
    "location_type": Field("type de lieu", limits.CODE),
    "bookable_by": Field("qui peut réserver", limits.CODE),
    "visibility_type": Field("visibilité", limits.CODE),
    "sectorisation_level": Field("sectorisation", limits.CODE),
    "color": Field("couleur", limits.CODE),
    "agenda_colour": Field("couleur dans l'agenda", limits.CODE),
    "timezone": Field("fuseau horaire", limits.CODE),
    "latitude": Field("latitude", limits.CODE),
    "longitude": Field("longitude", limits.CODE),
    "recurrence": Field("répétition", limits.CODE),
    "subscriptions": Field("événements", limits.CODE),
    "rdv_notifications_level": Field("notifications des RDV", limits.CODE),
    "plage_ouverture_notification_level": Field("notifications des plages d'ouverture", limits.CODE),
    "absence_notification_level": Field("notifications des indisponibilités", limits.CODE),
    "ip": Field("adresse IP", limits.CODE),
    "device": Field("appareil", limits.CODE),
    # secrets
    "password": Field("mot de passe", limits.PASSWORD),
    "current": Field("mot de passe actuel", limits.PASSWORD),
    "new": Field("nouveau mot de passe", limits.PASSWORD),
    "confirmation": Field("confirmation du mot de passe", limits.PASSWORD),
    "token": Field("lien", limits.SECRET),
    "session_token": Field("session", limits.SECRET),
    "ticket": Field("lien de connexion", limits.SECRET),
    "cookie": Field("accès", limits.SECRET),
    "key": Field("clé", limits.SECRET),
    "motif_key": Field("motif", limits.SECRET),
    "booking_key": Field("clé de réservation", limits.SECRET),
    "prescripteur": Field("vos coordonnées"),
    "beneficiaire": Field("bénéficiaire"),
    "calendar_uid": Field("lien du calendrier", limits.SECRET),
    "id_token": Field("jeton FranceConnect", limits.SECRET),
    "access_token": Field("jeton d'accès Microsoft", limits.OAUTH_TOKEN),
    "refresh_token": Field("jeton de renouvellement Microsoft", limits.OAUTH_TOKEN),
    "access_expires_at": Field("fin de validité du jeton Microsoft"),
    "sub": Field("identifiant FranceConnect", limits.SECRET),
    "code": Field("code de vérification", limits.CODE),
    "secret": Field("clé de double authentification", limits.CODE),
    "code_or_password": Field("code ou mot de passe", limits.PASSWORD),
    # a territory's SMS settings (rdv_app.services.instance.backoffice)
    "provider": Field("fournisseur de SMS", limits.CODE),
    "sender": Field("expéditeur", limits.CODE),
    "channel": Field("canal", limits.CODE),
    "endpoint": Field("région du compte OVH", limits.CODE),
    "service_name": Field("nom du service SMS", limits.CODE),
    "application_key": Field("clé d'application", limits.SECRET),
    "application_secret": Field("secret d'application", limits.SECRET),
    "consumer_key": Field("clé client", limits.SECRET),
    # ids
    "id": Field("identifiant"),
    "actor_agent_id": Field("compte agent"),
    "account": Field("nouveau territoire"),
    "actor_usager_id": Field("compte usager"),
    "agent_id": Field("agent"),
    "agent_ids": Field("agents"),
    "usager_id": Field("usager"),
    "usager_ids": Field("usagers"),
    "other_usager_id": Field("second usager"),
    "responsible_id": Field("usager responsable"),
    "referent_agent_id": Field("agent référent"),
    "invite": Field("inviter l'usager à créer son compte"),
    "for_usager_id": Field("personne concernée"),
    "participant_id": Field("participant"),
    "new_participant_id": Field("personne concernée"),
    "participation_id": Field("rendez-vous"),
    "rdv_id": Field("rendez-vous"),
    "organisation_id": Field("organisation"),
    "organisation_ids": Field("organisations"),
    "from_organisation_id": Field("organisation de départ"),
    "to_organisation_id": Field("organisation d'arrivée"),
    "territory_id": Field("territoire"),
    "service_id": Field("service"),
    "service_ids": Field("services"),
    "motif_id": Field("motif"),
    "motif_ids": Field("motifs"),
    "lieu_id": Field("lieu"),
    "plage_id": Field("plage d'ouverture"),
    "absence_id": Field("indisponibilité"),
    "endpoint_id": Field("webhook"),
    "team_id": Field("équipe"),
    "outbox_message_id": Field("message"),
    "lieu_ids": Field("lieux"),
    "export_id": Field("export", limits.SECRET),
    # days, times and instants
    "day": Field("date"),
    "first_day": Field("premier jour"),
    "last_day": Field("dernier jour"),
    "end_day": Field("dernier jour"),
    "from_day": Field("semaine"),
    "today": Field("date du jour"),
    "start_time": Field("heure de début"),
    "end_time": Field("heure de fin"),
    "starts_at": Field("date et heure du rendez-vous"),
    "from_starts_at": Field("date et heure actuelles du rendez-vous"),
    "contact": Field("contact de l'organisation", limits.NOTE),
    "start": Field("début"),
    "before": Field("page précédente"),
    "end": Field("fin"),
    "until": Field("fin du blocage"),
    "expires_at": Field("fin de l'accès"),
    "now": Field("date et heure"),
    # the ANTS hub's slot request (rdv_app.domain.ants.SlotRequest)
    "request": Field("demande de créneaux"),
    "meeting_point_ids": Field("lieux"),
    "reason": Field("titre demandé", limits.CODE),
    "documents_number": Field("nombre de titres"),
    "ants_pre_demande_number": Field("numéro de pré-demande ANTS", limits.CODE),
    "mairie": Field("mairie"),
    "territory": Field("territoire", limits.CODE),
    "external_id": Field("identifiant externe", limits.CODE),
    "external_ids": Field("identifiants externes", limits.CODE),
    # numbers
    "duration_in_min": Field("durée"),
    "default_duration_in_min": Field("durée par défaut"),
    "min_public_booking_delay": Field("délai minimum de réservation"),
    "max_public_booking_delay": Field("délai maximum de réservation"),
    "limit": Field("nombre de résultats"),
    "page": Field("page"),
    "after": Field("dernière modification lue"),
    "lookback": Field("modifications relues"),
    # choices
    "filters": Field("filtres"),
    "export_format": Field("format du fichier", limits.CODE),
    "export_type": Field("type d'export", limits.CODE),
    "confirm_warnings": Field("confirmation"),
    "expected_version": Field("version du formulaire", limits.CODE),
    "accepted_conditions": Field("conditions acceptées"),
    "phone_required": Field("téléphone obligatoire"),
    "address_required": Field("adresse obligatoire"),
    "excused": Field("excusé"),
    "enabled": Field("actif"),
    "include_archived": Field("motifs archivés"),
    "include_expired": Field("éléments passés"),
    "past": Field("période passée"),
    "open_online": Field("ouvert en ligne"),
    "collectif": Field("motif collectif"),
    "max_participants_count": Field("nombre de places"),
    "session": Field("atelier"),
    "weekly_count": Field("nombre de séances"),
    "for_secretariat": Field("ouvert au secrétariat"),
    "follow_up": Field("suivi par le référent"),
    "rdvs_editable_by_user": Field("modifiable par l'usager"),
    "rdvs_cancellable_by_user": Field("annulable par l'usager"),
    "display_saturdays": Field("afficher les samedis"),
    "display_cancelled_rdv": Field("afficher les RDV annulés"),
    "notify": Field("notifications"),
    "single_use_lieu": Field("lieu ponctuel"),
    "notify_by_sms": Field("notifications par SMS"),
    "notify_by_email": Field("notifications par email"),
    "enable_notes_field": Field("remarques"),
    "enable_logement_field": Field("logement"),
    "enable_caisse_affiliation_field": Field("caisse d'affiliation"),
    "enable_affiliation_number_field": Field("numéro d'allocataire"),
    "enable_family_situation_field": Field("situation familiale"),
    "enable_number_of_children_field": Field("nombre d'enfants"),
    "enable_case_number": Field("numéro de dossier"),
    "enable_address_details": Field("complément d'adresse"),
    "territorial_admin": Field("administrateur de territoire"),
    "allow_to_manage_teams": Field("autorisé à gérer les équipes"),
    "allow_to_manage_access_rights": Field("autorisé à gérer les droits d'accès"),
    "allow_to_invite_agents": Field("autorisé à inviter des agents"),
    # forms given whole
    "data": Field("formulaire"),
    "form": Field("fiche usager"),
    "usager": Field("usager"),
    "new_responsible": Field("nouvel usager responsable"),
    "toggles": Field("champs affichés"),
    "placements": Field("organisations"),
    "rights": Field("droits d'accès"),
    "change": Field("modifications"),
    "choices": Field("valeurs à conserver", limits.CODE),
    "choice": Field("motif"),
    "scope": Field("recherche"),
    "access": Field("lien"),
    "proof": Field("lien"),
    "link_hash": Field("lien", limits.SECRET),
    "link_expires_at": Field("fin du lien"),
    "identity": Field("identité FranceConnect"),
    # sectorisation (issue 28)
    "sector_id": Field("secteur"),
    "zone_id": Field("zone"),
    "attribution_id": Field("attribution"),
    "attributed_organisation_id": Field("organisation attributaire"),
    "human_id": Field("identifiant du secteur", limits.CODE),
    "zone_file": Field("fichier des zones"),
    "file_name": Field("nom du fichier", limits.LABEL),
    "street_ban_id": Field("identifiant de la rue", limits.CODE),
    "street_name": Field("rue", limits.LABEL),
    "sector": Field("adresse de l'usager"),
    "by_address": Field("recherche selon l'adresse de l'usager"),
}

_registry: list[Callable[..., Any]] = []


# --------------------------------------------------------------------------- the decorator


@typing.overload
def boundary(function: Callable[P, R], /) -> Callable[P, R]: ...


@typing.overload
def boundary(*, form_fields: Mapping[str, str]) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


def boundary(function: Callable[P, R] | None = None, /, *,
             form_fields: Mapping[str, str] | None = None) -> Any:
    """Checks the arguments of a use case, and turns the database's refusals into InvalidInput.

    `form_fields` renames parameters in the errors, for a form whose fields are named otherwise (a
    relative's "relative_first_name" is the use case's `first_name`)."""
    if function is None:
        return functools.partial(_decorate, form_fields=dict(form_fields or {}))
    return _decorate(function, form_fields={})


def _decorate(function: Callable[P, R], *, form_fields: dict[str, str]) -> Callable[P, R]:
    signature = inspect.signature(function)

    @functools.wraps(function)
    def checked(*args: P.args, **kwargs: P.kwargs) -> R:
        hints = _parameter_hints(function)
        bound = signature.bind(*args, **kwargs)
        for name, value in bound.arguments.items():
            _check(value, hints[name], name, form_fields.get(name, name))
        try:
            return function(*args, **kwargs)
        except (sa.exc.StatementError, sa.exc.NoResultFound) as error:
            if not _refusal(error):
                raise
            _roll_back(bound.arguments.values())
            raise _refused(function, error) from error

    _registry.append(checked)
    return checked


def _roll_back(arguments: Iterable[object]) -> None:
    for argument in arguments:
        if isinstance(argument, UnitOfWork):
            argument.rollback()


def _refusal(error: Exception) -> bool:
    """Whether the database refused what it was sent (rather than being out of reach): a constraint, a
    value out of range or of the wrong type, a value a column's type refused before sending it, a row that
    a query expected and did not find."""
    if isinstance(error, sa.exc.DBAPIError):
        return isinstance(error, _REFUSALS)
    return True


def _refused(function: Callable[..., Any], error: Exception) -> DomainError:
    if isinstance(error, sa.exc.NoResultFound):
        return NotFound()
    cause = getattr(error, "orig", None) or error
    # The class names only: the database's message may quote what the person typed.
    logger.warning("%s.%s: refused by the database (%s)", function.__module__, function.__qualname__,
                   type(cause).__name__)
    return InvalidInput(REFUSED)


# --------------------------------------------------------------------------- checks


@functools.cache
def _parameter_hints(function: Callable[..., Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(function)
    return {name: hints.get(name, Any) for name in inspect.signature(function).parameters}


def _label(name: str) -> str:
    return FIELDS[name].label


def _is_id(name: str) -> bool:
    return name == "id" or name.endswith(("_id", "_ids"))


def _check(value: Any, hint: Any, name: str, field: str) -> None:
    """Raises InvalidInput unless `value` fits `hint`; `name` is the parameter or dataclass field."""
    if hint is Any or hint is UnitOfWork:
        return
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        _check_union(value, typing.get_args(hint), name, field)
        return
    if value is None:
        raise InvalidInput(f"Le champ « {_label(name)} » est obligatoire.", field)
    if origin is not None:
        _check_container(value, origin, typing.get_args(hint), name, field)
    elif hint is bool:
        if not isinstance(value, bool):
            raise InvalidInput(f"Le champ « {_label(name)} » doit valoir oui ou non.", field)
    elif hint is int:
        _check_int(value, name, field)
    elif hint is str:
        _check_text(value, name, field)
    elif hint is datetime:
        _check_instant(value, name, field)
    elif hint is date:
        if not isinstance(value, date) or isinstance(value, datetime):
            raise InvalidInput(f"Le champ « {_label(name)} » doit être une date.", field)
        _check_year(value, name, field)
    elif hint is time:
        if not isinstance(value, time) or value.tzinfo is not None:
            raise InvalidInput(f"Le champ « {_label(name)} » doit être une heure.", field)
    elif isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(value, hint):
            raise InvalidInput(f"Le champ « {_label(name)} » n'est pas valide.", field)
        for member, member_hint in _dataclass_hints(hint).items():
            _check(getattr(value, member), member_hint, member, member)
    elif isinstance(hint, type) and not isinstance(value, hint):
        raise InvalidInput(f"Le champ « {_label(name)} » n'est pas valide.", field)


def _check_union(value: Any, options: tuple[Any, ...], name: str, field: str) -> None:
    if value is None:
        if type(None) not in options:
            raise InvalidInput(f"Le champ « {_label(name)} » est obligatoire.", field)
        return
    refusals = []
    for option in options:
        if option is type(None):
            continue
        try:
            _check(value, option, name, field)
        except InvalidInput as refusal:
            refusals.append(refusal)
        else:
            return
    raise refusals[0]


def _check_container(value: Any, origin: Any, args: tuple[Any, ...], name: str, field: str) -> None:
    if origin in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise InvalidInput(f"Le champ « {_label(name)} » n'est pas valide.", field)
        _check_size(value, name, field)
        key_hint, value_hint = args or (Any, Any)
        for key, item in value.items():
            _check(key, key_hint, name, field)
            _check(item, value_hint, name, field)
        return
    if origin in (list, Sequence):
        accepted: tuple[type[Collection[Any]], ...] = (list, tuple)
    elif origin in (set, frozenset, Set):
        accepted = (set, frozenset)
    elif origin is tuple:
        accepted = (tuple, list)
    elif origin in (Collection, Iterable):
        accepted = (list, tuple, set, frozenset)
    else:
        raise TypeError(f"{name}: no check for {origin!r} at the boundary")
    if not isinstance(value, accepted):
        raise InvalidInput(f"Le champ « {_label(name)} » doit être une liste.", field)
    _check_size(value, name, field)
    if origin is tuple and args and args[-1] is not Ellipsis:
        if len(value) != len(args):
            raise InvalidInput(f"Le champ « {_label(name)} » n'est pas valide.", field)
        for item, item_hint in zip(value, args, strict=True):
            _check(item, item_hint, name, field)
        return
    item_hint = args[0] if args else Any
    for item in value:
        _check(item, item_hint, name, field)


def _check_size(value: Collection[Any], name: str, field: str) -> None:
    if len(value) > MAX_ITEMS:
        raise InvalidInput(f"Le champ « {_label(name)} » contient trop d'éléments : {french_number(MAX_ITEMS)} au plus.",
                           field)


def _check_int(value: Any, name: str, field: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput(f"Le champ « {_label(name)} » doit être un nombre entier.", field)
    if _is_id(name):
        if not 0 < value <= INT_MAX:
            raise InvalidInput(f"Le champ « {_label(name)} » ne désigne aucun élément.", field)
    elif not INT_MIN <= value <= INT_MAX:
        raise InvalidInput(f"Le champ « {_label(name)} » est hors des limites permises.", field)


def _check_text(value: Any, name: str, field: str) -> None:
    if not isinstance(value, str):
        raise InvalidInput(f"Le champ « {_label(name)} » doit être un texte.", field)
    maximum = FIELDS[name].max_length
    assert maximum is not None, f"{name}: a text without a maximum length (check_declarations)"
    if len(value) > maximum:
        raise InvalidInput(f"Le champ « {_label(name)} » est trop long : {french_number(maximum)} caractères au plus.",
                           field)
    if "\x00" in value or _has_lone_surrogate(value):
        raise InvalidInput(f"Le champ « {_label(name)} » contient des caractères non permis.", field)


def _has_lone_surrogate(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _check_instant(value: Any, name: str, field: str) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidInput(f"Le champ « {_label(name)} » doit être une date et une heure, avec son fuseau "
                           "horaire.", field)
    _check_year(value, name, field)


def _check_year(value: date, name: str, field: str) -> None:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise InvalidInput(f"Le champ « {_label(name)} » doit être une date entre {FIRST_YEAR} et {LAST_YEAR}.",
                           field)


@functools.cache
def _dataclass_hints(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


# --------------------------------------------------------------------------- declarations


def decorated() -> tuple[Callable[..., Any], ...]:
    """The use cases decorated so far (those of the modules imported)."""
    return tuple(_registry)


def check_declarations(function: Callable[..., Any]) -> list[str]:
    """What a decorated use case lacks: a label for each parameter and dataclass field, a maximum length
    for each text. Empty when complete."""
    wrapped = inspect.unwrap(function)
    problems: list[str] = []
    for name, hint in _parameter_hints(wrapped).items():
        _declared(hint, name, f"{wrapped.__module__}.{wrapped.__qualname__}", problems)
    return problems


def _declared(hint: Any, name: str, where: str, problems: list[str]) -> None:
    if hint is UnitOfWork:
        return
    if name not in FIELDS:
        problems.append(f"{where}: no label for {name!r}")
        return
    if hint is str and FIELDS[name].max_length is None:
        problems.append(f"{where}: no maximum length for the text {name!r}")
    for argument in typing.get_args(hint):
        if argument is not Ellipsis and argument is not type(None):
            _declared(argument, name, where, problems)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        for member, member_hint in _dataclass_hints(hint).items():
            _declared(member_hint, member, f"{where} ({hint.__name__})", problems)
