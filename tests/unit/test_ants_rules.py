"""The ANTS rules as plain data: the hub's time format, addresses, the hub's parameters, numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from rdv_app.domain import ants
from rdv_app.domain.conseillers_numeriques import unique_name


@pytest.mark.parametrize(("instant", "zone", "shown"), [
    (datetime(2026, 3, 29, 7, 30, tzinfo=UTC), "Europe/Paris", "2026-03-29T09:30Z"),  # the day clocks go forward
    (datetime(2026, 10, 25, 8, 30, tzinfo=UTC), "Europe/Paris", "2026-10-25T09:30Z"),  # and back
    (datetime(2026, 12, 31, 23, 15, tzinfo=UTC), "Europe/Paris", "2027-01-01T00:15Z"),
    (datetime(2026, 12, 7, 5, 0, tzinfo=UTC), "Indian/Reunion", "2026-12-07T09:00Z"),
])
def test_the_hub_reads_local_wall_clock_time_with_a_literal_z(instant: datetime, zone: str, shown: str) -> None:
    assert ants.hub_datetime(instant, zone) == shown
    assert ants.appointment_date(instant, zone) == shown.replace("T", " ").replace("Z", ":00")


@pytest.mark.parametrize(("address", "street", "zip_code", "city"), [
    ("89 rue Roger Bouvry, Seclin, 59113", "89 rue Roger Bouvry", "59113", "Seclin"),
    ("Place Augustin Laurent, 59000 Lille", "Place Augustin Laurent", "59000", "Lille"),
    ("1 Place des Héros 62000 Arras", "1 Place des Héros", "62000", "Arras"),
    ("Mairie", "Mairie", "", ""),
])
def test_addresses_split_for_the_hub(address: str, street: str, zip_code: str, city: str) -> None:
    assert ants.split_address(address) == ants.MeetingPointAddress(street, zip_code, city)


def test_the_hubs_parameters() -> None:
    asked = ants.slot_request(["3", "1", "3", "abc"], "2030-01-01", "2030-01-31", "CNI-PASSPORT", None)
    assert asked == ants.SlotRequest((3, 1), date(2030, 1, 1), date(2030, 1, 31), ants.Reason.CNI_PASSPORT, 1)
    with pytest.raises(ants.HubRequestError, match="Invalid reason param"):
        ants.slot_request(["1"], "2030-01-01", "2030-01-01", "cni", "1")
    with pytest.raises(ants.HubRequestError, match="may not exceed"):
        ants.slot_request(["1"], "2030-01-01", "2030-12-31", "CNI", "1")


def test_numbers() -> None:
    assert ants.format_problem(" abcde12345 ") is None
    assert ants.format_problem("ABCDE1234") == ants.FORMAT_ERROR
    assert ants.format_problem("ABCDE-1234") == ants.FORMAT_ERROR
    assert ants.hub_application_ids(["abcde12345", "ABC", "ABCDE123456"]) == ["abcde12345"]
    mine = "https://rdv.exemple.fr/r/1"
    used = [ants.ExistingAppointment("Mairie de Lille", mine)]
    assert ants.number_problem("validated", used, mine) == ants.NumberCheck()
    assert ants.number_problem("validated", used).warning_link == mine
    assert ants.number_problem("weird", []).error == "Ce numéro de pré-demande ANTS n'est pas reconnu par l'ANTS."


def test_structure_names_stay_unique() -> None:
    assert unique_name("Médiathèque", "Lens", set()) == "Médiathèque"
    assert unique_name("Médiathèque", "Lens", {"médiathèque"}) == "Médiathèque - Lens"
    assert unique_name("Médiathèque", "Lens", {"médiathèque", "médiathèque - lens", "médiathèque (2)"}) == \
        "Médiathèque (3)"
