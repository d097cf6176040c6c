"""The Rés'In network's link on a phone (issue 21, integrations.md section 2): `/resin/<ids>` opens the
prescripteurs' search, "Accompagnement individuel" at the structures named only, down to the week of slots;
a link naming no structure we know says so."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

import factories as make
from conftest import week_with_times
from playwright.sync_api import Page, expect
from sqlmodel import select

from rdv_app.db.models import Service, Territory
from rdv_app.db.uow import UnitOfWork
from rdv_app.domain import clock
from rdv_app.domain.off_days import holidays_between


def _structures(database_url: str) -> tuple[str, str]:
    """Two structures of the Conseillers Numériques territory with individual support (sur place) open to
    everyone on a working day; the first also with a workshop. Their external ids."""
    suffix = uuid.uuid4().hex[:8]
    day = clock.today("Europe/Paris") + timedelta(days=3)
    off = holidays_between("CN", day, day + timedelta(days=30))
    while day.weekday() >= 5 or day in off:
        day += timedelta(days=1)
    ids = (f"{suffix}1c0c1a2b3c4d5e6f", f"{suffix}2d0c1a2b3c4d5e6f")
    with UnitOfWork(database_url) as uow:
        s = uow.session
        cn = s.exec(select(Territory).where(Territory.departement_number == "CN")).first() \
            or make.territory(s, "CN", "Conseillers Numériques")
        service = s.exec(select(Service).where(Service.name == "Conseiller Numérique")).first() \
            or make.service(s, "Conseiller Numérique", "CNFS")
        for name, external_id in zip((f"Centre social Gerland {suffix}", f"Maison de quartier {suffix}"), ids,
                                     strict=True):
            org = make.organisation(s, cn, name, f"cn-{external_id}", external_id=external_id)
            agent = make.agent(s, f"{external_id}@cn.test", "Camille", "Conseillère", organisation=org,
                               role="admin", services=[service])
            lieu = make.lieu(s, org, name, "2 rue Crépet, 69007 Lyon")
            motif = make.motif(s, org, service, "Accompagnement individuel", bookable_by="everyone")
            make.plage(s, agent, org, lieu, [motif], title="Permanence", first_day=day, start_time=time(9),
                       end_time=time(12))
            if external_id == ids[0]:
                atelier = make.motif(s, org, service, "Atelier collectif", collectif=True, bookable_by="everyone")
                make.rdv(s, org, atelier, datetime.combine(day, time(14)).replace(tzinfo=UTC), agents=[agent],
                         lieu=lieu, duration_in_min=120)
        uow.commit()
    return ids


def test_a_resin_link_leads_a_prescripteur_to_the_slots_of_its_structure(
        phone: Page, app_url: str, app_database_url: str, assert_accessible: Callable[[Page], None]) -> None:
    page = phone
    gerland, _ = _structures(app_database_url)
    page.goto(f"{app_url}/resin/{gerland},0a0c1a2b3c4d5e6f7a8b9c0d")

    expect(page.get_by_role("heading", level=1)).to_have_text("Prendre rendez-vous pour une autre personne")
    expect(page.get_by_role("heading", name="Choisissez un lieu")).to_be_visible()
    expect(page.get_by_text("Accompagnement individuel (sur place)")).to_be_visible()
    lieux = page.locator("main ul a")
    # The structure named only (not the Maison de quartier), and no way back to its workshop.
    expect(lieux).to_have_count(1)
    expect(lieux.first).to_contain_text("Centre social Gerland")
    expect(page.get_by_role("link", name="← Modifier l'étape précédente")).to_have_count(0)
    assert_accessible(page)
    lieux.first.click()

    expect(page.get_by_role("heading", name="Choisissez un horaire")).to_be_visible()
    times = week_with_times(page)
    expect(times.first).to_have_text("09h00")
    assert_accessible(page)

    page.goto(f"{app_url}/resin/0a0c1a2b3c4d5e6f7a8b9c0d")
    expect(page.get_by_role("alert").filter(has_text=re.compile(
        "^Les structures de ce lien ne proposent pas de rendez-vous en ligne"))).to_be_visible()
    assert_accessible(page)
