"""The usager link's HTML: what an organisation typed is shown as text, never as markup."""

from __future__ import annotations

import dataclasses

from rdv_app.api import usager_pages
from rdv_app.services.usagers.usager_link import DEFAULT_CANCEL_WARNING, RdvSummary

SUMMARY = RdvSummary(
    rdv_id=7, title="Consultation <b>PMI</b>", when="lundi 7 décembre 2026 à 09h00", duration_in_min=30,
    location_type="public_office", participants=(), lieu_name="Centre \"Arras\"", lieu_address="1 rue A & B",
    map_url="https://www.openstreetmap.org/search?query=1+rue+A", phone_number_called=None, home_address=None,
    instructions="<script>alert(1)</script>\nApportez le carnet.", organisation_name="PMI Arras",
    contact_phone="03 21 00 00 00", contact_email="pmi@demo.test", cancelled=False, past=False,
    cancel_refusal=None, cancel_warning="Prévenez <i>avant</i>", book_again_url="/org/1",
)


def test_texts_are_escaped() -> None:
    html = usager_pages.rdv_summary(SUMMARY)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Consultation &lt;b&gt;PMI&lt;/b&gt;" in html
    assert "Centre &quot;Arras&quot;" in html and "1 rue A &amp; B" in html
    assert "Prévenez &lt;i&gt;avant&lt;/i&gt;" in usager_pages.confirm_cancel(SUMMARY, "token")


def test_the_page_offers_cancellation_only_when_allowed() -> None:
    assert 'href="/r/7/annulation"' in usager_pages.rdv_summary(SUMMARY)
    too_late = usager_pages.rdv_summary(dataclasses.replace(SUMMARY, cancel_refusal="too_late"))
    assert 'href="/r/7/annulation"' not in too_late
    assert "moins de 4 heures" in too_late and 'href="tel:0321000000"' in too_late
    cancelled = usager_pages.rdv_summary(dataclasses.replace(SUMMARY, cancelled=True,
                                                             cancel_refusal="already_cancelled"))
    assert "Reprendre rendez-vous" in cancelled and "Ajouter à mon agenda" not in cancelled


def test_the_default_warning_is_a_question() -> None:
    page = usager_pages.confirm_cancel(dataclasses.replace(SUMMARY, cancel_warning=DEFAULT_CANCEL_WARNING), "t")
    assert DEFAULT_CANCEL_WARNING in page
    assert '<html lang="fr">' in page
