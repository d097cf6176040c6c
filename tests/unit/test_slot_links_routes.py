"""A slot's link, joined by the browser from the week's base and the slot's value, is the address the route
functions write with the slot (rdv_app.components.slot_week)."""

from __future__ import annotations

from rdv_app import routes


def test_a_moved_rdvs_slot_link_is_the_weeks_base_followed_by_the_slots_value() -> None:
    base = routes.slot_links_base(routes.usager_rdv_move(7, week="2026-12-07"))
    for iso in ("2026-12-07T08:30:00+00:00", "2026-12-07T08:30:00Z"):
        assert base + routes.slot_link_value(iso) == routes.usager_rdv_move(7, week="2026-12-07", slot=iso)


def test_an_address_without_query_opens_one_for_the_slot() -> None:
    base = routes.slot_links_base(routes.PUBLIC_PRESCRIPTEUR)
    assert base + routes.slot_link_value("2026-12-07T08:30:00+00:00") == (
        "/prescripteur?creneau=2026-12-07T08%3A30%3A00%2B00%3A00")
