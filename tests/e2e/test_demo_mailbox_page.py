"""A newcomer to the demo (no SMTP server, as `make run`) books on a phone and signs in with the link that
the demo mailbox shows them, /dev/boite-mail, instead of a real inbox."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from conftest import open_booking_week
from playwright.sync_api import Locator, Page, expect
from sqlmodel import select

from rdv_app.db.models import OutboxMessage
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain.enums import Channel, OutboxStatus


def _no_horizontal_overflow(page: Page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide on a {widths[1]} px screen"


def _wait_for_mail(page: Page, email: str) -> Locator:
    """The mail is delivered right after the commit, or by the worker loop on a busy machine; like the
    newcomer, press "Actualiser" until it is listed (at most half a minute)."""
    mail = page.get_by_role("article").filter(has_text=email).first
    for _ in range(15):
        try:
            expect(mail).to_be_visible(timeout=2000)
            return mail
        except AssertionError:
            page.get_by_role("link", name="Actualiser").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Boîte mail de la démo")
    expect(mail).to_be_visible()
    return mail


def test_a_newcomer_signs_in_with_the_link_of_the_demo_mailbox(
        phone: Page, app_url: str, app_database_url: str, assert_accessible: Callable[[Page], None]) -> None:
    page = phone
    times = open_booking_week(page, app_url, "Pesée et conseils")
    times.first.click()
    email = f"nouvelle-{uuid.uuid4().hex[:8]}@exemple.fr"
    page.get_by_label("Prénom").fill("Inès")
    page.get_by_label("Nom", exact=True).fill("Roux")
    page.get_by_label("Adresse email", exact=True).fill(email)
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_role("status").filter(has_text="Un email vient de vous être envoyé")).to_be_visible()

    page.goto(f"{app_url}/dev/boite-mail")
    expect(page.get_by_role("heading", level=1)).to_have_text("Boîte mail de la démo")
    mail = _wait_for_mail(page, email)
    expect(mail.get_by_role("heading", level=2)).to_have_text("Confirmez votre adresse email")
    assert_accessible(page)
    _no_horizontal_overflow(page)

    mail.get_by_role("link", name="_auth/usager/lien?jeton=").click()
    page.get_by_role("button", name="Me connecter et reprendre ma réservation").click()
    expect(page.get_by_role("heading", name="Vos informations")).to_be_visible()
    expect(page.get_by_label("Prénom")).to_have_value("Inès")

    # Nothing waits for an SMTP server that is not there: no email of the demo failed or awaits a retry.
    with UnitOfWork(app_database_url) as uow:
        mails = uow.session.exec(select(OutboxMessage).where(OutboxMessage.channel == Channel.MAIL.value)).all()
        assert [m.status for m in mails if m.payload["to"] == email] == [OutboxStatus.SENT.value]
        assert [(m.payload["to"], m.last_error) for m in mails
                if m.status == OutboxStatus.FAILED.value or (m.status == OutboxStatus.PENDING.value and m.attempts)] == []
