""""Liste des RDV" on SQLite and PostgreSQL: every filter, the statuses split by time, the visibility rule
of the rights module (a basic agent sees their services' RDVs and those they are on), several
organisations in their own time zones, and refusals that say why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import factories as make
import pytest

from rdv_app.db.models import AgentRole, Rdv
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.rdv_list import RdvFilters, parse_query
from rdv_app.services.errors import InvalidInput, NotFound, PermissionDenied
from rdv_app.services.rdv import rdv_search

# The list is read at this instant: the data is built around it (a Wednesday, 15:00 in Paris).
NOW = datetime(2026, 12, 9, 14, 0, tzinfo=UTC)
DAY = date(2026, 12, 9)


@dataclass
class World:
    org: int
    cayenne: int
    far: int
    admin: int
    pmi_agent: int
    social_agent: int
    secretary: int
    usager: int
    other_usager: int
    lieu: int
    pmi_motif: int
    social_motif: int
    rdvs: dict[str, int]


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    s = uow.session
    territory = make.territory(s)
    pmi, social, secretariat = make.pmi_social_secretariat(s)
    org = make.organisation(s, territory)
    cayenne = make.organisation(s, territory, "MDS Cayenne", "mds-cayenne", timezone="America/Cayenne")
    far = make.organisation(s, make.territory(s, "59", "Nord"), "PMI Lille", "pmi-lille")
    admin = make.agent(s, "admin@demo.test", "Alice", "Admin", organisation=org, role="admin", services=[pmi])
    pmi_agent = make.agent(s, "pmi@demo.test", "Paul", "Pmi", organisation=org, services=[pmi])
    social_agent = make.agent(s, "social@demo.test", "Sophie", "Social", organisation=org, services=[social])
    secretary = make.agent(s, "sec@demo.test", "Sam", "Secret", organisation=org, services=[secretariat])
    s.add(AgentRole(agent_id=admin.id, organisation_id=cayenne.id, access_level="admin"))
    lieu = make.lieu(s, org)
    pmi_motif = make.motif(s, org, pmi, "Consultation PMI")
    social_motif = make.motif(s, org, social, "Entretien social")
    cayenne_motif = make.motif(s, cayenne, pmi, "Consultation Cayenne")
    far_motif = make.motif(s, far, pmi, "Consultation Lille")
    usager = make.usager(s, "Jeanne", "Dupont", organisations=[org], birth_date=date(1990, 3, 14),
                         phone_number="06 12 34 56 78", email="jeanne@example.fr")
    other_usager = make.usager(s, "Marc", "Lambert", organisations=[org])
    stranger = make.usager(s, "Marius", "Nord", organisations=[far])
    paris = make.at_paris
    rdvs = {
        "past_unknown": make.rdv(s, org, pmi_motif, paris(DAY - timedelta(days=2), 10), agents=[pmi_agent],
                                 usagers=[usager], lieu=lieu),
        "past_seen": make.rdv(s, org, pmi_motif, paris(DAY - timedelta(days=1), 9), agents=[pmi_agent],
                              usagers=[other_usager], lieu=lieu, status="seen"),
        "future_unknown": make.rdv(s, org, pmi_motif, paris(DAY + timedelta(days=1), 11), agents=[admin],
                                   usagers=[usager], lieu=lieu),
        "social_excused": make.rdv(s, org, social_motif, paris(DAY, 16), agents=[social_agent],
                                   usagers=[other_usager], status="excused", cancelled_at=NOW),
        # A social RDV the PMI agent is on: they see it although it is not of their service.
        "social_with_pmi": make.rdv(s, org, social_motif, paris(DAY + timedelta(days=3), 14),
                                    agents=[social_agent, pmi_agent], usagers=[usager], status="revoked",
                                    cancelled_at=NOW),
        "social_noshow": make.rdv(s, org, social_motif, paris(DAY - timedelta(days=5), 8), agents=[social_agent],
                                  usagers=[usager], status="noshow", cancelled_at=NOW),
        # 23:30 in Cayenne on the 9th is 02:30 UTC on the 10th: a day of Cayenne, not of Paris.
        "cayenne": make.rdv(s, cayenne, cayenne_motif, datetime(2026, 12, 10, 2, 30, tzinfo=UTC),
                            agents=[admin], duration_in_min=20),
        "far": make.rdv(s, far, far_motif, paris(DAY, 10), agents=[], usagers=[stranger]),
    }
    uow.commit()
    return World(org.id, cayenne.id, far.id, admin.id, pmi_agent.id, social_agent.id, secretary.id, usager.id,
                 other_usager.id, lieu.id, pmi_motif.id, social_motif.id, {k: v.id for k, v in rdvs.items()})


def _listed(uow: UnitOfWork, world: World, agent: int, **filters: object) -> list[str]:
    page = rdv_search.search_rdvs(uow, agent, world.org, RdvFilters(**filters), now=NOW)  # type: ignore[arg-type]
    names = {v: k for k, v in world.rdvs.items()}
    return [names[line.id] for line in page.lines]


ORG_RDVS = ["social_noshow", "past_unknown", "past_seen", "social_excused", "future_unknown", "social_with_pmi"]


def test_admins_and_secretaries_see_every_rdv_of_the_organisation_by_start(uow: UnitOfWork, world: World) -> None:
    assert _listed(uow, world, world.admin) == ORG_RDVS
    assert _listed(uow, world, world.secretary) == ORG_RDVS


def test_a_basic_agent_sees_their_services_rdvs_and_those_they_are_on(uow: UnitOfWork, world: World) -> None:
    assert _listed(uow, world, world.pmi_agent) == ["past_unknown", "past_seen", "future_unknown", "social_with_pmi"]
    assert _listed(uow, world, world.social_agent) == ["social_noshow", "social_excused", "social_with_pmi"]
    page = rdv_search.search_rdvs(uow, world.pmi_agent, world.org, RdvFilters(), now=NOW)
    assert page.banner == ("En tant qu'agent, vous voyez uniquement les RDV de vos services (PMI) de "
                           "l'organisation. Vous voyez également les RDV auxquels vous êtes associé.",)
    admin_page = rdv_search.search_rdvs(uow, world.admin, world.org, RdvFilters(), now=NOW)
    assert admin_page.banner == ("En tant qu'administrateur, vous voyez tous les RDV de l'organisation.",)


@pytest.mark.parametrize(("status", "expected"), [
    ("seen", ["past_seen"]),
    ("excused", ["social_excused"]),
    ("revoked", ["social_with_pmi"]),
    ("noshow", ["social_noshow"]),
    ("unknown_past", ["past_unknown"]),
    ("unknown_future", ["future_unknown"]),
])
def test_status_filter_splits_unknown_at_now(uow: UnitOfWork, world: World, status: str,
                                             expected: list[str]) -> None:
    assert _listed(uow, world, world.admin, status=status) == expected


def test_agent_usager_lieu_and_motif_filters(uow: UnitOfWork, world: World) -> None:
    assert _listed(uow, world, world.admin, agent_id=world.social_agent) == [
        "social_noshow", "social_excused", "social_with_pmi"]
    assert _listed(uow, world, world.admin, usager_id=world.usager) == [
        "social_noshow", "past_unknown", "future_unknown", "social_with_pmi"]
    assert _listed(uow, world, world.admin, lieu_ids=(world.lieu,)) == ["past_unknown", "past_seen", "future_unknown"]
    assert _listed(uow, world, world.admin, motif_ids=(world.social_motif,), usager_id=world.other_usager) == [
        "social_excused"]
    page = rdv_search.search_rdvs(uow, world.admin, world.org, RdvFilters(usager_id=world.usager), now=NOW)
    assert page.usager_name == "DUPONT Jeanne"
    jeanne = page.lines[0].usagers[0]
    assert (jeanne.name, jeanne.phone_number, jeanne.email) == ("DUPONT Jeanne", "06 12 34 56 78",
                                                                 "jeanne@example.fr")
    assert jeanne.birth_date is not None and jeanne.birth_date.startswith("14/03/1990")


@pytest.mark.parametrize("few_rdvs", [rdv_search.FEW_RDVS, 1], ids=["ids-read-first", "many-rdvs-subquery"])
def test_an_usagers_rdvs_keep_the_visibility_rule(uow: UnitOfWork, world: World, monkeypatch: pytest.MonkeyPatch,
                                                  few_rdvs: int) -> None:
    """An usager's RDVs are looked up by id when they are few, through a subquery beyond: the same lines,
    each organisation's rule applied (the PMI agent does not see Jeanne's social RDV they are not on)."""
    monkeypatch.setattr(rdv_search, "FEW_RDVS", few_rdvs)
    assert _listed(uow, world, world.pmi_agent, usager_id=world.usager) == [
        "past_unknown", "future_unknown", "social_with_pmi"]
    assert _listed(uow, world, world.admin, usager_id=world.usager, status="noshow") == ["social_noshow"]
    page = rdv_search.search_rdvs(uow, world.admin, world.org, RdvFilters(
        organisation_ids=(world.org, world.cayenne), usager_id=world.usager), now=NOW)
    assert page.total == 4


def test_period_is_in_local_days(uow: UnitOfWork, world: World) -> None:
    assert _listed(uow, world, world.admin, start=DAY, end=DAY) == ["social_excused"]
    assert _listed(uow, world, world.admin, start=DAY - timedelta(days=1), end=DAY + timedelta(days=1)) == [
        "past_seen", "social_excused", "future_unknown"]
    both = (world.org, world.cayenne)
    assert _listed(uow, world, world.admin, organisation_ids=both, start=DAY, end=DAY) == [
        "social_excused", "cayenne"]
    line = rdv_search.search_rdvs(uow, world.admin, world.org, RdvFilters(organisation_ids=(world.cayenne,)),
                                  now=NOW).lines[0]
    assert (line.day_label, line.hours, line.organisation) == ("mercredi 9 décembre 2026", "23h30 – 23h50",
                                                               "MDS Cayenne")


def test_pages_of_ten_follow_on_from_one_another(uow: UnitOfWork, world: World) -> None:
    """"Page suivante" starts at the next page's first RDV, "Page précédente" ends before the page's first,
    "Rafraîchir la liste" starts again at it: RDVs of the same minute are neither repeated nor skipped."""
    s = uow.session
    added = [make.rdv(s, world.org, world.pmi_motif, make.at_paris(DAY + timedelta(days=10), 8)
                      + timedelta(minutes=min(index, 8)), agents=[world.admin]) for index in range(15)]
    uow.commit()

    def page(**where: object) -> rdv_search.RdvPage:
        return rdv_search.search_rdvs(uow, world.admin, world.org, RdvFilters(), now=NOW, **where)  # type: ignore[arg-type]

    first = page()
    second = page(start=first.next)
    third = page(start=second.next)
    assert (first.total, first.total_exact) == (21, True)
    assert [len(p.lines) for p in (first, second, third)] == [10, 10, 1]
    assert [line.id for p in (first, second, third) for line in p.lines] == [
        *(world.rdvs[name] for name in ORG_RDVS), *(rdv.id for rdv in added)]
    assert (first.start, third.next) == (None, None)
    back = page(before=third.start)
    assert [line.id for line in back.lines] == [line.id for line in second.lines]
    assert back.start == second.start and back.next == third.start
    assert page(before=back.start) == first
    assert page(start=second.start) == second
    s.delete(s.get(Rdv, added[-1].id))
    uow.commit()
    gone = page(start=third.start)  # its only RDV deleted meanwhile: the first page
    assert gone.start is None and [line.id for line in gone.lines] == [line.id for line in first.lines]


def test_pages_of_several_organisations_keep_the_order_of_their_starts(uow: UnitOfWork, world: World,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    both = RdvFilters(organisation_ids=(world.org, world.cayenne))
    everything = [line.id for line in rdv_search.search_rdvs(uow, world.admin, world.org, both, now=NOW).lines]
    monkeypatch.setattr(rdv_search, "PAGE_SIZE", 2)
    walked, start = [], None
    while True:
        found = rdv_search.search_rdvs(uow, world.admin, world.org, both, start=start, now=NOW)
        walked += [line.id for line in found.lines]
        if found.next is None:
            break
        start = found.next
    assert walked == everything and len(everything) == 7


def test_the_list_counts_up_to_a_limit(uow: UnitOfWork, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond COUNT_LIMIT the list says "more than" (an export counts them all); filters count exactly below."""
    monkeypatch.setattr(rdv_search, "COUNT_LIMIT", 5)
    found = rdv_search.search_rdvs(uow, world.admin, world.org, RdvFilters(), now=NOW)
    assert (found.total, found.total_exact, len(found.lines)) == (5, False, 6)
    both = rdv_search.search_rdvs(uow, world.admin, world.org, RdvFilters(organisation_ids=(world.org, world.cayenne)),
                                  now=NOW)
    assert (both.total, both.total_exact) == (5, False)
    pmi = rdv_search.search_rdvs(uow, world.pmi_agent, world.org, RdvFilters(), now=NOW)
    assert (pmi.total, pmi.total_exact) == (4, True)
    # The agent filter counts from the agent's RDVs, the visibility rule still applied.
    on_social = rdv_search.search_rdvs(uow, world.pmi_agent, world.org, RdvFilters(agent_id=world.social_agent),
                                       now=NOW)
    assert (on_social.total, [line.id for line in on_social.lines]) == (1, [world.rdvs["social_with_pmi"]])
    # The page then asks for the exact count, under the same visibility rule.
    assert rdv_search.count_all(uow, world.pmi_agent, world.org, RdvFilters(), now=NOW) == 4
    monkeypatch.setattr(rdv_search, "COUNT_LIMIT", 1_000)
    everything = rdv_search.search_rdvs(uow, world.admin, world.org, RdvFilters(), now=NOW)
    assert everything.total_exact and everything.total > 5
    assert rdv_search.count_all(uow, world.admin, world.org, RdvFilters(), now=NOW) == everything.total
    with pytest.raises(PermissionDenied):
        rdv_search.count_all(uow, world.pmi_agent, world.org, RdvFilters(organisation_ids=(world.far,)), now=NOW)


def test_refusals_name_what_is_wrong(uow: UnitOfWork, world: World) -> None:
    with pytest.raises(PermissionDenied):
        rdv_search.search_rdvs(uow, world.pmi_agent, world.org, RdvFilters(organisation_ids=(world.far,)), now=NOW)
    with pytest.raises(NotFound, match="usager"):
        rdv_search.search_rdvs(uow, world.admin, world.org, RdvFilters(usager_id=world.rdvs["far"] + 1000), now=NOW)
    with pytest.raises(NotFound, match="motif"):
        rdv_search.search_rdvs(uow, world.admin, world.org, RdvFilters(motif_ids=(world.pmi_motif + 100,)), now=NOW)
    with pytest.raises(InvalidInput):
        rdv_search.search_rdvs(uow, world.admin, world.org, RdvFilters(agent_id=-3), now=NOW)


def test_choices_follow_the_rights(uow: UnitOfWork, world: World) -> None:
    pmi = rdv_search.list_choices(uow, world.pmi_agent, world.org)
    assert [m.label for m in pmi.motifs] == ["Consultation PMI"]
    assert [a.label for a in pmi.agents] == ["Alice Admin", "Paul Pmi"]
    admin = rdv_search.list_choices(uow, world.admin, world.org)
    assert [o.label for o in admin.organisations] == ["MDS Cayenne", "PMI Arras"]


def test_query_string_round_trip() -> None:
    from urllib.parse import parse_qsl, urlsplit

    from rdv_app import routes
    url = routes.rdv_list(organisation_ids=[3, 4], agent_id=5, usager_id=6, lieu_ids=[7], motif_ids=[8, 9],
                          status="unknown_past", start="2026-12-01", end="2026-12-31")
    parsed = parse_query(dict(parse_qsl(urlsplit(url).query)))
    assert parsed.ignored == ()
    assert parsed.filters == RdvFilters((3, 4), 5, 6, (7,), (8, 9), "unknown_past", date(2026, 12, 1),
                                        date(2026, 12, 31))
    bad = parse_query({"statut": "perdu", "du": "hier", "agent": "x", "motifs": "1,a"})
    assert bad.ignored == ("motifs", "agent", "statut", "début de période")
    assert bad.filters == RdvFilters(motif_ids=(1,))
