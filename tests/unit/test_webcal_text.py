"""The webcal feed's own RFC 5545 writer: escaping and folding of French texts, read back by icalendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
from hypothesis import given
from hypothesis import strategies as st

from rdv_app.services.agents.webcal import FeedRdv, build_feed

START = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # the night Paris moves to summer time


def _rdv(motif_name: str, lieu_name: str = "Centre", lieu_address: str = "1 rue A, 62000 Arras") -> FeedRdv:
    return FeedRdv(id=7, uuid="6f1c2d1e-0000-4000-8000-000000000007", sequence=1, starts_at=START,
                    ends_at=START + timedelta(hours=2), status="unknown", updated_at=START, name=None,
                    users_count=1, max_participants_count=None, motif_name=motif_name, collectif=False,
                    location_type="public_office", motif_updated_at=START, lieu_name=lieu_name,
                    lieu_address=lieu_address, organisation_timezone="Europe/Paris", territory_timezone="Europe/Paris")


def test_long_accented_texts_are_folded_without_splitting_a_character() -> None:
    name = "Consultation pédiatrique ; vaccinations, bilans de santé et « suivi » des nourrissons — âgés de 0 à 6 ans\\"
    body = build_feed("Élise Lefèvre-Müller sur RDV Services Publics", [_rdv(name * 2)])
    assert all(len(line) <= 75 for line in body.split(b"\r\n"))
    body.decode("utf-8")  # every line is valid UTF-8: no character cut in two
    [event] = icalendar.Calendar.from_ical(body).walk("VEVENT")
    assert str(event["SUMMARY"]) == name * 2


def test_times_across_a_daylight_saving_change_keep_their_instant() -> None:
    [event] = icalendar.Calendar.from_ical(build_feed("Agenda", [_rdv("Consultation")])).walk("VEVENT")
    assert event.decoded("DTSTART") == START and event.decoded("DTEND") == START + timedelta(hours=2)
    assert event.decoded("DTEND").utcoffset() == timedelta(hours=2)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=300),
       st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=200))
def test_any_motif_and_lieu_text_comes_back_unchanged(motif: str, address: str) -> None:
    body = build_feed("Agenda", [_rdv(motif, lieu_address=address)])
    assert all(len(line) <= 75 for line in body.split(b"\r\n"))
    [event] = icalendar.Calendar.from_ical(body).walk("VEVENT")
    assert str(event["SUMMARY"]) == motif
    assert str(event["LOCATION"]) == f"Centre ({address})"
