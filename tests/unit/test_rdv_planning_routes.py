"""The planning page's address carries its choices; the agenda's says which day to open."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from rdv_app import routes


def test_the_planning_address_keeps_every_choice_and_drops_the_empty_ones() -> None:
    address = routes.rdv_new(motif_id=3, start="2026-12-07T09:30", agent_ids=["2", "14"], lieu_id="",
                             duration=45, usager_ids=["7", "8"])
    parts = urlsplit(address)
    assert parts.path == routes.RDV_NEW == "/agenda/nouveau-rdv"
    assert parse_qs(parts.query) == {"motif": ["3"], "debut": ["2026-12-07T09:30"], "agents": ["2,14"],
                                     "duree": ["45"], "usagers": ["7,8"]}
    assert routes.rdv_new(motif_id=3) == "/agenda/nouveau-rdv?motif=3"


def test_the_agenda_address_opens_a_day_and_names_the_rdv_created() -> None:
    assert routes.agenda() == routes.AGENDA
    assert routes.agenda(day="2026-12-07") == "/agenda?jour=2026-12-07"
    assert routes.agenda(day="2026-12-07", created_rdv_id=12) == "/agenda?jour=2026-12-07&rdv-cree=12"
