"""The super admins' back office (issue 17): services of a territory, its SMS settings (secrets sealed, never
shown back), moving an agent between organisations, the search across the instance; anyone else, or a
blocked change, changes nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta

import factories as make
import pytest
from db_snapshot import refused
from sqlmodel import select

from rdv_app.db.models import (
    AgentRole,
    AgentTerritorialAccessRight,
    AgentTerritorialRole,
    AuditLog,
    Organisation,
    PlageOuverture,
    Rdv,
    RdvAgent,
    Service,
    Territory,
    TerritoryService,
)
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.enums import AccessLevel, RdvStatus
from rdv_app.notify.sms import OvhSettings
from rdv_app.notify.territory_sms import ovh_account_settings
from rdv_app.services.instance.backoffice import (
    SMS_INSTANCE,
    SMS_OVH,
    SmsChange,
    move_agent,
    move_choices,
    save_sms_settings,
    search,
    set_territory_service,
    sms_settings,
    territory_services,
)

BASIC, ADMIN = AccessLevel.BASIC.value, AccessLevel.ADMIN.value
OVH = SmsChange(provider=SMS_OVH, sender="RdvSoli", endpoint="ovh-eu", service_name="sms-ab12345-1",
                application_key="ak-1234", application_secret="as-secret-5678", consumer_key="ck-secret-9012")


@dataclass(frozen=True)
class World:
    super_admin: int
    territorial_admin: int
    paris: int  # territory 62
    reunion: int  # territory 974
    arras: int
    lens: int
    saint_denis: int
    pmi: int
    social: int
    mairie: int
    julien: int  # basic PMI agent of PMI Arras, with a plage there
    camille: int  # the only admin of PMI Arras
    lieu: int
    motif: int


@pytest.fixture
def world(db_url: str) -> World:
    with UnitOfWork(db_url) as uow:
        s = uow.session
        paris, reunion = make.territory(s), make.territory(s, "974", "La Réunion", timezone="Indian/Reunion")
        pmi, social, mairie = (make.service(s), make.service(s, "Service social", "SOCIAL"),
                               make.service(s, "Mairie", "Mairie"))
        s.add_all([TerritoryService(territory_id=paris.id, service_id=pmi.id),  # type: ignore[arg-type]
                   TerritoryService(territory_id=paris.id, service_id=social.id),  # type: ignore[arg-type]
                   TerritoryService(territory_id=reunion.id, service_id=pmi.id)])  # type: ignore[arg-type]
        arras = make.organisation(s, paris)
        lens = make.organisation(s, paris, "MDS Lens", "mds-lens")
        saint_denis = make.organisation(s, reunion, "PMI Saint-Denis", "pmi-saint-denis")
        root = make.agent(s, "root@exemple.fr", "Aline", "Roche", super_admin=True)
        camille = make.agent(s, "camille@exemple.fr", "Camille", "Martin", organisation=arras, role=ADMIN,
                             services=[pmi])
        julien = make.agent(s, "julien@exemple.fr", "Julien", "Petit", organisation=arras, services=[pmi])
        lieu = make.lieu(s, arras)
        motif = make.motif(s, arras, pmi)
        make.plage(s, julien, arras, lieu, [motif], title="Consultations", first_day=clock.today("Europe/Paris"),
                   start_time=time(9), end_time=time(12))
        s.add(AgentTerritorialRole(agent_id=camille.id, territory_id=paris.id))  # type: ignore[arg-type]
        uow.commit()
        return World(root.id, camille.id, paris.id, reunion.id, arras.id, lens.id, saint_denis.id,  # type: ignore[arg-type]
                     pmi.id, social.id, mairie.id, julien.id, camille.id, lieu.id, motif.id)  # type: ignore[arg-type]


def test_a_super_admin_enables_and_disables_services_of_a_territory(db_url: str, world: World) -> None:
    with UnitOfWork(db_url) as uow:
        rows = {r.short_name: (r.enabled, r.agents) for r in territory_services(uow, world.super_admin, world.paris)}
        assert rows == {"Mairie": (False, 0), "PMI": (True, 2), "SOCIAL": (True, 0)}
        assert set_territory_service(uow, world.super_admin, world.paris, world.mairie, True) == \
            "Le service Mairie est activé dans le territoire Pas-de-Calais."
        assert set_territory_service(uow, world.super_admin, world.paris, world.social, False) == \
            "Le service Service social est désactivé dans le territoire Pas-de-Calais."
        enabled = set(uow.session.exec(select(TerritoryService.service_id)
                                       .where(TerritoryService.territory_id == world.paris)))
        assert enabled == {world.pmi, world.mairie}
        assert {"enable_service", "disable_service"} <= {row.action for row in uow.session.exec(select(AuditLog))}
    # A service in use by an agent of the territory stays.
    refused(db_url, lambda uow: set_territory_service(uow, world.super_admin, world.paris, world.pmi, False),
            "Le service Protection maternelle et infantile ne peut pas être désactivé : 2 agent\\(s\\) du territoire "
            "Pas-de-Calais l'utilisent")


def test_sms_settings_keep_their_secrets_sealed_and_never_show_them(db_url: str, world: World) -> None:
    with UnitOfWork(db_url) as uow:
        assert sms_settings(uow, world.super_admin, world.paris).provider == SMS_INSTANCE
        assert save_sms_settings(uow, world.super_admin, world.paris, OVH) == \
            "Les réglages SMS du territoire Pas-de-Calais sont enregistrés."
        shown = sms_settings(uow, world.super_admin, world.paris)
        assert (shown.provider, shown.sender, shown.service_name) == (SMS_OVH, "RdvSoli", "sms-ab12345-1")
        assert shown.configured == {"application_key", "application_secret", "consumer_key"}
        assert "as-secret-5678" not in repr(shown) and "ck-secret-9012" not in repr(shown)
        territory = uow.session.get(Territory, world.paris)
        assert territory is not None and territory.sms_configuration
        assert "as-secret-5678" not in territory.sms_configuration
        # Saved again with the secrets left empty: they are kept.
        save_sms_settings(uow, world.super_admin, world.paris,
                          SmsChange(provider=SMS_OVH, sender="RdvSoli", service_name="sms-ab12345-2"))
        uow.session.refresh(territory)
        assert ovh_account_settings(territory.sms_configuration, territory.sms_sender) == OvhSettings(
            endpoint="ovh-eu", service_name="sms-ab12345-2", application_key="ak-1234",
            application_secret="as-secret-5678", consumer_key="ck-secret-9012", sender="RdvSoli")
        audits = [row.changes for row in uow.session.exec(select(AuditLog).where(AuditLog.action == "sms_settings"))]
        assert audits and all("as-secret-5678" not in str(changes) for changes in audits)
        save_sms_settings(uow, world.super_admin, world.paris, SmsChange(provider=SMS_INSTANCE))
        uow.session.refresh(territory)
        assert (territory.has_own_sms_provider, territory.sms_configuration) == (False, None)
    for change, match in ((SmsChange(provider=SMS_OVH, service_name="sms-ab12345-1"), "la clé d'application"),
                          (SmsChange(provider=SMS_OVH, service_name="mon-service"), "sms-ab12345-1"),
                          (SmsChange(provider=SMS_INSTANCE, sender="RDV Solidarités 62"), "3 à 11 caractères"),
                          (SmsChange(provider="sfr"), "fournisseur")):
        refused(db_url, lambda uow, change=change: save_sms_settings(uow, world.super_admin, world.paris, change),
                match)


def test_sms_settings_changed_since_the_form_loaded_them_are_not_overwritten(db_url: str, world: World) -> None:
    with UnitOfWork(db_url) as uow:
        loaded = sms_settings(uow, world.super_admin, world.paris).version
        # Another super admin switches the territory to its own OVH account meanwhile.
        save_sms_settings(uow, world.super_admin, world.paris, OVH, loaded)
    refused(db_url, lambda uow: save_sms_settings(uow, world.super_admin, world.paris,
                                                  SmsChange(provider=SMS_INSTANCE), loaded),
            "modifiées entre-temps")
    with UnitOfWork(db_url) as uow:
        now = sms_settings(uow, world.super_admin, world.paris)
        assert now.provider == SMS_OVH
        assert save_sms_settings(uow, world.super_admin, world.paris, SmsChange(provider=SMS_INSTANCE),
                                 now.version) == "Les réglages SMS du territoire Pas-de-Calais sont enregistrés."


def test_a_super_admin_moves_an_agent_to_an_organisation_of_another_territory(db_url: str, world: World) -> None:
    with UnitOfWork(db_url) as uow:
        choices = move_choices(uow, world.super_admin, world.julien)
        assert [c.label for c in choices.sources] == ["PMI Arras (62 Pas-de-Calais)"]
        assert [c.label for c in choices.targets] == ["MDS Lens (62 Pas-de-Calais)", "PMI Saint-Denis (974 La Réunion)"]
        assert move_agent(uow, world.super_admin, world.julien, world.arras, world.saint_denis) == \
            "L'agent Julien Petit a été déplacé de PMI Arras vers PMI Saint-Denis."
        [role] = uow.session.exec(select(AgentRole).where(AgentRole.agent_id == world.julien)).all()
        assert (role.organisation_id, role.access_level) == (world.saint_denis, BASIC)
        assert uow.session.exec(select(PlageOuverture).where(PlageOuverture.agent_id == world.julien)).all() == []
        assert uow.session.exec(select(AgentTerritorialAccessRight).where(
            AgentTerritorialAccessRight.agent_id == world.julien,
            AgentTerritorialAccessRight.territory_id == world.reunion)).one()
        assert "move_agent" in {row.action for row in uow.session.exec(select(AuditLog))}


def _rdv(db_url: str, world: World, agent_id: int, starts_in: timedelta, status: RdvStatus) -> None:
    with UnitOfWork(db_url) as uow:
        starts = clock.now() + starts_in
        rdv = Rdv(organisation_id=world.arras, motif_id=world.motif, lieu_id=world.lieu, starts_at=starts,
                  ends_at=starts + timedelta(minutes=30), status=status.value)
        uow.session.add(rdv)
        uow.session.flush()
        uow.session.add(RdvAgent(rdv_id=rdv.id, agent_id=agent_id))  # type: ignore[arg-type]
        uow.commit()


def test_moving_an_agent_is_blocked_by_rdvs_to_come_and_other_rules(db_url: str, world: World) -> None:
    _rdv(db_url, world, world.julien, timedelta(days=-3), RdvStatus.SEEN)  # the past does not block
    _rdv(db_url, world, world.julien, timedelta(days=2), RdvStatus.UNKNOWN)
    refused(db_url, lambda uow: move_agent(uow, world.super_admin, world.julien, world.arras, world.lens),
            "Impossible de déplacer l'agent Julien Petit : il a des RDV à venir dans PMI Arras")
    refused(db_url, lambda uow: move_agent(uow, world.super_admin, world.camille, world.arras, world.lens),
            "PMI Arras doit garder au moins un administrateur")
    refused(db_url, lambda uow: move_agent(uow, world.super_admin, world.julien, world.lens, world.saint_denis),
            "ne fait pas partie de MDS Lens")
    with UnitOfWork(db_url) as uow:
        lens = uow.session.get(Organisation, world.lens)
        social = uow.session.get(Service, world.social)
        assert lens is not None and social is not None
        karim = make.agent(uow.session, "karim@exemple.fr", "Karim", "Haddad", organisation=lens, services=[social])
        uow.commit()
        karim_id = karim.id
    assert karim_id is not None
    refused(db_url, lambda uow: move_agent(uow, world.super_admin, karim_id, world.lens, world.saint_denis),
            "n'offre pas le service Service social")
    refused(db_url, lambda uow: move_agent(uow, world.super_admin, karim_id, world.lens, world.lens),
            "fait déjà partie de MDS Lens")


def test_the_search_finds_agents_and_organisations_across_the_instance(db_url: str, world: World) -> None:
    with UnitOfWork(db_url) as uow:
        found = search(uow, world.super_admin, "julien")
        assert [(a.name, a.email, a.organisations) for a in found.agents] == [
            ("Julien Petit", "julien@exemple.fr", "PMI Arras")]
        found = search(uow, world.super_admin, "pmi")
        assert [(o.name, o.territory, o.agents) for o in found.organisations] == [
            ("PMI Arras", "62 Pas-de-Calais", 2), ("PMI Saint-Denis", "974 La Réunion", 0)]
        assert search(uow, world.super_admin, "p") == search(uow, world.super_admin, "  ")
        assert search(uow, world.super_admin, "réunion").organisations[0].name == "PMI Saint-Denis"


def test_only_super_admins_use_the_back_office(db_url: str, world: World) -> None:
    for actor in (world.territorial_admin, world.julien):
        for call in (lambda uow, actor=actor: territory_services(uow, actor, world.paris),
                     lambda uow, actor=actor: set_territory_service(uow, actor, world.paris, world.mairie, True),
                     lambda uow, actor=actor: sms_settings(uow, actor, world.paris),
                     lambda uow, actor=actor: save_sms_settings(uow, actor, world.paris, OVH),
                     lambda uow, actor=actor: move_choices(uow, actor, world.julien),
                     lambda uow, actor=actor: move_agent(uow, actor, world.julien, world.arras, world.lens),
                     lambda uow, actor=actor: search(uow, actor, "julien")):
            refused(db_url, call, "réservée aux super administrateurs")
