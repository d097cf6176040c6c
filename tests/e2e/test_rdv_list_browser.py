"""Issue 19 in the browser (desktop): a basic agent goes to the next page of "Liste des RDV" and back,
filters it (the filters ride in the address, a reload keeps them), exports what is listed, watches "Vos
exports" go from "En création… 0 %" to "Télécharger" without reloading once a worker runs, gets one email,
downloads the file and opens it. axe checks both pages. The app runs with its worker said to be elsewhere, so that the test starts it when the
page shows the export waiting."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_server import running_app
from conftest import sign_in_agent
from fakes.smtp_server import SmtpServer
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from rdv_app.domain.rdv_export import RDV_COLUMNS

pytestmark = pytest.mark.own_server

ROOT = Path(__file__).resolve().parents[2]
AGENT = "julien.petit@demo.test"


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer) -> Iterator[tuple[str, str]]:
    """The demo as `make run` serves it, its worker said to run elsewhere: (url, database url)."""
    data = tmp_path_factory.mktemp("rdv-list")
    db_url = f"sqlite:///{data / 'rdv.db'}"
    with running_app(db_url, data, RDV_DEMO="1", RDV_NOTIFY_WORKER="external", **_mail(smtp)) as base_url:
        yield base_url, db_url


def _mail(smtp: SmtpServer) -> dict[str, str]:
    return {"RDV_SMTP_HOST": "127.0.0.1", "RDV_SMTP_PORT": str(smtp.port),
            "RDV_MAIL_FROM": "RDV Service Public <ne-pas-repondre@rdv.test>"}


def test_filter_the_list_export_it_and_download_the_file(page: Page, server: tuple[str, str], smtp: SmtpServer,
                                                         assert_accessible, tmp_path: Path) -> None:
    base_url, db_url = server
    sign_in_agent(page, base_url, AGENT)
    page.get_by_role("link", name="Liste des RDV", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Liste des RDV")
    status = page.get_by_label("Statut")
    expect(status).to_be_enabled()
    expect(page.get_by_text("En tant qu'agent, vous voyez uniquement les RDV de vos services")).to_be_visible()
    found = page.get_by_role("status").filter(has_text=re.compile(r"\d+ RDV trouvé"))
    expect(found).to_be_visible()
    assert_accessible(page)
    # Pages follow on from one another: the second page's first RDV is not the first page's.
    pages = page.get_by_role("navigation", name="Pages de la liste des RDV")
    expect(pages.get_by_text(re.compile(r"^Page 1 sur \d+$"))).to_be_visible()
    first_rdv = page.get_by_role("rowheader").first.inner_text()
    pages.get_by_role("button", name="Page suivante").click()
    expect(pages.get_by_text(re.compile(r"^Page 2 sur \d+$"))).to_be_visible()
    expect(page.get_by_role("rowheader").first).not_to_have_text(first_rdv)
    pages.get_by_role("button", name="Page précédente").click()
    expect(pages.get_by_text(re.compile(r"^Page 1 sur \d+$"))).to_be_visible()
    expect(page.get_by_role("rowheader").first).to_have_text(first_rdv)
    expect(pages.get_by_role("button", name="Page précédente")).to_be_disabled()

    status.select_option(label="Rendez-vous à venir")
    page.wait_for_url(re.compile(r"statut=unknown_future"))
    expect(page.get_by_role("cell", name="Rendez-vous à venir").first).to_be_visible()
    expect(page.get_by_role("cell", name="Rendez-vous honoré")).to_have_count(0)
    page.reload()
    expect(page.get_by_label("Statut")).to_have_value("unknown_future")
    expect(page.get_by_role("cell", name="Rendez-vous à venir").first).to_be_visible()
    total = int(re.search(r"(\d+) RDV trouvé", found.inner_text()).group(1))  # type: ignore[union-attr]
    assert total > 0

    page.get_by_label("Afficher plus de détails usagers").check()
    expect(page.get_by_role("table").get_by_role("listitem").filter(has_text=" · ").first).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name=f"Exporter les {total} RDVs").click()
    expect(page.get_by_text("Votre export est en cours de création")).to_be_visible()
    page.get_by_role("link", name="Voir vos exports").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vos exports")
    row = page.get_by_role("row").filter(has_text="Export de RDV du")
    expect(row).to_contain_text("En création… 0 %")
    expect(row.get_by_role("progressbar")).to_be_visible()
    assert_accessible(page)

    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen([sys.executable, "-m", "rdv_app.cli", "worker", db_url], cwd=ROOT,
                              env=os.environ | _mail(smtp), stdout=log, stderr=subprocess.STDOUT)
    try:
        download_link = row.get_by_role("link", name=re.compile("^Télécharger"))
        expect(download_link).to_be_visible(timeout=60_000)
        expect(page.get_by_role("status").filter(has_text="Votre export est prêt")).to_be_visible()
        assert_accessible(page)
        mail = smtp.wait_for(AGENT, timeout=30)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert mail["Subject"].startswith("Export des RDVs du ")
    assert "/mes-exports" in mail.get_body(("plain",)).get_content()

    with page.expect_download() as downloaded:
        download_link.click()
    file = downloaded.value
    assert re.fullmatch(r"export-rdv-\d{4}-\d{2}-\d{2}-org-\d{6}\.xlsx", file.suggested_filename)
    saved = tmp_path / file.suggested_filename
    file.save_as(saved)
    rows = list(load_workbook(saved, read_only=True).active.iter_rows(values_only=True))
    assert rows[0] == RDV_COLUMNS
    assert len(rows) == 1 + total
    assert {row[9] for row in rows[1:]} == {"Rendez-vous à venir"}
