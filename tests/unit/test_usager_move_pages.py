""""Changer la date" pages of the usager link: what the organisation typed is text, every start is a link
to its confirmation, and the summary offers the change or says why not."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

from rdv_app.api import usager_pages
from rdv_app.services.online_booking.public_search import DaySlots, PublicWeek
from rdv_app.services.usagers.usager_link import MoveChoice, RdvSummary

SUMMARY = RdvSummary(
    rdv_id=7, title="Consultation", when="lundi 7 décembre 2026 à 09h00", duration_in_min=30,
    location_type="public_office", participants=(), lieu_name="Centre Arras", lieu_address="1 rue A",
    map_url=None, phone_number_called=None, home_address=None, instructions=None, organisation_name="PMI Arras",
    contact_phone="03 21 00 00 00", contact_email=None, cancelled=False, past=False, cancel_refusal=None,
    cancel_warning="Voulez-vous vraiment annuler ce rendez-vous ?", book_again_url="/org/1",
)

CHOICE = MoveChoice(title="Consultation <b>PMI</b>", current_starts_at=datetime(2026, 12, 7, 8, tzinfo=UTC),
                    current_when="lundi 7 décembre 2026 à 09h00", new_when="mardi 8 décembre 2026 à 10h00",
                    place="Centre \"Arras\", 1 rue A & B", time_zone="Europe/Paris")
WEEK = PublicWeek(first_day=date(2026, 12, 7), today=date(2026, 12, 4), days=[
    DaySlots(day=date(2026, 12, 7), label="lundi 7 décembre 2026", closed=False,
             times=[("2026-12-07T09:00:00+00:00", "10h00")]),
    DaySlots(day=date(2026, 12, 8), label="mardi 8 décembre 2026", closed=True, times=[]),
], next_availability=None, has_previous=True, has_next=False)


def test_the_summary_offers_the_change_or_says_why_not() -> None:
    assert 'href="/r/7/changer-la-date"' in usager_pages.rdv_summary(dataclasses.replace(SUMMARY, can_edit=True))
    refused = usager_pages.rdv_summary(dataclasses.replace(SUMMARY, edit_notice="Fixé par un <agent>."))
    assert "changer-la-date" not in refused and "Fixé par un &lt;agent&gt;." in refused
    moved = usager_pages.rdv_summary(SUMMARY, just_moved=True)
    assert 'role="status">Votre rendez-vous est déplacé au lundi 7 décembre 2026 à 09h00' in moved


def test_the_week_links_each_start_to_its_confirmation() -> None:
    html = usager_pages.move_week(7, CHOICE, WEEK, notice="Ce créneau n'est plus disponible.")
    assert "Consultation &lt;b&gt;PMI&lt;/b&gt;" in html and "Centre &quot;Arras&quot;, 1 rue A &amp; B" in html
    assert ('href="/r/7/changer-la-date?semaine=2026-12-07&amp;creneau=2026-12-07T09%3A00%3A00%2B00%3A00" '
            'aria-label="lundi 7 décembre 2026 à 10h00">10h00</a>') in html
    assert "Fermé à la réservation en ligne" in html and "← Semaine précédente" in html
    assert "Semaine suivante" not in html
    assert 'role="alert">Ce créneau n&#x27;est plus disponible.' in html


def test_the_confirmation_posts_the_new_and_the_current_start() -> None:
    html = usager_pages.confirm_move(7, CHOICE, "2026-12-08T09:00:00+00:00", "2026-12-07", "token")
    assert '<form method="post" action="/r/7/changer-la-date"' in html
    assert 'name="creneau" value="2026-12-08T09:00:00+00:00"' in html
    assert 'name="depuis" value="2026-12-07T08:00:00+00:00"' in html
    assert "Nouvelle date : mardi 8 décembre 2026 à 10h00" in html
