"""An usager's record created and edited by agents (admin-domain.md 1.3, 1.4, 2.1), on SQLite and PostgreSQL:
every rule of the fields, relatives and their responsible, duplicates in the territory, the FranceConnect and
notification locks, the territory's toggles, and refusals that change nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import factories as make
import pytest
from db_snapshot import refused, snapshot
from sqlmodel import col, select

from rdv_app.db.models import (
    AuditLog,
    Organisation,
    OutboxMessage,
    Territory,
    Usager,
    UsagerProfile,
    WebhookEndpoint,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.services.errors import InvalidInput, NotFound, PermissionDenied
from rdv_app.services.usagers import record_settings
from rdv_app.services.usagers.usager_form import (
    CREATED,
    INVITED,
    NOT_MOBILE,
    SAME_EMAIL,
    SAME_IDENTITY,
    SAME_PHONE,
    UPDATED,
    DuplicateWarnings,
    RecordToggles,
    UsagerFields,
    UsagerForm,
    UsagerFormInvalid,
    import_usager,
    responsible_choices,
    save_usager,
    usager_form,
)

ALL_SHOWN = RecordToggles(**dict.fromkeys(
    ("enable_notes_field", "enable_logement_field", "enable_caisse_affiliation_field",
     "enable_affiliation_number_field", "enable_family_situation_field", "enable_number_of_children_field",
     "enable_case_number", "enable_address_details"), True))


def _today() -> date:
    return clock.today("Europe/Paris")


@dataclass
class World:
    territory: int
    org: int
    other_org: int
    far_org: int
    agent: int
    outsider: int
    admin: int
    jeanne: int  # a responsible of the organisation, with a phone and a birth date
    lena: int  # of the other organisation of the territory
    far: int  # of another territory, same phone and identity as the new usagers of the tests


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    s = uow.session
    territory, far_territory = make.territory(s), make.territory(s, "59", "Nord")
    org = make.organisation(s, territory)
    other_org = make.organisation(s, territory, "MDS Lens", "mds-lens")
    far_org = make.organisation(s, far_territory, "PMI Lille", "pmi-lille")
    agent = make.agent(s, "agent@demo.test", "Camille", "Martin", organisation=org)
    outsider = make.agent(s, "outsider@demo.test", "Marc", "Blanc", organisation=other_org)
    admin = make.agent(s, "admin@demo.test", "Anne", "Terre", organisation=org, role="admin")
    make.territorial_admin(s, admin, territory)
    jeanne = make.usager(s, "Jeanne", "Dupont", organisations=[org], birth_date=date(1985, 7, 14),
                         phone_number="06 12 34 56 78", phone_number_formatted="+33612345678",
                         email="jeanne.dupont@example.fr")
    lena = make.usager(s, "Léna", "Marchand", organisations=[other_org], birth_date=date(1990, 3, 1),
                       phone_number="0756123456", phone_number_formatted="+33756123456", email="lena@mail.fr",
                       address="3 rue de Lens")
    far = make.usager(s, "Paul", "Nord", organisations=[far_org], birth_date=date(1970, 1, 2),
                      phone_number="0699887766", phone_number_formatted="+33699887766", email="paul@nord.fr")
    uow.commit()
    return World(territory.id, org.id, other_org.id, far_org.id, agent.id, outsider.id, admin.id, jeanne.id,
                 lena.id, far.id)


def _show_all(uow: UnitOfWork, world: World) -> None:
    record_settings.update_record_settings(uow, world.admin, world.org, ALL_SHOWN)


def _form(**changes: Any) -> UsagerForm:
    return UsagerForm(kind="responsable", usager=UsagerFields(**{"first_name": "Ana", "last_name": "Lopez", **changes}))


def _relative(responsible_id: int | None = None, new_responsible: UsagerFields | None = None,
              **changes: Any) -> UsagerForm:
    fields = {"first_name": "Lina", "last_name": "Lopez", "birth_date": date(2020, 5, 6), **changes}
    return UsagerForm(kind="proche", usager=UsagerFields(**fields), responsible_id=responsible_id,
                      new_responsible=new_responsible)


def _invalid(db_url: str, world: World, form: UsagerForm, usager_id: int | None = None,
             agent: int | None = None) -> dict[str, str]:
    """The field errors of a refused save, which changed nothing."""
    error = refused(db_url, lambda uow: save_usager(uow, agent or world.agent, world.org, usager_id, form),
                    "corrigez les champs")
    assert isinstance(error, UsagerFormInvalid)
    return error.errors


def _endpoint(uow: UnitOfWork, org: int) -> int:
    endpoint = WebhookEndpoint(organisation_id=org, target_url=f"https://hooks.example.fr/{org}", secret="s3cret",
                               subscriptions=["user", "user_profile"])
    uow.session.add(endpoint)
    uow.commit()
    assert endpoint.id is not None
    return endpoint.id


def _webhooks(uow: UnitOfWork, endpoint_id: int) -> list[tuple[str, str, int]]:
    uow.rollback()
    rows = uow.session.exec(select(OutboxMessage).where(OutboxMessage.webhook_endpoint_id == endpoint_id)
                            .order_by(col(OutboxMessage.id))).all()
    bodies = [json.loads(row.payload["body"]) for row in rows]
    return [(b["meta"]["model"], b["meta"]["event"], b["data"]["id"]) for b in bodies]


def _profiles(uow: UnitOfWork, usager_id: int) -> set[int]:
    uow.rollback()
    return set(uow.session.exec(select(UsagerProfile.organisation_id).where(UsagerProfile.usager_id == usager_id)))


# --------------------------------------------------------------------------- creating a responsible


def test_create_a_responsible_with_every_field(uow: UnitOfWork, world: World) -> None:
    _show_all(uow, world)
    endpoint = _endpoint(uow, world.org)
    saved = save_usager(uow, world.agent, world.org, None, _form(
        first_name="  Ana  Maria ", last_name=" Lopez ", birth_name="Garcia", birth_date=date(1992, 2, 29),
        email=" Ana.Lopez.@Example..fr ", phone_number="0692 12 34 56", address="1 rue de la Paix, 62000 Arras",
        post_code="62000", city_code="62041", city_name="Arras", address_details="Bâtiment B",
        case_number="D-42", notes="Préfère le matin.\nParle espagnol.", caisse_affiliation="msa",
        affiliation_number="1234567", family_situation="in_a_relationship", number_of_children="2",
        logement="locataire", notify_by_sms=False))
    assert saved.message == CREATED
    usager = uow.session.get(Usager, saved.usager_id)
    assert usager is not None
    assert (usager.first_name, usager.last_name, usager.birth_name) == ("Ana Maria", "Lopez", "Garcia")
    assert usager.email == "ana.lopez@example.fr"  # ".@" and ".." corrected
    assert (usager.phone_number, usager.phone_number_formatted) == ("0692 12 34 56", "+262692123456")
    assert (usager.post_code, usager.city_code, usager.city_name) == ("62000", "62041", "Arras")
    assert (usager.caisse_affiliation, usager.affiliation_number, usager.family_situation) == (
        "msa", "1234567", "in_a_relationship")
    assert (usager.number_of_children, usager.logement, usager.case_number) == (2, "locataire", "D-42")
    assert usager.notes == "Préfère le matin.\nParle espagnol."
    assert (usager.notify_by_sms, usager.notify_by_email, usager.created_through) == (False, True, "agent_creation")
    assert _profiles(uow, saved.usager_id) == {world.org}
    profile = uow.session.exec(select(UsagerProfile.id).where(UsagerProfile.usager_id == saved.usager_id)).one()
    assert _webhooks(uow, endpoint) == [("User", "created", saved.usager_id), ("UserProfile", "created", profile)]
    user = json.loads(uow.session.exec(select(OutboxMessage).where(OutboxMessage.webhook_endpoint_id == endpoint)
                                       .order_by(col(OutboxMessage.id))).first().payload["body"])  # type: ignore[union-attr]
    assert (user["data"]["logement"], user["data"]["post_code"]) == ("locataire", "62000")
    audit = uow.session.exec(select(AuditLog).where(AuditLog.entity_type == "usager")).one()
    assert (audit.action, audit.entity_id, audit.actor_agent_id) == ("created", str(saved.usager_id), world.agent)


def test_a_new_responsible_can_be_invited_with_its_creation(uow: UnitOfWork, world: World) -> None:
    saved = save_usager(uow, world.agent, world.org, None, UsagerForm(
        kind="responsable", usager=UsagerFields(first_name="Ana", last_name="Lopez", email="ana.lopez@exemple.fr"),
        invite=True))
    assert saved.message == CREATED + INVITED
    uow.rollback()
    mails = [row.payload for row in uow.session.exec(select(OutboxMessage).where(OutboxMessage.channel == "mail"))]
    assert [m["to"] for m in mails] == ["ana.lopez@exemple.fr"]
    assert mails[0]["subject"] == "Vous avez été invité sur RDV Services Publics"
    assert "Accepter l'invitation" in mails[0]["text"]
    actions = uow.session.exec(select(AuditLog.action).where(AuditLog.entity_type == "usager",
                                                             AuditLog.entity_id == str(saved.usager_id))).all()
    assert sorted(actions) == ["created", "invited"]


def test_an_invitation_without_an_email_is_refused_and_nothing_is_created(db_url: str, world: World) -> None:
    form = UsagerForm(kind="responsable", usager=UsagerFields(first_name="Ana", last_name="Lopez"), invite=True)
    assert _invalid(db_url, world, form) == {"email": "Renseignez l'email de l'usager pour l'inviter à créer son "
                                                      "compte."}


def test_a_landline_is_saved_and_the_agent_told_it_takes_no_sms(uow: UnitOfWork, world: World) -> None:
    saved = save_usager(uow, world.agent, world.org, None, _form(phone_number="03 21 00 00 00"))
    assert saved.message == CREATED + NOT_MOBILE
    assert uow.session.get(Usager, saved.usager_id).phone_number_formatted == "+33321000000"  # type: ignore[union-attr]


@pytest.mark.parametrize(("changes", "errors"), [
    ({"first_name": "  ", "last_name": ""}, {"first_name": "Le prénom est obligatoire.",
                                              "last_name": "Le nom d'usage est obligatoire."}),
    ({"email": "pas-un-email"}, {"email": "L'adresse email n'est pas valide (exemple : prenom.nom@exemple.fr)."}),
    ({"email": "ana@exemple"}, {"email": "L'adresse email n'est pas valide (exemple : prenom.nom@exemple.fr)."}),
    ({"phone_number": "12345"}, {"phone_number": "Le numéro de téléphone n'est pas valide (numéro français ou "
                                                 "d'outre-mer)."}),
    ({"phone_number": "+44 20 7946 0958"}, {"phone_number": "Le numéro de téléphone n'est pas valide (numéro "
                                                            "français ou d'outre-mer)."}),
    ({"number_of_children": "-1"}, {"number_of_children": "Le nombre d'enfants doit être un nombre entier, 0 ou plus."}),
    ({"number_of_children": "deux"}, {"number_of_children": "Le nombre d'enfants doit être un nombre entier, 0 ou "
                                                            "plus."}),
    ({"logement": "chateau", "caisse_affiliation": "cpam"}, {"logement": "Choisissez une valeur de la liste.",
                                                             "caisse_affiliation": "Choisissez une valeur de la liste."}),
])
def test_each_bad_field_gets_its_message_and_nothing_changes(db_url: str, uow: UnitOfWork, world: World,
                                                              changes: dict[str, Any], errors: dict[str, str]) -> None:
    _show_all(uow, world)
    assert _invalid(db_url, world, _form(**changes)) == errors


def test_birth_dates_in_the_future_or_more_than_130_years_ago_are_refused(db_url: str, world: World) -> None:
    today = _today()
    assert _invalid(db_url, world, _form(birth_date=today + timedelta(days=1))) == {
        "birth_date": "La date de naissance ne peut pas être dans le futur."}
    assert _invalid(db_url, world, _form(birth_date=date(today.year - 131, 1, 1))) == {
        "birth_date": "La date de naissance ne peut pas remonter à plus de 130 ans."}
    with UnitOfWork(db_url) as uow:
        assert save_usager(uow, world.agent, world.org, None, _form(birth_date=today)).message == CREATED


def test_overseas_numbers_are_read_in_every_drom(uow: UnitOfWork, world: World) -> None:
    numbers = {"0690 12 34 56": "+590690123456", "0694 12 34 56": "+594694123456", "0696 12 34 56": "+596696123456",
               "0639 40 12 34": "+262639401234", "+33 6 12 34 56 79": "+33612345679"}
    for typed, e164 in numbers.items():
        saved = save_usager(uow, world.agent, world.org, None, _form(phone_number=typed))
        assert uow.session.get(Usager, saved.usager_id).phone_number_formatted == e164  # type: ignore[union-attr]


# --------------------------------------------------------------------------- relatives


def test_a_relative_with_an_existing_responsible_joins_its_organisations(uow: UnitOfWork, world: World) -> None:
    s = uow.session
    s.add(UsagerProfile(organisation_id=world.other_org, usager_id=world.jeanne))
    uow.commit()
    saved = save_usager(uow, world.agent, world.org, None, _relative(world.jeanne, email="ignored@example.fr",
                                                                    phone_number="0611111111"))
    lina = uow.session.get(Usager, saved.usager_id)
    assert lina is not None
    assert (lina.responsible_id, lina.email, lina.phone_number) == (world.jeanne, None, None)  # its own fields only
    assert _profiles(uow, saved.usager_id) == {world.org, world.other_org}


def test_a_relative_and_its_new_responsible_in_one_submit(uow: UnitOfWork, world: World) -> None:
    endpoint = _endpoint(uow, world.org)
    new = UsagerFields(first_name="Marc", last_name="Lopez", email="marc.lopez@example.fr", phone_number="0611223344")
    saved = save_usager(uow, world.agent, world.org, None, _relative(new_responsible=new))
    lina = uow.session.get(Usager, saved.usager_id)
    assert lina is not None and lina.responsible_id is not None
    marc = uow.session.get(Usager, lina.responsible_id)
    assert marc is not None
    assert (marc.first_name, marc.email, marc.phone_number_formatted, marc.created_through) == (
        "Marc", "marc.lopez@example.fr", "+33611223344", "agent_creation")
    assert _profiles(uow, marc.id) == _profiles(uow, saved.usager_id) == {world.org}  # type: ignore[arg-type]
    assert [(model, event) for model, event, _ in _webhooks(uow, endpoint)] == [
        ("User", "created"), ("UserProfile", "created"), ("User", "created"), ("UserProfile", "created")]


def test_nothing_is_created_when_the_new_responsible_is_invalid(db_url: str, world: World) -> None:
    new = UsagerFields(first_name="Marc", last_name="", email="marc@", phone_number="0611223344")
    assert _invalid(db_url, world, _relative(new_responsible=new, first_name="")) == {
        "first_name": "Le prénom est obligatoire.",
        "responsible_last_name": "Le nom d'usage est obligatoire.",
        "responsible_email": "L'adresse email n'est pas valide (exemple : prenom.nom@exemple.fr).",
    }


def test_a_relatives_responsible_is_checked_on_the_server(db_url: str, uow: UnitOfWork, world: World) -> None:
    lina = save_usager(uow, world.agent, world.org, None, _relative(world.jeanne)).usager_id
    choose = "Choisissez l'usager responsable parmi les usagers de votre organisation."
    assert _invalid(db_url, world, _relative()) == {
        "responsible_id": "Choisissez l'usager responsable, ou créez-le dans l'onglet « Nouvel usager »."}
    for forged in (world.lena, world.far, 999_999):  # another organisation, another territory, nobody
        assert _invalid(db_url, world, _relative(forged)) == {"responsible_id": choose}
    assert _invalid(db_url, world, _relative(lina, first_name="Tom")) == {
        "responsible_id": "Cet usager est lui-même un proche : choisissez son responsable."}
    assert _invalid(db_url, world, _relative(lina), usager_id=lina) == {
        "responsible_id": "L'usager ne peut pas être son propre responsable."}


def test_the_kind_of_usager_is_fixed_once_saved(db_url: str, uow: UnitOfWork, world: World) -> None:
    assert _invalid(db_url, world, _relative(world.jeanne, first_name="Jeanne", last_name="Dupont"),
                    usager_id=world.jeanne) == {
        "kind": "Le type d'usager ne peut plus être modifié une fois l'usager enregistré."}


def test_responsible_choices_are_the_organisations_responsibles(uow: UnitOfWork, world: World) -> None:
    lina = save_usager(uow, world.agent, world.org, None, _relative(world.jeanne, last_name="Dupont")).usager_id
    names = [c.name for c in responsible_choices(uow, world.agent, world.org, "dupont")]
    assert names == ["DUPONT Jeanne - 14/07/1985"]  # not the relative Lina, nor Léna of another organisation
    assert responsible_choices(uow, world.agent, world.org, "dupont", world.jeanne) == []
    assert lina not in [c.id for c in responsible_choices(uow, world.agent, world.org, "lina")]


# --------------------------------------------------------------------------- duplicates in the territory


def test_the_same_email_blocks_and_shows_the_usager(db_url: str, world: World) -> None:
    error = refused(db_url, lambda uow: save_usager(uow, world.agent, world.org, None,
                                                    _form(email="JEANNE.dupont@example.fr")), "corrigez")
    assert isinstance(error, UsagerFormInvalid)
    assert error.errors == {"email": SAME_EMAIL}
    [match] = error.duplicates
    assert (match.usager_id, match.name, match.in_organisation, match.phone_number) == (
        world.jeanne, "DUPONT Jeanne", True, "06 12 34 56 78")


def test_the_same_email_elsewhere_in_the_territory_can_be_imported(db_url: str, uow: UnitOfWork,
                                                                   world: World) -> None:
    error = refused(db_url, lambda uow: save_usager(uow, world.agent, world.org, None, _form(email="lena@mail.fr")),
                    "corrigez")
    assert isinstance(error, UsagerFormInvalid)
    [match] = error.duplicates
    # Masked: an usager of another organisation.
    assert (match.usager_id, match.name, match.birth_date, match.email, match.phone_number, match.address) == (
        world.lena, "MARCHAND Léna", "01/03/****", "l******a@mail.fr", "07******56", "")
    assert not match.in_organisation
    child = make.usager(uow.session, "Tim", "Marchand", organisations=[uow.session.get(Organisation, world.other_org)],
                        responsible_id=world.lena)
    uow.commit()
    assert import_usager(uow, world.agent, world.org, world.lena) == world.lena
    assert world.org in _profiles(uow, world.lena) and world.org in _profiles(uow, child.id)  # type: ignore[arg-type]


def test_an_email_of_another_territory_blocks_without_showing_anyone(db_url: str, world: World) -> None:
    error = refused(db_url, lambda uow: save_usager(uow, world.agent, world.org, None, _form(email="paul@nord.fr")),
                    "corrigez")
    assert isinstance(error, UsagerFormInvalid)
    assert error.errors == {"email": SAME_EMAIL}
    assert [(d.usager_id, d.name, d.email) for d in error.duplicates] == [(None, "", "")]


def test_the_same_phone_or_identity_warns_then_saves_once_confirmed(db_url: str, world: World) -> None:
    form = _form(first_name="JEANNE", last_name="Dupônt", birth_date=date(1985, 7, 14), phone_number="+33612345678")
    warned = refused(db_url, lambda uow: save_usager(uow, world.agent, world.org, None, form), "même")
    assert isinstance(warned, DuplicateWarnings)
    assert [(d.key, d.message, d.usager_id, d.in_organisation) for d in warned.duplicates] == [
        ("phone_number", SAME_PHONE, world.jeanne, True), ("identity", SAME_IDENTITY, world.jeanne, True)]
    with UnitOfWork(db_url) as uow:
        saved = save_usager(uow, world.agent, world.org, None, form, confirm_warnings=True)
        assert uow.session.get(Usager, saved.usager_id) is not None


def test_another_territory_never_matches(uow: UnitOfWork, world: World) -> None:
    # Paul of the Nord has this phone and this identity: nothing to warn about in the Pas-de-Calais.
    form = _form(first_name="Paul", last_name="Nord", birth_date=date(1970, 1, 2), phone_number="06 99 88 77 66")
    assert save_usager(uow, world.agent, world.org, None, form).message == CREATED


def test_a_closed_territory_keeps_its_organisations_apart(db_url: str, uow: UnitOfWork, world: World) -> None:
    territory = uow.session.get(Territory, world.territory)
    assert territory is not None
    territory.name = "Mairies"
    uow.commit()
    form = _form(first_name="Léna", last_name="Marchand", birth_date=date(1990, 3, 1), phone_number="0756123456")
    assert save_usager(uow, world.agent, world.org, None, form).message == CREATED
    with pytest.raises(PermissionDenied):
        import_usager(uow, world.agent, world.org, world.lena)


def test_editing_warns_only_when_the_matching_attribute_changed(db_url: str, uow: UnitOfWork, world: World) -> None:
    twin = save_usager(uow, world.agent, world.org, None, _form(phone_number="06 12 34 56 78"),
                       confirm_warnings=True).usager_id
    # Its phone is Jeanne's, but this save does not change it: no warning.
    kept = _form(first_name="Ana", last_name="Lopez-Diaz", phone_number="+33 6 12 34 56 78")
    assert save_usager(uow, world.agent, world.org, twin, kept).message == UPDATED
    # The birth date makes it Jeanne's identity: a warning now.
    same = _form(first_name="Jeanne", last_name="Dupont", birth_date=date(1985, 7, 14), phone_number="0612345678")
    warned = refused(db_url, lambda uow: save_usager(uow, world.agent, world.org, twin, same), "même")
    assert [d.key for d in warned.duplicates] == ["identity"]  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- editing


def test_edit_updates_audits_and_sends_the_user_webhook(uow: UnitOfWork, world: World) -> None:
    endpoint = _endpoint(uow, world.org)
    form = _form(first_name="Jeanne", last_name="Martin", birth_date=date(1985, 7, 14),
                 email="jeanne.dupont@example.fr", phone_number="06 12 34 56 78")
    assert save_usager(uow, world.agent, world.org, world.jeanne, form).message == UPDATED
    assert uow.session.get(Usager, world.jeanne).last_name == "Martin"  # type: ignore[union-attr]
    assert _webhooks(uow, endpoint) == [("User", "updated", world.jeanne)]
    audit = uow.session.exec(select(AuditLog).where(AuditLog.entity_type == "usager")).one()
    assert (audit.action, audit.changes) == ("updated", {"last_name": ["Dupont", "Martin"]})
    # Saving again the same values changes nothing and tells nobody.
    save_usager(uow, world.agent, world.org, world.jeanne, form)
    assert len(_webhooks(uow, endpoint)) == 1


def test_franceconnect_fields_cannot_change(db_url: str, uow: UnitOfWork, world: World) -> None:
    jeanne = uow.session.get(Usager, world.jeanne)
    assert jeanne is not None
    jeanne.logged_once_with_franceconnect = True
    uow.commit()
    certified = "Cette information est certifiée par FranceConnect et ne peut pas être modifiée."
    form = _form(first_name="Jeanne-Marie", last_name="Dupont", birth_name="Durand", birth_date=date(1985, 7, 15),
                 email="jeanne.dupont@example.fr", phone_number="06 12 34 56 78")
    assert _invalid(db_url, world, form, world.jeanne) == {"first_name": certified, "birth_name": certified,
                                                           "birth_date": certified}
    view = usager_form(uow, world.agent, world.org, world.jeanne)
    assert view.franceconnect and view.notifications_locked
    # The other fields stay editable.
    ok = replace(form, usager=replace(form.usager, first_name="Jeanne", birth_name="", birth_date=date(1985, 7, 14),
                                      last_name="Dupont-Leroy"))
    assert save_usager(uow, world.agent, world.org, world.jeanne, ok).message == UPDATED


def test_notification_preferences_are_the_usagers_once_their_account_is_confirmed(db_url: str, uow: UnitOfWork,
                                                                                  world: World) -> None:
    base = _form(first_name="Jeanne", last_name="Dupont", birth_date=date(1985, 7, 14),
                 email="jeanne.dupont@example.fr", phone_number="06 12 34 56 78", notify_by_sms=False)
    assert usager_form(uow, world.agent, world.org, world.jeanne).notifications_locked is False
    save_usager(uow, world.agent, world.org, world.jeanne, base)
    jeanne = uow.session.get(Usager, world.jeanne)
    assert jeanne is not None and jeanne.notify_by_sms is False
    jeanne.email_verified_at = clock.now()
    uow.commit()
    locked = "L'usager ayant validé son compte, vous ne pouvez plus modifier ses préférences."
    again = replace(base, usager=replace(base.usager, notify_by_sms=True, notify_by_email=False))
    assert _invalid(db_url, world, again, world.jeanne) == {"notify_by_sms": locked, "notify_by_email": locked}


def test_hidden_fields_are_neither_shown_nor_changed_nor_deleted(uow: UnitOfWork, world: World) -> None:
    _show_all(uow, world)
    saved = save_usager(uow, world.agent, world.org, None, _form(notes="Suivi PMI", logement="heberge",
                                                                 number_of_children="3", case_number="A1"))
    record_settings.update_record_settings(uow, world.admin, world.org, RecordToggles())
    view = usager_form(uow, world.agent, world.org, saved.usager_id)
    assert (view.values.notes, view.values.logement, view.values.number_of_children) == ("", "", "")
    # A save with hidden fields (even forged with values) keeps what is stored.
    save_usager(uow, world.agent, world.org, saved.usager_id, _form(last_name="Lopez-Diaz", notes="", logement="sdf",
                                                                   number_of_children="9"))
    usager = uow.session.get(Usager, saved.usager_id)
    assert usager is not None
    assert (usager.last_name, usager.notes, usager.logement, usager.number_of_children, usager.case_number) == (
        "Lopez-Diaz", "Suivi PMI", "heberge", 3, "A1")
    _show_all(uow, world)
    assert usager_form(uow, world.agent, world.org, saved.usager_id).values.notes == "Suivi PMI"


# --------------------------------------------------------------------------- rights


def test_an_agent_of_another_organisation_changes_nothing(db_url: str, world: World) -> None:
    for call in (lambda uow: save_usager(uow, world.outsider, world.org, None, _form()),
                 lambda uow: save_usager(uow, world.outsider, world.other_org, world.jeanne, _form()),
                 lambda uow: usager_form(uow, world.outsider, world.other_org, world.jeanne),
                 lambda uow: import_usager(uow, world.agent, world.org, world.far)):
        refused(db_url, call, "pas accessible|pas suivi|n'appartenez pas")


def test_a_forged_usager_id_is_not_found(db_url: str, world: World) -> None:
    error = refused(db_url, lambda uow: save_usager(uow, world.agent, world.org, 999_999, _form()), "n'existe pas")
    assert isinstance(error, NotFound)
    # Léna of the other organisation is not edited from here (import her first).
    refused(db_url, lambda uow: save_usager(uow, world.agent, world.org, world.lena, _form()), "pas suivi")


def test_only_territorial_admins_set_the_record_fields(db_url: str, uow: UnitOfWork, world: World) -> None:
    refused(db_url, lambda uow: record_settings.update_record_settings(uow, world.agent, world.org, ALL_SHOWN),
            "administrateurs du territoire")
    before = snapshot(db_url)
    settings = record_settings.update_record_settings(uow, world.admin, world.org,
                                                      RecordToggles(enable_logement_field=True))
    assert settings.toggles == RecordToggles(enable_logement_field=True)
    assert settings.territory_name == "Pas-de-Calais (62)"
    assert snapshot(db_url) != before
    audit = uow.session.exec(select(AuditLog).where(AuditLog.entity_type == "territory")).one()
    assert (audit.action, audit.changes) == ("usager_fields_updated", {"enable_logement_field": [False, True]})


def test_too_long_a_value_is_refused_at_the_boundary_naming_its_field(db_url: str, world: World) -> None:
    error = refused(db_url, lambda uow: save_usager(uow, world.agent, world.org, None, _form(notes="x" * 2001)),
                    "remarques")
    assert (type(error), error.field) == (InvalidInput, "notes")
