"""Scale-out (issue 23): two app processes on one PostgreSQL and one Redis, behind a relay that stands for
the load balancer. The pages' states live in Redis, so a usager whose process dies carries on in the
other; the agenda's change feed reads the database, so an agenda served by one process shows what the
other wrote, without a reload."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import psutil
import pytest
from app_server import running_app, server_master, shared_port
from conftest import PHONE, sign_in_agent, sign_up_and_reach_confirmation, week_with_times
from fakes.tcp_proxy import TcpProxy
from pg import Cluster, free_port
from playwright.sync_api import Browser, Locator, Page, WebSocketRoute, expect
from redis_server import running_redis
from sqlmodel import col, func, select

from rdv_app.db.models import Participation, Usager
from rdv_app.db.uow import UnitOfWork

pytestmark = pytest.mark.own_server(builds=True)
# Two servers and three browsers on two cores: a page may take longer than Playwright's 5 s to show.
SLOW = 30_000


def _kill(port: int) -> None:
    """Kills the server listening on `port`, all its processes at once, as a crashed machine would."""
    os.killpg(os.getpgid(server_master(port).pid), signal.SIGKILL)


def _rdvs_of(database_url: str, email: str) -> int:
    with UnitOfWork(database_url) as uow:
        return uow.session.exec(select(func.count()).select_from(Participation).join(Usager)
                                .where(col(Usager.email) == email)).one()


@pytest.fixture
def two_servers(pg_cluster: Cluster, tmp_path: Path) -> Iterator[tuple[TcpProxy, int, int, str]]:
    """Servers A and B (the demo, on PostgreSQL and Redis), the relay in front of them (on A first), and
    the database's URL."""
    database_url = pg_cluster.create_database("scale_out")
    port_a, port_b = shared_port(), free_port()
    with running_redis(tmp_path) as redis_url, TcpProxy(target=port_a) as proxy:
        environment = {"RDV_DEMO": "1", "RDV_SMTP_HOST": "", "REFLEX_REDIS_URL": redis_url,
                       "RDV_PUBLIC_URL": f"http://localhost:{proxy.port}", "RDV_SECRET_KEY": "s" * 40}
        with running_app(database_url, tmp_path, port_a, **environment), \
                running_app(database_url, tmp_path, port_b, **environment):
            yield proxy, port_a, port_b, database_url


def _agenda_of_everyone(page: Page, base_url: str, day: str) -> Locator:
    """The agenda opened on `day`, every agent of the organisation ticked; its checkboxes."""
    page.goto(f"{base_url}/agenda?jour={day}")
    shown = page.get_by_role("group", name="Agendas affichés").get_by_role("checkbox")
    expect(shown.first).to_be_visible(timeout=SLOW)
    for index in range(shown.count()):
        if not shown.nth(index).is_checked():
            shown.nth(index).click()
            expect(shown.nth(index)).to_be_checked()
    expect(page.locator(".fc-timegrid")).to_be_visible()
    return shown


def test_pages_go_on_in_the_other_process_with_their_state_and_agendas_follow_both(
        two_servers: tuple[TcpProxy, int, int, str], browser: Browser) -> None:
    proxy, port_a, port_b, database_url = two_servers
    base_url = f"http://localhost:{proxy.port}"

    def context() -> Page:
        return browser.new_context(locale="fr-FR", timezone_id="Europe/Paris",
                                   viewport={"width": 1280, "height": 900}).new_page()

    # A usager on a phone, through A, stands before "Confirmer mon RDV".
    usager = browser.new_context(**PHONE, locale="fr-FR", timezone_id="Europe/Paris").new_page()
    _chosen, email = sign_up_and_reach_confirmation(usager, base_url, database_url, "Inès", "Garnier")
    day = datetime.fromisoformat(parse_qs(urlparse(usager.url).query)["creneau"][0]).date().isoformat()

    # Camille (admin of PMI Arras) watches that day's agenda of every agent in two browsers: one served
    # by B, one by A.
    proxy.target = port_b
    on_b = context()
    sign_in_agent(on_b, base_url, "camille.martin@demo.test")
    _agenda_of_everyone(on_b, base_url, day)
    proxy.target = port_a
    on_a = context()
    sign_in_agent(on_a, base_url, "camille.martin@demo.test")
    ticked_on_a = _agenda_of_everyone(on_a, base_url, day)

    # Booked on A: the agenda served by B shows it without a reload.
    usager.get_by_role("button", name="Confirmer mon RDV").click()
    expect(usager.get_by_role("heading", name="Votre rendez-vous est confirmé")).to_be_visible()
    expect(on_b.locator(".agenda-rdv", has_text="GARNIER")).to_have_count(1, timeout=SLOW)

    # A second booking, on A up to "Confirmer mon RDV".
    usager.goto(f"{base_url}/prendre_rdv?departement=62")
    usager.get_by_role("link", name=re.compile("^PMI")).click()
    usager.get_by_role("link", name=re.compile("^Pesée et conseils")).click()
    usager.get_by_role("link", name=re.compile("Prochaine disponibilité le")).first.click()
    week_with_times(usager).first.click()
    usager.get_by_role("button", name="Continuer").click()
    usager.get_by_role("link", name="Inès Garnier (moi)").click()
    confirm = usager.get_by_role("button", name="Confirmer mon RDV")
    expect(confirm).to_be_visible()

    # A dies; the relay sends every new connection to B.
    proxy.target = port_b
    _kill(port_a)

    # The usager confirms: the page reconnects to B, which books.
    confirm.click()
    expect(usager.get_by_role("heading", name="Votre rendez-vous est confirmé")).to_be_visible(timeout=SLOW)
    assert _rdvs_of(database_url, email) == 2

    # Camille's page that A served, reloaded, is now B's: the agents she ticked on A are still ticked (the
    # state lived in Redis, not in A), and both RDVs are there.
    on_a.reload()
    expect(on_a.locator(".fc-timegrid")).to_be_visible(timeout=SLOW)
    expect(ticked_on_a.first).to_be_visible()
    for index in range(ticked_on_a.count()):
        expect(ticked_on_a.nth(index)).to_be_checked()
    expect(on_a.locator(".agenda-rdv", has_text="GARNIER").first).to_be_visible()


def _worker_serving(port: int) -> psutil.Process | None:
    """The one worker of the server listening on `port` (None while a fresh worker takes over)."""
    workers = server_master(port).children()
    return workers[0] if len(workers) == 1 else None


def test_a_process_idle_after_a_rush_hands_over_to_a_fresh_one_and_the_booking_carries_on(
        pg_cluster: Cluster, tmp_path: Path, browser: Browser) -> None:
    """rdv_app.recycle, with a quiet spell of 2 s and any growth of memory (60 s and 5 % by default)."""
    database_url = pg_cluster.create_database("recycle")
    port = shared_port()
    with running_redis(tmp_path) as redis_url:
        environment = {"RDV_DEMO": "1", "RDV_SMTP_HOST": "", "REFLEX_REDIS_URL": redis_url,
                       "RDV_SECRET_KEY": "s" * 40, "RDV_RECYCLE_IDLE_SECONDS": "2", "RDV_RECYCLE_GROWTH_PERCENT": "0"}
        with running_app(database_url, tmp_path, port, **environment) as base_url:
            first = _worker_serving(port)
            assert first is not None
            usager = browser.new_context(**PHONE, locale="fr-FR", timezone_id="Europe/Paris").new_page()
            # The page's websocket goes through a relay the test can cut, as a phone loses its network.
            network: dict[str, Any] = {"up": True, "relayed": []}

            def relay(page_side: WebSocketRoute) -> None:
                if not network["up"]:
                    page_side.close()
                    return
                network["relayed"].append((page_side, page_side.connect_to_server()))

            usager.route_web_socket(re.compile(r"/_event"), relay)
            _chosen, email = sign_up_and_reach_confirmation(usager, base_url, database_url, "Inès", "Garnier")
            # Its tab connected all along, the process that served the whole way is still the one serving.
            assert _worker_serving(port) == first
            before = first.memory_info().rss

            # The phone loses its network before « Confirmer mon RDV »: no tab is connected any more, and the
            # process, which grew since its start, hands over to a fresh one.
            network["up"] = False
            for page_side, server_side in network["relayed"]:
                server_side.close()
                page_side.close()
            deadline = time.monotonic() + 60
            while (fresh := _worker_serving(port)) in (None, first) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert fresh not in (None, first), "no fresh worker took over in 60 s"
            assert not first.is_running()
            assert fresh.memory_info().rss < before

            # The network is back: the page reconnects to the fresh process and the booking goes through.
            network["up"] = True
            usager.get_by_role("button", name="Confirmer mon RDV").click()
            expect(usager.get_by_role("heading", name="Votre rendez-vous est confirmé")).to_be_visible(timeout=SLOW)
            assert _rdvs_of(database_url, email) == 1
