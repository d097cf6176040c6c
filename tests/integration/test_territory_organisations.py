"""Territorial admins create the organisations of their territory (issue 17) and land on its first steps,
each done once the organisation has it; nobody else creates one, and a wrong field changes nothing."""

from __future__ import annotations

from datetime import date, time

import factories as make
import pytest
from db_snapshot import refused
from sqlmodel import select

from rdv_app.db.models import AgentRole, AgentTerritorialRole, Organisation
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.enums import AccessLevel
from rdv_app.services.organisation.admin_organisation import (
    OrganisationSettings,
    create_organisation,
    setup_steps,
    territory_organisations,
)


@pytest.fixture
def world(uow: UnitOfWork) -> dict[str, int]:
    s = uow.session
    pas_de_calais = make.territory(s)
    reunion = make.territory(s, "974", "La Réunion", timezone="Indian/Reunion")
    arras = make.organisation(s, pas_de_calais)
    admin = make.agent(s, "camille@exemple.fr", "Camille", "Martin", organisation=arras,
                       role=AccessLevel.ADMIN.value)
    s.add(AgentTerritorialRole(agent_id=admin.id, territory_id=pas_de_calais.id))
    org_admin = make.agent(s, "thomas@exemple.fr", "Thomas", "Dubois", organisation=arras,
                           role=AccessLevel.ADMIN.value)
    uow.commit()
    return {"territory": pas_de_calais.id, "reunion": reunion.id, "arras": arras.id, "admin": admin.id,
            "org_admin": org_admin.id}  # type: ignore[dict-item]


def test_a_territorial_admin_creates_an_organisation_and_follows_its_first_steps(uow: UnitOfWork,
                                                                                  world: dict[str, int]) -> None:
    territories, organisations = territory_organisations(uow, world["admin"])
    assert [(t.label, t.timezone) for t in territories] == [("62 Pas-de-Calais", "Europe/Paris")]
    assert [(o.name, o.territory, o.agents) for o in organisations] == [("PMI Arras", "62 Pas-de-Calais", 2)]

    new_id = create_organisation(uow, world["admin"], world["territory"], OrganisationSettings(
        name="  Maison des Solidarités   de Lens ", phone_number="03 21 13 40 00", email="mds.lens@exemple.fr",
        timezone="Europe/Paris"))
    lens = uow.session.get(Organisation, new_id)
    assert lens is not None
    assert (lens.name, lens.slug, lens.phone_number) == ("Maison des Solidarités de Lens",
                                                         "maison-des-solidarites-de-lens", "03 21 13 40 00")
    assert uow.session.exec(select(AgentRole.access_level).where(
        AgentRole.organisation_id == new_id, AgentRole.agent_id == world["admin"])).one() == AccessLevel.ADMIN.value

    assert [(step.label, step.done) for step in setup_steps(uow, world["admin"], new_id)] == [
        ("Ajouter un lieu de rendez-vous", False), ("Créer un motif", False), ("Inviter des agents", False),
        ("Ouvrir des plages d'ouverture", False)]
    pmi = make.service(uow.session)
    lieu = make.lieu(uow.session, lens)
    motif = make.motif(uow.session, lens, pmi)
    make.agent(uow.session, "julien@exemple.fr", "Julien", "Petit", organisation=lens)
    make.plage(uow.session, world["admin"], lens, lieu, [motif], title="Matin", first_day=date(2030, 1, 7),
               start_time=time(9), end_time=time(12))
    uow.commit()
    assert all(step.done for step in setup_steps(uow, world["admin"], new_id))


def test_the_name_is_unique_in_the_territory_and_other_fields_are_checked(db_url: str, world: dict[str, int]) -> None:
    for data, field, message in (
            (OrganisationSettings(name="pmi arras"), "name", "s'appelle déjà « pmi arras »"),
            (OrganisationSettings(name=" "), "name", "Le nom de l'organisation est obligatoire"),
            (OrganisationSettings(name="MDS Lens", email="mds"), "email", "L'adresse email n'est pas valide"),
            (OrganisationSettings(name="MDS Lens", timezone="Lens/Nord"), "timezone", "fuseau horaire")):
        error = refused(db_url, lambda uow, d=data: create_organisation(uow, world["admin"], world["territory"], d),
                        message)
        assert error.field == field


def test_only_the_territory_admins_create_its_organisations(db_url: str, world: dict[str, int]) -> None:
    data = OrganisationSettings(name="MDS Lens")
    refused(db_url, lambda uow: create_organisation(uow, world["org_admin"], world["territory"], data),
            "réservée aux administrateurs du territoire")
    refused(db_url, lambda uow: create_organisation(uow, world["admin"], world["reunion"], data),
            "réservée aux administrateurs du territoire")
    refused(db_url, lambda uow: territory_organisations(uow, world["org_admin"]),
            "réservée aux administrateurs du territoire")
    refused(db_url, lambda uow: setup_steps(uow, world["org_admin"] + 100, world["arras"]),
            "n'appartenez pas à cette organisation")
