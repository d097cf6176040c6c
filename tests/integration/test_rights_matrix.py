"""The rights matrix (issue 17, admin-domain.md section 3.2 and its territory table): one table of cells,
role x resource x action -> allowed or refused, each exercised against the real services the agent pages
call, on SQLite and on PostgreSQL. The pytest ids are the cells ("basic | rdv other service: open |
denied"), so the report reads as the matrix.

An allowed cell succeeds (a write changes the database, a list shows the row asked about); a refused cell
raises PermissionDenied, NotFound (an id of another organisation, read through one's own) or the named
domain error, and leaves every table as it was (tests/db_snapshot.py). A "hidden" cell is a list that
succeeds but leaves the row out.

The world: territory 62 with organisations A ("PMI Arras", where the organisation roles act) and B
("MDS Lens", whose ids are forged), territory 59 with organisation C; services PMI, SOCIAL and
Secrétariat. In A: `admin` (PMI), `basic` (PMI), `colleague` (PMI), `other_service` (SOCIAL),
`secretary` (Secrétariat), `intervenant` (PMI), `invited` (PMI, invitation pending); `terri` is
territorial admin of 62, basic in A and admin of B; `super` is super admin of the instance, with no role.
`inviter`, `rights_manager` and `team_manager` (PMI, basic in A) each hold one access right of 62
(`allow_to_invite_agents`, `allow_to_manage_access_rights`, `allow_to_manage_teams`). In B: `admin_b`,
`agent_b`, `intervenant_b`; in C: `admin_c`, territorial admin of 59. Teams: "Équipe Arras" (62, `colleague`)
and "Équipe Lille" (59, `admin_c`).

Matrix size: 517 cells (ORGANISATION 220, TERRITORY 40, TERRITORY_ADMIN_SPACE 131, INSTANCE 21,
CROSS_ORGANISATION 105), each on both databases; `test_matrix_size` keeps this number true.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any

import factories as make
import pytest
from db_copies import DatabaseCopy
from db_snapshot import Snapshot, snapshot
from db_snapshot import refused as refused_call
from factories import at_paris
from sqlmodel import select

from rdv_app.auth.passwords import hash_password
from rdv_app.db.models import Agent, AgentInvitation, AgentRole, TerritoryService
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.enums import AccessLevel
from rdv_app.domain.motif_rules import MotifFields
from rdv_app.services import security_log
from rdv_app.services.agents import agent_auth, intervenants, organisation_agents, teams, territory_agents
from rdv_app.services.agents.territory_agents import AccessRights, Placement
from rdv_app.services.availability import absences, agenda, creneaux, plages
from rdv_app.services.errors import DomainError, NotFound, PermissionDenied
from rdv_app.services.instance import accounts, backoffice, catalogue
from rdv_app.services.instance.backoffice import SmsChange
from rdv_app.services.integrations import webhooks
from rdv_app.services.organisation import admin_lieux, admin_motifs, admin_organisation, territory_motifs
from rdv_app.services.organisation.admin_lieux import LieuInput
from rdv_app.services.organisation.admin_organisation import OrganisationSettings
from rdv_app.services.organisation.territory_motifs import BulkChange
from rdv_app.services.rdv import lifecycle, queries, rdv_follow, rdv_planning
from rdv_app.services.usagers import usagers

PASSWORD = "Agent-Arras-2026!"
HASH = hash_password(PASSWORD)


W = dict[str, int]  # the world's ids, by name


def build_world(db_url: str) -> W:
    day = make.quiet_monday(2)  # every RDV, plage and absence of the world is to come
    with UnitOfWork(db_url) as uow:
        s = uow.session
        territory = make.territory(s)
        territory_2 = make.territory(s, "59", "Nord")
        pmi, social, sec = make.pmi_social_secretariat(s)
        s.add_all([TerritoryService(territory_id=territory.id, service_id=service.id)  # type: ignore[arg-type]
                   for service in (pmi, social, sec)])
        org = make.organisation(s, territory)
        org_b = make.organisation(s, territory, "MDS Lens", "mds-lens")
        org_c = make.organisation(s, territory_2, "PMI Lille", "pmi-lille")

        def agent(key: str, first: str, last: str, home: Any, role: str | None, service: Any, **fields: Any) -> Any:
            fields.setdefault("password_hash", HASH)
            return make.agent(s, f"{key}@arras.test", first, last, organisation=home, role=role, services=[service],
                              **fields)

        people = {
            "admin": agent("admin", "Camille", "Martin", org, AccessLevel.ADMIN, pmi),
            "basic": agent("basic", "Julien", "Petit", org, None, pmi),
            "colleague": agent("colleague", "Inès", "Roux", org, None, pmi),
            "other_service": agent("other_service", "Karim", "Haddad", org, None, social),
            "secretary": agent("secretary", "Sofia", "Leroy", org, None, sec),
            "intervenant": agent("intervenant", "Paule", "Interv", org, AccessLevel.INTERVENANT, pmi),
            "invited": agent("invited", None, "", org, None, pmi, password_hash=None),
            "terri": agent("terri", "Théo", "Terri", org, None, pmi),
            "super": agent("super", "Sam", "Super", None, None, pmi, super_admin=True),
            "admin_b": agent("admin_b", "Marc", "Blanc", org_b, AccessLevel.ADMIN, pmi),
            "agent_b": agent("agent_b", "Lina", "Lensoise", org_b, None, pmi),
            "admin_c": agent("admin_c", "Lou", "Lillois", org_c, AccessLevel.ADMIN, pmi),
            "inviter": agent("inviter", "Iris", "Invite", org, None, pmi),
            "rights_manager": agent("rights_manager", "Romain", "Droits", org, None, pmi),
            "team_manager": agent("team_manager", "Tess", "Equipe", org, None, pmi),
            "intervenant_b": agent("intervenant_b", "Noé", "Lensois", org_b, AccessLevel.INTERVENANT, pmi),
        }
        ids = {key: person.id for key, person in people.items()}
        s.add(AgentRole(agent_id=ids["terri"], organisation_id=org_b.id, access_level=AccessLevel.ADMIN))
        make.territorial_admin(s, ids["terri"], territory)
        make.territorial_admin(s, ids["admin_c"], territory_2)
        for holder, right in (("inviter", "allow_to_invite_agents"), ("rights_manager", "allow_to_manage_access_rights"),
                              ("team_manager", "allow_to_manage_teams")):
            make.access_right(s, ids[holder], territory, **{right: True})
        s.add(TerritoryService(territory_id=territory_2.id, service_id=social.id))
        team = make.team(s, territory, "Équipe Arras", [ids["colleague"]])
        team_2 = make.team(s, territory_2, "Équipe Lille", [ids["admin_c"]])
        s.add(AgentInvitation(agent_id=ids["invited"], token_hash="invited-token-hash", invited_by_agent_id=ids["admin"],
                              expires_at=clock.now() + timedelta(days=7)))
        lieu, lieu_b = make.lieu(s, org), make.lieu(s, org_b, "MDS Lens", "4 rue D, 62300 Lens")
        motif = make.motif(s, org, pmi)
        motif_social = make.motif(s, org, social, "Entretien social")
        motif_spare = make.motif(s, org, pmi, "Vaccination")
        motif_b = make.motif(s, org_b, pmi, "Consultation Lens")
        marie = make.usager(s, "Marie", "Lefort", organisations=[org])
        lena = make.usager(s, "Léna", "Morel", email="lena@lens.test", organisations=[org_b])
        lou = make.usager(s, "Lou", "Nordiste", email="lou@lille.test", organisations=[org_c])
        at = at_paris(day, 10)
        rdvs = {
            "rdv_service": make.rdv(s, org, motif, at, agents=[ids["colleague"]], usagers=[marie], lieu=lieu),
            "rdv_other": make.rdv(s, org, motif_social, at, agents=[ids["other_service"]], usagers=[marie], lieu=lieu),
            "rdv_own": make.rdv(s, org, motif_social, at_paris(day, 14), agents=[ids["basic"]], usagers=[marie],
                                lieu=lieu),
            "rdv_b": make.rdv(s, org_b, motif_b, at, agents=[ids["agent_b"]], usagers=[lena], lieu=lieu_b),
        }
        hours = dict(first_day=day + timedelta(days=1), start_time=time(9), end_time=time(12))
        plage_rows = {
            "plage_colleague": make.plage(s, ids["colleague"], org, lieu, [motif], title="Consultations", **hours),
            "plage_other": make.plage(s, ids["other_service"], org, lieu, [motif_social], title="Social", **hours),
            "plage_b": make.plage(s, ids["agent_b"], org_b, lieu_b, [motif_b], title="Lens", **hours),
        }
        absence_rows = {
            "absence_colleague": make.absence(s, ids["colleague"], day + timedelta(days=2)),
            "absence_other": make.absence(s, ids["other_service"], day + timedelta(days=2)),
            "absence_b": make.absence(s, ids["agent_b"], day + timedelta(days=2), title="Congés Lens"),
        }
        hooks = {"webhook": make.webhook(s, org), "webhook_b": make.webhook(s, org_b, "https://lens.exemple.fr/rdv")}
        uow.commit()
        return {**ids, "monday": day.toordinal(), "territory": territory.id, "territory_2": territory_2.id, "org": org.id, "org_b": org_b.id,
                "org_c": org_c.id, "team": team.id, "team_2": team_2.id, "pmi": pmi.id, "social": social.id, "sec": sec.id, "lieu": lieu.id,
                "lieu_b": lieu_b.id, "motif": motif.id, "motif_social": motif_social.id, "motif_spare": motif_spare.id,
                "motif_b": motif_b.id, "marie": marie.id, "lena": lena.id, "lou": lou.id,
                **{k: v.id for k, v in {**rdvs, **plage_rows, **absence_rows, **hooks}.items()}}


@pytest.fixture
def world(db_url: str) -> W:
    return build_world(db_url)


@pytest.fixture(scope="module")
def world_copy(migrated_url: str, request: pytest.FixtureRequest,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseCopy]:
    """The world, built once per database; each cell of the matrix starts from a copy of it."""
    cluster = None if migrated_url.startswith("sqlite") else request.getfixturevalue("pg_cluster")
    copy = DatabaseCopy("sqlite" if cluster is None else "postgresql", tmp_path_factory.mktemp("matrix"),
                        "rights_matrix", build_world, cluster)
    yield copy
    copy.close()


# --------------------------------------------------------------------------- actions: (uow, world, actor) -> result

Call = Callable[[UnitOfWork, W, int], Any]


@dataclass(frozen=True)
class Action:
    call: Call
    writes: bool = False  # allowed: the database changed
    shows: Callable[[Any, W], bool] | None = None  # a list: whether it shows the row asked about
    ignored: dict[str, set[str]] = field(default_factory=dict)  # refused: what a refusal writes on purpose


def _day(w: W, offset: int = 0) -> date:
    """The world's Monday, `offset` days on (the world is built once: the clock may have reached another
    week since)."""
    return date.fromordinal(w["monday"]) + timedelta(days=offset)


def _plan(org: str = "org", motif: str = "motif", agent: str = "colleague", lieu: str = "lieu",
          usager: str = "marie") -> Call:
    return lambda uow, w, a: lifecycle.plan_rdv(
        uow, a, w[org], motif_id=w[motif], starts_at=at_paris(_day(w, 3), 15), duration_in_min=30,
        agent_ids=[w[agent]], lieu_id=w[lieu], usager_ids=[w[usager]], confirm_warnings=True)


def _edit_rdv(rdv: str, agent: str, org: str = "org") -> Call:
    return lambda uow, w, a: rdv_follow.edit_rdv(
        uow, a, w[org], w[rdv], day=_day(w), start_time=time(11), duration_in_min=30, lieu_id=w["lieu"],
        agent_ids=[w[agent]], confirm_warnings=True)


def _plage_fields(w: W, agent: int, motif: str, lieu: str = "lieu") -> dict[str, Any]:
    return dict(title="Nouvelle plage", agent_id=agent, lieu_id=w[lieu], motif_ids=[w[motif]],
                first_day=_day(w, 4), start_time=time(14), end_time=time(17), recurrence=None, confirm_warnings=True)


def _create_plage(agent: str | None, motif: str) -> Call:
    """`agent` None: the actor's own plage."""
    return lambda uow, w, a: plages.create_plage(uow, a, w["org"], **_plage_fields(w, w[agent] if agent else a, motif))


def _update_plage(plage: str, agent: str, motif: str, org: str = "org") -> Call:
    return lambda uow, w, a: plages.update_plage(uow, a, w[org], w[plage], **_plage_fields(w, w[agent], motif))


def _absence_fields(w: W, agent: int) -> dict[str, Any]:
    return dict(agent_id=agent, title="Réunion", first_day=_day(w, 5), start_time=time(8), end_time=time(10))


def _motif_fields(w: W, name: str = "Bilan de santé") -> MotifFields:
    return MotifFields(name=name, service_id=w["pmi"])


def _shows(key: str) -> Callable[[Any, W], bool]:
    return lambda result, w: w[key] in {row.id for row in result}


def _usager_found(key: str) -> Callable[[Any, W], bool]:
    return lambda result, w: w[key] in {u.id for u in (*result.usagers, *result.other_organisations)}


def _search_shows(kind: str, key: str) -> Action:
    return Action(lambda uow, w, a: getattr(creneaux.search_options(uow, a, w["org"]), kind),
                  shows=_shows(key))


def _invite(org: str, level: str = "basic") -> Call:
    """A territory-level invitation, from the page of A, into `org` at `level`."""
    return lambda uow, w, a: territory_agents.invite_to_territory(
        uow, a, w["org"], "nouvelle@arras.test", (Placement(w[org], level),), (w["pmi"],))


def _set_access_rights(agent: str | None) -> Call:
    """`agent` None: the actor's own rights."""
    return lambda uow, w, a: territory_agents.set_access_rights(
        uow, a, w["org"], w[agent] if agent else a, AccessRights(True, True, True))


def _hits(kind: str, key: str) -> Callable[[Any, W], bool]:
    return lambda result, w: w[key] in {hit.agent_id if kind == "agents" else hit.organisation_id
                                        for hit in getattr(result, kind)}


ACTIONS: dict[str, Action] = {
    # -- signing in (intervenants have no account)
    "sign in": Action(lambda uow, w, a: agent_auth.authenticate(uow, _email(uow, a), PASSWORD, f"10.0.0.{a}"),
                      writes=True, ignored={"security_event": {"*"}, "agent": {"failed_sign_ins"}}),
    # -- RDVs: own, same service, other service
    "rdv same service: open": Action(lambda uow, w, a: queries.get_rdv(uow, a, w["org"], w["rdv_service"])),
    "rdv same service: change status": Action(
        lambda uow, w, a: lifecycle.change_status(uow, a, w["org"], w["rdv_service"], "revoked"), writes=True),
    "rdv same service: move": Action(_edit_rdv("rdv_service", "colleague"), writes=True),
    "rdv other service: open": Action(lambda uow, w, a: queries.get_rdv(uow, a, w["org"], w["rdv_other"])),
    "rdv other service: receipts": Action(lambda uow, w, a: rdv_follow.list_receipts(uow, a, w["org"], w["rdv_other"])),
    "rdv other service: change status": Action(
        lambda uow, w, a: lifecycle.change_status(uow, a, w["org"], w["rdv_other"], "revoked"), writes=True),
    "rdv other service: cancel": Action(
        lambda uow, w, a: lifecycle.cancel_rdv(uow, a, w["org"], w["rdv_other"], excused=True), writes=True),
    "rdv other service: move": Action(_edit_rdv("rdv_other", "other_service"), writes=True),
    "own rdv of another service's motif: open": Action(
        lambda uow, w, a: queries.get_rdv(uow, a, w["org"], w["rdv_own"])),
    "rdv: delete": Action(lambda uow, w, a: lifecycle.delete_rdv(uow, a, w["org"], w["rdv_service"]), writes=True),
    "rdv: create, own-service motif": Action(_plan(), writes=True),
    "rdv: create, other-service motif": Action(_plan(motif="motif_social", agent="other_service"), writes=True),
    "rdv: create for an other-service agent": Action(_plan(agent="other_service"), writes=True),
    "rdv: planning form, other-service motif": Action(
        lambda uow, w, a: rdv_planning_draft(uow, w, a, "motif_social")),
    "slots: own-service motif": Action(lambda uow, w, a: creneaux.find_week(uow, a, w["org"], w["motif"], _day(w))),
    "slots: other-service motif": Action(
        lambda uow, w, a: creneaux.find_week(uow, a, w["org"], w["motif_social"], _day(w))),
    "motifs usable: own service": _search_shows("motifs", "motif"),
    "motifs usable: other service": _search_shows("motifs", "motif_social"),
    "lieux: see (search form)": _search_shows("lieux", "lieu"),
    # -- usagers (any service: every usager with a profile in the organisation)
    "usagers: search the organisation's usager": Action(
        lambda uow, w, a: usagers.search_usagers(uow, a, w["org"], "Lefort"), shows=_usager_found("marie")),
    "usagers: search another territory's usager": Action(
        lambda uow, w, a: usagers.search_usagers(uow, a, w["org"], "Nordiste"), shows=_usager_found("lou")),
    # -- agendas and agents seen
    "agenda: same-service colleague": Action(
        lambda uow, w, a: agenda.agenda(uow, a, w["org"], [w["colleague"]], _day(w), _day(w, 6))),
    "agenda: other-service agent": Action(
        lambda uow, w, a: agenda.agenda(uow, a, w["org"], [w["other_service"]], _day(w), _day(w, 6))),
    "agents seen: same-service colleague": Action(lambda uow, w, a: agenda.visible_agents(uow, a, w["org"]),
                                                  shows=lambda result, w: w["colleague"] in {x.id for x in result}),
    "agents seen: other-service agent": Action(lambda uow, w, a: agenda.visible_agents(uow, a, w["org"]),
                                               shows=lambda result, w: w["other_service"] in {x.id for x in result}),
    # -- plages d'ouverture
    "plages of same-service colleague: list": Action(
        lambda uow, w, a: plages.list_plages(uow, a, w["org"], [w["colleague"]])),
    "plage of same-service colleague: delete": Action(
        lambda uow, w, a: plages.delete_plage(uow, a, w["org"], w["plage_colleague"]), writes=True),
    "plages of other-service agent: list": Action(
        lambda uow, w, a: plages.list_plages(uow, a, w["org"], [w["other_service"]])),
    "plage of other-service agent: open": Action(
        lambda uow, w, a: plages.get_plage(uow, a, w["org"], w["plage_other"])),
    "plage of other-service agent: edit": Action(
        _update_plage("plage_other", "other_service", "motif_social"), writes=True),
    "plage of other-service agent: delete": Action(
        lambda uow, w, a: plages.delete_plage(uow, a, w["org"], w["plage_other"]), writes=True),
    "plage: create own, own-service motif": Action(_create_plage(None, "motif"), writes=True),
    "plage: create own, other-service motif": Action(_create_plage(None, "motif_social"), writes=True),
    "plage: create for other-service agent": Action(_create_plage("other_service", "motif_social"), writes=True),
    # -- absences
    "absence: create for same-service colleague": Action(
        lambda uow, w, a: absences.create_absence(uow, a, w["org"], **_absence_fields(w, w["colleague"])), writes=True),
    "absences of other-service agent: list": Action(
        lambda uow, w, a: absences.list_absences(uow, a, w["org"], [w["other_service"]])),
    "absence: create for other-service agent": Action(
        lambda uow, w, a: absences.create_absence(uow, a, w["org"], **_absence_fields(w, w["other_service"])),
        writes=True),
    "absence of other-service agent: edit": Action(
        lambda uow, w, a: absences.update_absence(uow, a, w["org"], w["absence_other"],
                                                  **_absence_fields(w, w["other_service"])), writes=True),
    "absence of other-service agent: delete": Action(
        lambda uow, w, a: absences.delete_absence(uow, a, w["org"], w["absence_other"]), writes=True),
    # -- the agents page (Paramètres)
    "agents page: list": Action(lambda uow, w, a: organisation_agents.list_agents(uow, a, w["org"])),
    "agents page: invite": Action(lambda uow, w, a: organisation_agents.invite_agent(
        uow, a, w["org"], "nouvelle@arras.test", "basic", (w["pmi"],)), writes=True),
    "agents page: resend an invitation": Action(
        lambda uow, w, a: organisation_agents.resend_invitation(uow, a, w["org"], w["invited"]), writes=True),
    "agents page: change a level": Action(
        lambda uow, w, a: organisation_agents.change_level(uow, a, w["org"], w["other_service"], "admin"), writes=True),
    "agents page: removal preview": Action(
        lambda uow, w, a: organisation_agents.removal_preview(uow, a, w["org"], w["intervenant"])),
    "agents page: remove an agent": Action(
        lambda uow, w, a: organisation_agents.remove_agent(uow, a, w["org"], w["intervenant"]), writes=True),
    "agents page: remove oneself": Action(
        lambda uow, w, a: organisation_agents.remove_agent(uow, a, w["org"], a), writes=True),
    "agents page: demote the last admin": Action(
        lambda uow, w, a: organisation_agents.change_level(uow, a, w["org"], w["admin"], "basic"), writes=True),
    # -- intervenants (Paramètres › Agents)
    "intervenant: add": Action(lambda uow, w, a: intervenants.add_intervenant(
        uow, a, w["org"], "Dupré", "Anne", (w["pmi"],)), writes=True),
    "intervenant: rename": Action(lambda uow, w, a: intervenants.rename_intervenant(
        uow, a, w["org"], w["intervenant"], "Interv-Roux", "Paule"), writes=True),
    "intervenant: make an agent": Action(lambda uow, w, a: intervenants.convert_to_agent(
        uow, a, w["org"], w["intervenant"], "paule.interv@arras.test", "Paule", "Interv", "basic"), writes=True),
    "agent: make an intervenant": Action(
        lambda uow, w, a: intervenants.convert_to_intervenant(uow, a, w["org"], w["colleague"]), writes=True),
    # -- lieux (Paramètres)
    "lieux: list": Action(lambda uow, w, a: admin_lieux.list_lieux(uow, a, w["org"])),
    "lieu: open": Action(lambda uow, w, a: admin_lieux.get_lieu(uow, a, w["org"], w["lieu"])),
    "lieu: create": Action(lambda uow, w, a: admin_lieux.create_lieu(
        uow, a, w["org"], LieuInput("Antenne Nord", "2 rue B, 62000 Arras")), writes=True),
    "lieu: edit": Action(lambda uow, w, a: admin_lieux.update_lieu(
        uow, a, w["org"], w["lieu"], LieuInput("Centre Arras (rénové)", "1 rue A, 62000 Arras")), writes=True),
    "lieu: disable": Action(lambda uow, w, a: admin_lieux.set_lieu_enabled(
        uow, a, w["org"], w["lieu"], False, confirm_warnings=True), writes=True),
    # -- motifs (Paramètres)
    "motifs: list": Action(lambda uow, w, a: admin_motifs.list_motifs(uow, a, w["org"])),
    "motif: open": Action(lambda uow, w, a: admin_motifs.get_motif(uow, a, w["org"], w["motif"])),
    "motif: create": Action(lambda uow, w, a: admin_motifs.create_motif(uow, a, w["org"], _motif_fields(w)),
                            writes=True),
    "motif: edit": Action(lambda uow, w, a: admin_motifs.update_motif(
        uow, a, w["org"], w["motif_spare"], _motif_fields(w, "Vaccination (rappel)")), writes=True),
    "motif: duplicate": Action(lambda uow, w, a: admin_motifs.duplicate_motif(uow, a, w["org"], w["motif"]),
                               writes=True),
    "motif: delete": Action(lambda uow, w, a: admin_motifs.remove_motif(uow, a, w["org"], w["motif_spare"]),
                            writes=True),
    # -- the organisation (Paramètres)
    "organisation settings: open": Action(lambda uow, w, a: admin_organisation.get_settings(uow, a, w["org"])),
    "organisation settings: edit": Action(lambda uow, w, a: admin_organisation.update_settings(
        uow, a, w["org"], OrganisationSettings(name="PMI Arras centre", phone_number="03 21 00 00 00")), writes=True),
    "organisation: setup steps": Action(lambda uow, w, a: admin_organisation.setup_steps(uow, a, w["org"])),
    "organisation: online booking": Action(lambda uow, w, a: admin_organisation.online_booking(uow, a, w["org"])),
    # -- webhooks
    "webhooks: list": Action(lambda uow, w, a: webhooks.list_endpoints(uow, a, w["org"])),
    "webhook: create": Action(lambda uow, w, a: webhooks.create_endpoint(
        uow, a, w["org"], target_url="https://logiciel.exemple.fr/hook", subscriptions=["rdv"]), writes=True),
    "webhook: edit": Action(lambda uow, w, a: webhooks.update_endpoint(
        uow, a, w["org"], w["webhook"], target_url="https://sih.exemple.fr/rdv", subscriptions=["rdv"],
        enabled=False), writes=True),
    "webhook: delete": Action(lambda uow, w, a: webhooks.delete_endpoint(uow, a, w["org"], w["webhook"]),
                              writes=True),
    "webhook: delivery log": Action(lambda uow, w, a: webhooks.list_deliveries(uow, a, w["org"], w["webhook"])),
    # -- the territory
    "security log of the territory": Action(lambda uow, w, a: security_log.territory_log(uow, a, w["org"])),
    "security log of another territory": Action(lambda uow, w, a: security_log.territory_log(uow, a, w["org_c"])),
    "territory motifs: list": Action(
        lambda uow, w, a: territory_motifs.list_territory_motifs(uow, a, w["territory"])),
    "territory motifs: create in an organisation one administers": Action(
        lambda uow, w, a: territory_motifs.create_in_organisations(uow, a, w["territory"], [w["org_b"]],
                                                                   _motif_fields(w)), writes=True),
    "territory motifs: create in an organisation one does not administer": Action(
        lambda uow, w, a: territory_motifs.create_in_organisations(uow, a, w["territory"], [w["org"]],
                                                                   _motif_fields(w)), writes=True),
    "territory motifs: bulk change in an organisation one administers": Action(
        lambda uow, w, a: territory_motifs.apply_bulk_change(uow, a, w["territory"], [w["motif_b"]],
                                                             BulkChange(color="#123456")), writes=True),
    "territory motifs: bulk change in an organisation one does not administer": Action(
        lambda uow, w, a: territory_motifs.apply_bulk_change(uow, a, w["territory"], [w["motif"]],
                                                             BulkChange(color="#123456")), writes=True),
    "organisation: create in the territory": Action(lambda uow, w, a: admin_organisation.create_organisation(
        uow, a, w["territory"], OrganisationSettings(name="PMI Béthune")), writes=True),
    "organisation: create in another territory": Action(lambda uow, w, a: admin_organisation.create_organisation(
        uow, a, w["territory_2"], OrganisationSettings(name="PMI Roubaix")), writes=True),
    "services catalogue: list": Action(lambda uow, w, a: catalogue.list_services(uow, a)),
    "services catalogue: add": Action(lambda uow, w, a: catalogue.add_service(uow, a, "Action sociale", "AS", False),
                                      writes=True),
    "territories: list": Action(lambda uow, w, a: accounts.list_territories(uow, a)),
    "territory: open with its first admin": Action(lambda uow, w, a: accounts.open_account(uow, a, accounts.NewAccount(
        "80", "Somme", "Europe/Paris", "PMI Amiens", "amiens@somme.test", (w["pmi"],))), writes=True),
    # -- the territory's Espace Admin ("Agents du territoire", "Équipes"), from the page of A
    "territory agents: list": Action(lambda uow, w, a: territory_agents.list_territory_agents(uow, a, w["org"]),
                                     shows=lambda result, w: w["agent_b"] in {x.agent_id for x in result.agents}),
    "territory agent: set services": Action(lambda uow, w, a: territory_agents.set_agent_services(
        uow, a, w["org"], w["colleague"], (w["pmi"], w["social"])), writes=True),
    "territory agent: set another agent's access rights": Action(_set_access_rights("colleague"), writes=True),
    "territory agent: set one's own access rights": Action(_set_access_rights(None), writes=True),
    "territorial admin: name one": Action(lambda uow, w, a: territory_agents.set_territorial_admin(
        uow, a, w["org"], w["colleague"], True), writes=True),
    "territorial admin: name an intervenant": Action(lambda uow, w, a: territory_agents.set_territorial_admin(
        uow, a, w["org"], w["intervenant"], True), writes=True),
    "territory agent: give an intervenant access rights": Action(_set_access_rights("intervenant"), writes=True),
    "territorial admin: remove the last one": Action(lambda uow, w, a: territory_agents.set_territorial_admin(
        uow, a, w["org"], w["terri"], False), writes=True),
    "territory invite: into an organisation where one has a role": Action(_invite("org"), writes=True),
    "territory invite: into an organisation where one has no role": Action(_invite("org_b"), writes=True),
    "territory invite: as admin where one is basic": Action(_invite("org", "admin"), writes=True),
    "teams: list": Action(lambda uow, w, a: teams.list_teams(uow, a, w["org"]),
                          shows=lambda result, w: w["team"] in {x.team_id for x in result.teams}),
    "team: create": Action(lambda uow, w, a: teams.create_team(uow, a, w["org"], "Équipe Béthune", (w["basic"],)),
                           writes=True),
    "team: rename": Action(lambda uow, w, a: teams.rename_team(uow, a, w["org"], w["team"], "Équipe Arras centre"),
                           writes=True),
    "team: set members": Action(lambda uow, w, a: teams.set_team_members(
        uow, a, w["org"], w["team"], (w["colleague"], w["basic"])), writes=True),
    "team: delete": Action(lambda uow, w, a: teams.delete_team(uow, a, w["org"], w["team"]), writes=True),
    # -- the other territory (59), its ids sent from the page of A, or its own pages
    "59's agent via A: set services": Action(lambda uow, w, a: territory_agents.set_agent_services(
        uow, a, w["org"], w["admin_c"], (w["pmi"], w["social"])), writes=True),
    "59's agent via A: set access rights": Action(_set_access_rights("admin_c"), writes=True),
    "59's agent via A: name territorial admin": Action(lambda uow, w, a: territory_agents.set_territorial_admin(
        uow, a, w["org"], w["admin_c"], True), writes=True),
    "59's team via A: rename": Action(lambda uow, w, a: teams.rename_team(uow, a, w["org"], w["team_2"], "Piratée"),
                                      writes=True),
    "59's team via A: delete": Action(lambda uow, w, a: teams.delete_team(uow, a, w["org"], w["team_2"]),
                                      writes=True),
    "59's agent via A: team member": Action(lambda uow, w, a: teams.set_team_members(
        uow, a, w["org"], w["team"], (w["colleague"], w["admin_c"])), writes=True),
    "59's organisation via A: invite into it": Action(_invite("org_c"), writes=True),
    "59 directly: its territory agents": Action(
        lambda uow, w, a: territory_agents.list_territory_agents(uow, a, w["org_c"])),
    "59 directly: create a team": Action(lambda uow, w, a: teams.create_team(uow, a, w["org_c"], "Piratée"),
                                         writes=True),
    # -- the super admins' back office
    "back office: enable a service in a territory": Action(lambda uow, w, a: backoffice.set_territory_service(
        uow, a, w["territory_2"], w["pmi"], True), writes=True),
    "back office: disable a service no one uses": Action(lambda uow, w, a: backoffice.set_territory_service(
        uow, a, w["territory_2"], w["social"], False), writes=True),
    "back office: disable a service in use": Action(lambda uow, w, a: backoffice.set_territory_service(
        uow, a, w["territory"], w["pmi"], False), writes=True),
    "back office: save SMS settings": Action(lambda uow, w, a: backoffice.save_sms_settings(
        uow, a, w["territory"], SmsChange(provider=backoffice.SMS_INSTANCE, sender="PMI 62")), writes=True),
    "back office: move an agent": Action(lambda uow, w, a: backoffice.move_agent(
        uow, a, w["secretary"], w["org"], w["org_b"]), writes=True),
    "back office: search agents": Action(lambda uow, w, a: backoffice.search(uow, a, "Lensoise"),
                                         shows=_hits("agents", "agent_b")),
    "back office: search organisations": Action(lambda uow, w, a: backoffice.search(uow, a, "Lille"),
                                                shows=_hits("organisations", "org_c")),
    # -- ids of organisation B, through one's own organisation A
    "B's rdv via A: open": Action(lambda uow, w, a: queries.get_rdv(uow, a, w["org"], w["rdv_b"])),
    "B's rdv via A: change status": Action(
        lambda uow, w, a: lifecycle.change_status(uow, a, w["org"], w["rdv_b"], "revoked"), writes=True),
    "B's rdv via A: move": Action(_edit_rdv("rdv_b", "agent_b"), writes=True),
    "B's rdv via A: delete": Action(lambda uow, w, a: lifecycle.delete_rdv(uow, a, w["org"], w["rdv_b"]), writes=True),
    "B's motif via A: plan an rdv": Action(_plan(motif="motif_b", agent="basic"), writes=True),
    "B's lieu via A: plan an rdv": Action(_plan(lieu="lieu_b", agent="basic"), writes=True),
    "B's agent via A: plan an rdv": Action(_plan(agent="agent_b"), writes=True),
    "another territory's usager via A: plan an rdv": Action(_plan(agent="basic", usager="lou"), writes=True),
    "B's agent via A: agenda": Action(lambda uow, w, a: agenda.agenda(uow, a, w["org"], [w["agent_b"]], _day(w),
                                                                      _day(w, 6))),
    "B's agent via A: slots": Action(lambda uow, w, a: creneaux.find_week(uow, a, w["org"], w["motif"], _day(w),
                                                                          agent_ids=[w["agent_b"]])),
    "B's plage via A: open": Action(lambda uow, w, a: plages.get_plage(uow, a, w["org"], w["plage_b"])),
    "B's plage via A: edit": Action(_update_plage("plage_b", "basic", "motif"), writes=True),
    "B's plage via A: delete": Action(lambda uow, w, a: plages.delete_plage(uow, a, w["org"], w["plage_b"]),
                                      writes=True),
    "B's motif via A: in one's own plage": Action(_create_plage(None, "motif_b"), writes=True),
    "B's agent via A: plage": Action(_create_plage("agent_b", "motif"), writes=True),
    "B's absence via A: open": Action(lambda uow, w, a: absences.get_absence(uow, a, w["org"], w["absence_b"])),
    "B's absence via A: delete": Action(lambda uow, w, a: absences.delete_absence(uow, a, w["org"], w["absence_b"]),
                                        writes=True),
    "B's agent via A: absence": Action(
        lambda uow, w, a: absences.create_absence(uow, a, w["org"], **_absence_fields(w, w["agent_b"])), writes=True),
    "B's lieu via A: edit": Action(lambda uow, w, a: admin_lieux.update_lieu(
        uow, a, w["org"], w["lieu_b"], LieuInput("Piraté", "1 rue X, 62300 Lens")), writes=True),
    "B's motif via A: edit": Action(lambda uow, w, a: admin_motifs.update_motif(
        uow, a, w["org"], w["motif_b"], _motif_fields(w, "Piraté")), writes=True),
    "B's motif via A: delete": Action(lambda uow, w, a: admin_motifs.remove_motif(uow, a, w["org"], w["motif_b"]),
                                      writes=True),
    "B's webhook via A: delete": Action(lambda uow, w, a: webhooks.delete_endpoint(uow, a, w["org"], w["webhook_b"]),
                                        writes=True),
    "B's agent via A: change level": Action(
        lambda uow, w, a: organisation_agents.change_level(uow, a, w["org"], w["agent_b"], "admin"), writes=True),
    "B's agent via A: remove": Action(
        lambda uow, w, a: organisation_agents.remove_agent(uow, a, w["org"], w["agent_b"]), writes=True),
    "B's intervenant via A: rename": Action(lambda uow, w, a: intervenants.rename_intervenant(
        uow, a, w["org"], w["intervenant_b"], "Piraté"), writes=True),
    "B's intervenant via A: make an agent": Action(lambda uow, w, a: intervenants.convert_to_agent(
        uow, a, w["org"], w["intervenant_b"], "pirate@arras.test", "Noé", "Lensois", "basic"), writes=True),
    "B's agent via A: make an intervenant": Action(
        lambda uow, w, a: intervenants.convert_to_intervenant(uow, a, w["org"], w["agent_b"]), writes=True),
    # -- organisation B itself, where the actor has no role
    "B directly: open its rdv": Action(lambda uow, w, a: queries.get_rdv(uow, a, w["org_b"], w["rdv_b"])),
    "B directly: agenda": Action(lambda uow, w, a: agenda.agenda(uow, a, w["org_b"], [w["agent_b"]], _day(w),
                                                                 _day(w, 6))),
    "B directly: delete its plage": Action(lambda uow, w, a: plages.delete_plage(uow, a, w["org_b"], w["plage_b"]),
                                           writes=True),
    "B directly: agents page": Action(lambda uow, w, a: organisation_agents.list_agents(uow, a, w["org_b"])),
    "B directly: lieux": Action(lambda uow, w, a: admin_lieux.list_lieux(uow, a, w["org_b"])),
    "B directly: settings": Action(lambda uow, w, a: admin_organisation.update_settings(
        uow, a, w["org_b"], OrganisationSettings(name="Piraté")), writes=True),
    "B directly: webhooks": Action(lambda uow, w, a: webhooks.list_endpoints(uow, a, w["org_b"])),
    "B directly: search its usagers": Action(lambda uow, w, a: usagers.search_usagers(uow, a, w["org_b"], "Morel")),
}


def rdv_planning_draft(uow: UnitOfWork, w: W, actor: int, motif: str) -> Any:
    return rdv_planning.draft(uow, actor, w["org"], motif_id=w[motif])


def _email(uow: UnitOfWork, agent_id: int) -> str:
    return uow.session.exec(select(Agent.email).where(Agent.id == agent_id)).one() or ""


# --------------------------------------------------------------------------- the matrix

OK, DENIED, NOT_FOUND, HIDDEN = "allowed", "denied", "not found", "hidden"


def refused(match: str) -> str:
    """A domain error whose message matches `match` (a rule, not a missing right)."""
    return f"refused: {match}"


LAST_ADMIN = refused("au moins un administrateur")
NOT_THEIR_SERVICE = refused("relève d'un service")
SELF_REMOVAL = refused("vous retirer vous-même")
NO_SIGN_IN = refused(agent_auth.INVALID_CREDENTIALS)
LAST_TERRITORIAL_ADMIN = refused(territory_agents.LAST_TERRITORIAL_ADMIN)
NOT_TERRITORY_AGENT = refused("doivent être des agents du territoire")
INTERVENANT_SIGNS_IN_NOT = refused("Un intervenant ne se connecte pas")
SERVICE_IN_USE = refused("ne peut pas être désactivé")

ORG_ROLES = ("basic", "secretary", "admin")
# Per organisation (section 3.2), for the basic agent, the secrétaire (basic + Secrétariat) and the admin;
# an entry of four gives the intervenant's cell too.
ORGANISATION: dict[str, tuple[str, ...]] = {
    "sign in": (OK, OK, OK, NO_SIGN_IN),
    "rdv same service: open": (OK, OK, OK),
    "rdv same service: change status": (OK, OK, OK),
    "rdv same service: move": (OK, OK, OK),
    "rdv other service: open": (DENIED, OK, OK),
    "rdv other service: receipts": (DENIED, OK, OK),
    "rdv other service: change status": (DENIED, OK, OK),
    "rdv other service: cancel": (DENIED, OK, OK),
    "rdv other service: move": (DENIED, OK, OK),
    "own rdv of another service's motif: open": (OK, OK, OK),
    "rdv: delete": (DENIED, DENIED, OK),
    "rdv: create, own-service motif": (OK, OK, OK),
    "rdv: create, other-service motif": (DENIED, OK, OK),
    "rdv: create for an other-service agent": (DENIED, OK, OK),
    "rdv: planning form, other-service motif": (DENIED, OK, OK),
    "slots: own-service motif": (OK, OK, OK),
    "slots: other-service motif": (DENIED, OK, OK),
    "motifs usable: own service": (OK, OK, OK),
    "motifs usable: other service": (HIDDEN, OK, OK),
    "lieux: see (search form)": (OK, OK, OK),
    "usagers: search the organisation's usager": (OK, OK, OK),
    "usagers: search another territory's usager": (HIDDEN, HIDDEN, HIDDEN),
    "agenda: same-service colleague": (OK, OK, OK),
    "agenda: other-service agent": (DENIED, OK, OK),
    "agents seen: same-service colleague": (OK, OK, OK),
    "agents seen: other-service agent": (HIDDEN, OK, OK),
    "plages of same-service colleague: list": (OK, OK, OK),
    "plage of same-service colleague: delete": (OK, OK, OK),
    "plages of other-service agent: list": (DENIED, OK, OK),
    "plage of other-service agent: open": (DENIED, OK, OK),
    "plage of other-service agent: edit": (DENIED, OK, OK),
    "plage of other-service agent: delete": (DENIED, OK, OK),
    "plage: create own, own-service motif": (OK, NOT_THEIR_SERVICE, OK),
    "plage: create own, other-service motif": (NOT_THEIR_SERVICE, NOT_THEIR_SERVICE, OK),
    "plage: create for other-service agent": (DENIED, OK, OK),
    "absence: create for same-service colleague": (OK, OK, OK),
    "absences of other-service agent: list": (DENIED, OK, OK),
    "absence: create for other-service agent": (DENIED, OK, OK),
    "absence of other-service agent: edit": (DENIED, OK, OK),
    "absence of other-service agent: delete": (DENIED, OK, OK),
    "agents page: list": (DENIED, DENIED, OK),
    "agents page: invite": (DENIED, DENIED, OK),
    "agents page: resend an invitation": (DENIED, DENIED, OK),
    "agents page: change a level": (DENIED, DENIED, OK),
    "agents page: removal preview": (DENIED, DENIED, OK),
    "agents page: remove an agent": (DENIED, DENIED, OK),
    "agents page: remove oneself": (DENIED, DENIED, SELF_REMOVAL),
    "agents page: demote the last admin": (DENIED, DENIED, LAST_ADMIN),
    "intervenant: add": (DENIED, DENIED, OK),
    "intervenant: rename": (DENIED, DENIED, OK),
    "intervenant: make an agent": (DENIED, DENIED, OK),
    "agent: make an intervenant": (DENIED, DENIED, OK),
    "lieux: list": (DENIED, DENIED, OK),
    "lieu: open": (DENIED, DENIED, OK),
    "lieu: create": (DENIED, DENIED, OK),
    "lieu: edit": (DENIED, DENIED, OK),
    "lieu: disable": (DENIED, DENIED, OK),
    "motifs: list": (DENIED, DENIED, OK),
    "motif: open": (DENIED, DENIED, OK),
    "motif: create": (DENIED, DENIED, OK),
    "motif: edit": (DENIED, DENIED, OK),
    "motif: duplicate": (DENIED, DENIED, OK),
    "motif: delete": (DENIED, DENIED, OK),
    "organisation settings: open": (DENIED, DENIED, OK),
    "organisation settings: edit": (DENIED, DENIED, OK),
    "organisation: setup steps": (DENIED, DENIED, OK),
    "organisation: online booking": (DENIED, DENIED, OK),
    "webhooks: list": (DENIED, DENIED, OK),
    "webhook: create": (DENIED, DENIED, OK),
    "webhook: edit": (DENIED, DENIED, OK),
    "webhook: delete": (DENIED, DENIED, OK),
    "webhook: delivery log": (DENIED, DENIED, OK),
    "security log of the territory": (DENIED, DENIED, DENIED),
}

TERRITORY_ROLES = ("terri", "admin", "basic", "super")
# The territory level: territorial admin (`terri`: basic in A, admin of B), an organisation admin who is
# not territorial admin, a basic agent, the super admin (who holds no organisation role).
# None: the cell is the organisation table's.
TERRITORY: dict[str, tuple[str | None, ...]] = {
    "security log of the territory": (OK, None, None, DENIED),
    "security log of another territory": (DENIED,),
    "territory motifs: list": (OK, DENIED, DENIED, DENIED),
    "territory motifs: create in an organisation one administers": (OK,),
    "territory motifs: create in an organisation one does not administer": (DENIED, DENIED),
    "territory motifs: bulk change in an organisation one administers": (OK,),
    "territory motifs: bulk change in an organisation one does not administer": (DENIED, DENIED),
    "organisation: create in the territory": (OK, DENIED, DENIED, DENIED),
    "organisation: create in another territory": (DENIED,),
    "services catalogue: list": (DENIED, DENIED, DENIED, OK),
    "services catalogue: add": (DENIED, DENIED, DENIED, OK),
    "territories: list": (DENIED, DENIED, DENIED, OK),
    "territory: open with its first admin": (DENIED, DENIED, DENIED, OK),
    # a right comes from the role named for it: neither a territorial nor the super admin is admin of A, and
    # the territorial admin, basic in A, does not see the other services' RDVs there
    "lieux: list": (DENIED, None, None, DENIED),
    "agents page: list": (DENIED, None, None, DENIED),
    "rdv other service: open": (DENIED, None, None, DENIED),
}

ADMIN_SPACE_ROLES = ("terri", "inviter", "rights_manager", "team_manager", "basic", "admin", "super")
# The territory's Espace Admin ("Agents du territoire", "Équipes"), from the page of A: the territorial admin,
# the holder of each access right of 62 (`allow_to_invite_agents`, `allow_to_manage_access_rights`,
# `allow_to_manage_teams`; basic in A), a basic agent, an organisation admin without territory right, the super
# admin (no role). Then ids of territory 59 sent from the page of A, and 59's own pages.
TERRITORY_ADMIN_SPACE: dict[str, tuple[str | None, ...]] = {
    "territory agents: list": (OK, OK, OK, OK, DENIED, DENIED, DENIED),
    "territory agent: set services": (OK, DENIED, OK, DENIED, DENIED, DENIED, DENIED),
    "territory agent: set another agent's access rights": (OK, DENIED, OK, DENIED, DENIED, DENIED, DENIED),
    "territory agent: set one's own access rights": (OK, DENIED, DENIED, DENIED, DENIED, DENIED, DENIED),
    "territorial admin: name one": (OK, DENIED, DENIED, DENIED, DENIED, DENIED, DENIED),
    "territorial admin: name an intervenant": (INTERVENANT_SIGNS_IN_NOT, DENIED, DENIED, DENIED, DENIED, DENIED,
                                                DENIED),
    "territory agent: give an intervenant access rights": (INTERVENANT_SIGNS_IN_NOT, DENIED, INTERVENANT_SIGNS_IN_NOT,
                                                           DENIED, DENIED, DENIED, DENIED),
    "territorial admin: remove the last one": (LAST_TERRITORIAL_ADMIN, DENIED, DENIED, DENIED, DENIED, DENIED,
                                               DENIED),
    "territory invite: into an organisation where one has a role": (OK, OK, DENIED, DENIED, DENIED, DENIED, DENIED),
    "territory invite: into an organisation where one has no role": (OK, DENIED, DENIED, DENIED, DENIED, DENIED,
                                                                      DENIED),
    "territory invite: as admin where one is basic": (OK, DENIED, DENIED, DENIED, DENIED, DENIED, DENIED),
    "teams: list": (OK, DENIED, DENIED, OK, DENIED, DENIED, DENIED),
    "team: create": (OK, DENIED, DENIED, OK, DENIED, DENIED, DENIED),
    "team: rename": (OK, DENIED, DENIED, OK, DENIED, DENIED, DENIED),
    "team: set members": (OK, DENIED, DENIED, OK, DENIED, DENIED, DENIED),
    "team: delete": (OK, DENIED, DENIED, OK, DENIED, DENIED, DENIED),
    "59's agent via A: set services": (NOT_FOUND, None, NOT_FOUND),
    "59's agent via A: set access rights": (NOT_FOUND, None, NOT_FOUND),
    "59's agent via A: name territorial admin": (NOT_FOUND,),
    "59's team via A: rename": (NOT_FOUND, None, None, NOT_FOUND),
    "59's team via A: delete": (NOT_FOUND, None, None, NOT_FOUND),
    "59's agent via A: team member": (NOT_TERRITORY_AGENT, None, None, NOT_TERRITORY_AGENT),
    "59's organisation via A: invite into it": (DENIED, DENIED),
    "59 directly: its territory agents": (DENIED, DENIED, DENIED, DENIED),
    "59 directly: create a team": (DENIED, None, None, DENIED),
}

INSTANCE_ROLES = ("super", "terri", "admin")
# The super admins' back office, for the super admin, a territorial admin and an organisation admin. Territory
# 59 offers SOCIAL, which none of its agents or motifs use; 62's PMI is in use.
INSTANCE: dict[str, tuple[str, ...]] = {
    "back office: enable a service in a territory": (OK, DENIED, DENIED),
    "back office: disable a service no one uses": (OK, DENIED, DENIED),
    "back office: disable a service in use": (SERVICE_IN_USE, DENIED, DENIED),
    "back office: save SMS settings": (OK, DENIED, DENIED),
    "back office: move an agent": (OK, DENIED, DENIED),
    "back office: search agents": (OK, DENIED, DENIED),
    "back office: search organisations": (OK, DENIED, DENIED),
}

CROSS_ROLES = ("admin", "secretary", "basic")
# Ids of organisation B forged by agents of A: through A they do not exist (or the agent is not one A's
# agents may see); through B the agent has no role.
CROSS_ORGANISATION: dict[str, tuple[str, ...]] = {
    "B's rdv via A: open": (NOT_FOUND, NOT_FOUND, NOT_FOUND),
    "B's rdv via A: change status": (NOT_FOUND, NOT_FOUND, NOT_FOUND),
    "B's rdv via A: move": (NOT_FOUND, NOT_FOUND, NOT_FOUND),
    "B's rdv via A: delete": (NOT_FOUND, DENIED, DENIED),
    "B's motif via A: plan an rdv": (NOT_FOUND, NOT_FOUND, NOT_FOUND),
    "B's lieu via A: plan an rdv": (NOT_FOUND, NOT_FOUND, NOT_FOUND),
    "B's agent via A: plan an rdv": (DENIED, DENIED, DENIED),
    "another territory's usager via A: plan an rdv": (DENIED, DENIED, DENIED),
    "B's agent via A: agenda": (DENIED, DENIED, DENIED),
    "B's agent via A: slots": (DENIED, DENIED, DENIED),
    "B's plage via A: open": (NOT_FOUND, NOT_FOUND, NOT_FOUND),
    "B's plage via A: edit": (NOT_FOUND, NOT_FOUND, NOT_FOUND),
    "B's plage via A: delete": (NOT_FOUND, NOT_FOUND, NOT_FOUND),
    "B's motif via A: in one's own plage": (DENIED, DENIED, DENIED),
    "B's agent via A: plage": (DENIED, DENIED, DENIED),
    "B's absence via A: open": (NOT_FOUND, NOT_FOUND, NOT_FOUND),
    "B's absence via A: delete": (NOT_FOUND, NOT_FOUND, NOT_FOUND),
    "B's agent via A: absence": (DENIED, DENIED, DENIED),
    "B's lieu via A: edit": (NOT_FOUND, DENIED, DENIED),
    "B's motif via A: edit": (NOT_FOUND, DENIED, DENIED),
    "B's motif via A: delete": (NOT_FOUND, DENIED, DENIED),
    "B's webhook via A: delete": (NOT_FOUND, DENIED, DENIED),
    "B's agent via A: change level": (NOT_FOUND, DENIED, DENIED),
    "B's agent via A: remove": (NOT_FOUND, DENIED, DENIED),
    "B's intervenant via A: rename": (NOT_FOUND, DENIED, DENIED),
    "B's intervenant via A: make an agent": (NOT_FOUND, DENIED, DENIED),
    "B's agent via A: make an intervenant": (NOT_FOUND, DENIED, DENIED),
    "B directly: open its rdv": (DENIED, DENIED, DENIED),
    "B directly: agenda": (DENIED, DENIED, DENIED),
    "B directly: delete its plage": (DENIED, DENIED, DENIED),
    "B directly: agents page": (DENIED, DENIED, DENIED),
    "B directly: lieux": (DENIED, DENIED, DENIED),
    "B directly: settings": (DENIED, DENIED, DENIED),
    "B directly: webhooks": (DENIED, DENIED, DENIED),
    "B directly: search its usagers": (DENIED, DENIED, DENIED),
}


@dataclass(frozen=True)
class Cell:
    table: str
    role: str
    action: str
    outcome: str

    @property
    def id(self) -> str:
        return f"{self.role} | {self.action} | {self.outcome}"


def _cells(table: str, roles: tuple[str, ...], rows: dict[str, tuple[str | None, ...]]) -> list[Cell]:
    return [Cell(table, role, action, outcome) for action, outcomes in rows.items()
            for role, outcome in zip(roles + ("intervenant",), outcomes, strict=False) if outcome is not None]


CELLS = (_cells("organisation", ORG_ROLES, ORGANISATION) + _cells("territory", TERRITORY_ROLES, TERRITORY)
         + _cells("territory admin space", ADMIN_SPACE_ROLES, TERRITORY_ADMIN_SPACE)
         + _cells("instance", INSTANCE_ROLES, INSTANCE) + _cells("cross-organisation", CROSS_ROLES, CROSS_ORGANISATION))


def test_matrix_size() -> None:
    """The number of cells, as the module's docstring gives it; every action of the table is used."""
    counts = {table: sum(cell.table == table for cell in CELLS)
              for table in ("organisation", "territory", "territory admin space", "instance", "cross-organisation")}
    print(f"rights matrix: {len(CELLS)} cells {counts}, on SQLite and PostgreSQL")
    assert (len(CELLS), counts) == (517, {"organisation": 220, "territory": 40, "territory admin space": 131,
                                          "instance": 21, "cross-organisation": 105})
    assert {cell.action for cell in CELLS} == set(ACTIONS)
    assert len({cell.id for cell in CELLS}) == len(CELLS)


@pytest.fixture(scope="module")
def as_built(world_copy: DatabaseCopy) -> dict[str, Snapshot]:
    """The world as built, as each kind of action snapshots it (some leave out what a refusal writes)."""
    return {repr(action.ignored): snapshot(world_copy.url, action.ignored) for action in ACTIONS.values()}


@pytest.fixture
def cell_database(world_copy: DatabaseCopy) -> Iterator[str]:
    """The world's working copy, made again from the world as built after a cell that wrote to it."""
    yield world_copy.url
    world_copy.restore_if_written()


@pytest.mark.parametrize("cell", CELLS, ids=[cell.id for cell in CELLS])
def test_rights_matrix(cell_database: str, world_copy: DatabaseCopy, as_built: dict[str, Snapshot],
                       cell: Cell) -> None:
    db_url, world = cell_database, world_copy.built
    action = ACTIONS[cell.action]
    actor = world[cell.role]
    before = snapshot(db_url, action.ignored)
    assert before == as_built[repr(action.ignored)], "the cell does not start from the world as built"
    if cell.outcome in (OK, HIDDEN):
        with UnitOfWork(db_url) as uow:
            result = action.call(uow, world, actor)
        if action.shows is not None:
            assert action.shows(result, world) is (cell.outcome == OK)
        else:
            assert cell.outcome == OK, "only a list can hide a row"
        after = snapshot(db_url, action.ignored)
        assert (after != before) is (action.writes and cell.outcome == OK)
        return
    expected: type[DomainError] = {DENIED: PermissionDenied, NOT_FOUND: NotFound}.get(cell.outcome, DomainError)
    with UnitOfWork(db_url) as uow, pytest.raises(expected) as caught:
        action.call(uow, world, actor)
    if cell.outcome.startswith("refused: "):
        assert not isinstance(caught.value, PermissionDenied | NotFound), caught.value
        assert cell.outcome.removeprefix("refused: ") in caught.value.message
    else:
        assert isinstance(caught.value, expected)
    assert snapshot(db_url, action.ignored) == before


# --------------------------------------------------------------------------- invariants


def _level(db_url: str, agent_id: int, organisation_id: int) -> str:
    with UnitOfWork(db_url, read_only=True) as uow:
        return uow.session.exec(select(AgentRole.access_level).where(
            AgentRole.agent_id == agent_id, AgentRole.organisation_id == organisation_id)).one()


def test_every_organisation_keeps_an_admin(db_url: str, world: W) -> None:
    """The last admin can neither demote themself nor be removed; with a second admin they may step down,
    and the second one is then the last."""
    org, admin = world["org"], world["admin"]
    refused_call(db_url, lambda uow: organisation_agents.change_level(uow, admin, org, admin, "basic"),
                 "au moins un administrateur")
    with UnitOfWork(db_url) as uow:
        organisation_agents.change_level(uow, admin, org, world["colleague"], "admin")
    with UnitOfWork(db_url) as uow:
        organisation_agents.change_level(uow, admin, org, admin, "basic")
    assert _level(db_url, admin, org) == "basic"
    refused_call(db_url, lambda uow: organisation_agents.change_level(uow, world["colleague"], org,
                                                                      world["colleague"], "basic"),
                 "au moins un administrateur")
    # Two admins again: one removes the other, the organisation keeps the one who acted.
    with UnitOfWork(db_url) as uow:
        organisation_agents.change_level(uow, world["colleague"], org, admin, "admin")
    with UnitOfWork(db_url) as uow:
        organisation_agents.remove_agent(uow, world["colleague"], org, admin)
    refused_call(db_url, lambda uow: organisation_agents.change_level(uow, world["colleague"], org,
                                                                      world["colleague"], "basic"),
                 "au moins un administrateur")
    refused_call(db_url, lambda uow: organisation_agents.remove_agent(uow, world["colleague"], org,
                                                                      world["colleague"]),
                 "vous retirer vous-même")


def test_a_closed_admin_account_does_not_count_as_an_admin(db_url: str, world: W) -> None:
    org, admin = world["org"], world["admin"]
    with UnitOfWork(db_url) as uow:
        ghost = make.agent(uow.session, "ancien@arras.test", "Ancien", "Admin", organisation=None,
                           deleted_at=clock.now())
        uow.session.add(AgentRole(agent_id=ghost.id, organisation_id=org, access_level=AccessLevel.ADMIN))
        uow.commit()
    refused_call(db_url, lambda uow: organisation_agents.change_level(uow, admin, org, admin, "basic"),
                 "au moins un administrateur")


def test_every_territory_keeps_a_territorial_admin(db_url: str, world: W) -> None:
    """No service takes the territorial admin role away yet (another part of issue 17 adds one); but an
    organisation admin who removes an agent from their only organisation closes the account, and with it
    its territorial roles: the last territorial admin of a territory cannot be removed so."""
    with UnitOfWork(db_url) as uow:  # `admin_c`, the only territorial admin of 59, joins A: two organisations
        uow.session.add(AgentRole(agent_id=world["admin_c"], organisation_id=world["org"]))
        uow.commit()
    with UnitOfWork(db_url) as uow:  # leaving A keeps the account (and the role) of `admin_c`
        organisation_agents.remove_agent(uow, world["admin"], world["org"], world["admin_c"])
    with UnitOfWork(db_url) as uow:  # `terri`, the only territorial admin of 62, leaves B: A remains
        organisation_agents.remove_agent(uow, world["admin_b"], world["org_b"], world["terri"])
    refused_call(db_url, lambda uow: organisation_agents.remove_agent(uow, world["admin"], world["org"],
                                                                      world["terri"]),
                 "seul administrateur du territoire")
    with UnitOfWork(db_url) as uow:  # a second territorial admin of 62: now `terri` may go
        make.territorial_admin(uow.session, world["admin"], world["territory"])
        uow.commit()
    with UnitOfWork(db_url) as uow:
        assert organisation_agents.remove_agent(uow, world["admin"], world["org"], world["terri"]) == \
            "Le compte agent a été supprimé."

