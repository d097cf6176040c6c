"""Browser tests: the real production server (one port) in Debian's chromium, with an axe check."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from app_server import running_app, shared_port
from fakes.ants_hub import FakeAntsHub
from fakes.ban_server import FakeBan
from fakes.microsoft_graph import FakeMicrosoft
from fakes.oidc_provider import FakeFranceConnect
from playwright.sync_api import Browser, Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from sqlmodel import col, select

from rdv_app.db.models import OutboxMessage
from rdv_app.db.uow import UnitOfWork

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
DEMO_PASSWORD = "RdvDemo-2026!"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The browser tests run after the other rings (Playwright's synchronous API keeps its event loop in
    the main thread, where the other rings call `asyncio.run`); among them, the tests that start their own
    server rebuild the shared `.web` export, which would pull the files from under the session's `app_url`
    server: they run last, once no test needs that server any more. Those that build for a port of their
    own (`own_server(builds=True)`) come after those that share one build (tests/app_server.py)."""
    here = Path(__file__).parent

    def order(item: pytest.Item) -> tuple[bool, bool, bool]:
        own_server = item.get_closest_marker("own_server")
        return (here in Path(str(item.path)).parents, own_server is not None,
                own_server is not None and own_server.kwargs.get("builds", False))

    items.sort(key=order)


@pytest.fixture(scope="session", autouse=True)
def patient_expectations() -> None:
    """What a person waits for gets 15 seconds: the suite's machine may be loaded (two cores, the server's
    worker, chromium), and a journey chains many round trips. Failures still come at once when the page
    shows something else."""
    expect.set_options(timeout=15_000)


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A page on a phone (390×844, touch), in French and in Paris's time zone, as the usagers' tests use."""
    context = browser.new_context(**PHONE, locale="fr-FR", timezone_id="Europe/Paris")
    yield context.new_page()
    context.close()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {**browser_type_launch_args,
            "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
            "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    # 1440 px wide: the agents' navigation shows its links from there (below, they fold behind "Menu", which
    # tests/e2e/test_agenda_team.py drives at 1280×720).
    return {**browser_context_args, "locale": "fr-FR", "timezone_id": "Europe/Paris",
            "viewport": {"width": 1440, "height": 900}}


@pytest.fixture(scope="session")
def app_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The database behind `app_url`: tests may change it as another agent would."""
    return f"sqlite:///{tmp_path_factory.mktemp('app') / 'rdv.db'}"


@pytest.fixture(scope="session")
def franceconnect() -> Iterator[FakeFranceConnect]:
    """The loopback OpenID provider the served app uses as FranceConnect."""
    with FakeFranceConnect() as provider:
        yield provider


@pytest.fixture(scope="session")
def ban() -> Iterator[FakeBan]:
    """The loopback Base Adresse Nationale the served app asks for address suggestions."""
    with FakeBan() as server:
        yield server


@pytest.fixture(scope="session")
def ants_hub() -> Iterator[FakeAntsHub]:
    """The loopback ANTS hub whose coordination API the served app calls."""
    with FakeAntsHub() as hub:
        yield hub


@pytest.fixture(scope="session")
def microsoft() -> Iterator[FakeMicrosoft]:
    """The loopback Microsoft identity platform and Graph the served app syncs Outlook calendars with."""
    with FakeMicrosoft() as server:
        yield server


@pytest.fixture(scope="session")
def app_url(app_database_url: str, franceconnect: FakeFranceConnect, ban: FakeBan, ants_hub: FakeAntsHub,
            microsoft: FakeMicrosoft,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Migrates and seeds a fresh SQLite database, then serves the demo exactly as `make run` does, on the
    shared port: the tests that start a server of their own, last, serve the frontend built for it."""
    port = shared_port()
    franceconnect.redirect_uris.add(f"http://localhost:{port}/_auth/franceconnect/retour")
    microsoft.redirect_uris.add(f"http://localhost:{port}/_auth/outlook/retour")
    with running_app(
        app_database_url, tmp_path_factory.mktemp("server"), port, RDV_DEMO="1",
        # A writer is refused after 10 s of SQLite's lock held elsewhere (test_database_refusals), not 30.
        RDV_SQLITE_BUSY_TIMEOUT="10",
        # No SMTP server, as in `make run`: emails go to the demo mailbox (/dev/boite-mail).
        RDV_SMTP_HOST="",
        RDV_BAN_URL=ban.url,
        RDV_ANTS_API_URL=ants_hub.url, RDV_ANTS_API_TOKEN=ants_hub.token,
        **franceconnect.environment(),
        **microsoft.environment(),
    ) as base_url:
        yield base_url


# axe-core from npm at the version of tests/js/bun.lock (scripts/setup.sh testtools installs it).
AXE_SOURCE = Path(__file__).parents[1] / "js" / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.2 level AA (every level's A and AA criteria) and axe's best practices; target-size (2.5.8) is off
# unless asked for.
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa",
                                                     "best-practice"]},
               "rules": {"target-size": {"enabled": True}}, "resultTypes": ["violations"]}


def axe_report(violations: list[dict]) -> str:
    """axe's violations as lines a person can act on: the rule, its help, and each element (selector, HTML)."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} {violation['helpUrl']}")
        lines += [f"  {' '.join(map(str, node['target']))} {node['html'][:300]}: {node['failureSummary']}"
                  for node in violation["nodes"]]
    return "\n".join(lines)


@pytest.fixture(scope="session")
def axe_source() -> str:
    assert AXE_SOURCE.exists(), "axe-core is missing: run scripts/setup.sh jstools"
    return AXE_SOURCE.read_text()


# The page's finite animations and transitions (a spinner's run forever) have ended.
SETTLED = """() => Promise.all(document.getAnimations()
    .filter(animation => animation.effect && animation.effect.getComputedTiming().iterations !== Infinity)
    .map(animation => animation.finished.catch(() => null)))"""

# What axe must not read mid-opening: Radix's dialogs and alert dialogs (their overlay is an ancestor), the
# DSFR's modals, and Radix's open contents (popovers, menus, tooltips: "open", "delayed-open", "instant-open").
DIALOGS = "[role=dialog], [role=alertdialog], dialog[open], [data-state$=open]"
# The shown dialogs still opening or closing: an animation or transition of theirs (inside them, or on an
# ancestor such as the overlay) runs, or an open one, or one of its ancestors, is not yet fully opaque
# (React may mount a dialog a frame before its fade-in starts). Each as a line saying what and why.
UNSETTLED_DIALOGS = """selector => {
    const moving = animation => (animation.pending || animation.playState === 'running') && animation.effect
        && animation.effect.getComputedTiming().iterations !== Infinity;
    const unsettled = [];
    for (const dialog of document.querySelectorAll(selector)) {
        if (!dialog.checkVisibility({visibilityProperty: true, checkVisibilityCSS: true})) continue;
        const chain = [];
        for (let node = dialog; node; node = node.parentElement) chain.push(node);
        const animating = dialog.getAnimations({subtree: true})
            .concat(...chain.slice(1).map(node => node.getAnimations())).some(moving);
        const faded = dialog.dataset.state !== 'closed'
            && chain.find(node => getComputedStyle(node).opacity !== '1');
        if (animating || faded) {
            const name = (dialog.getAttribute('aria-label') || dialog.textContent || '').trim().slice(0, 60);
            unsettled.push(`<${dialog.tagName.toLowerCase()} role=${dialog.getAttribute('role')} `
                + `data-state=${dialog.dataset.state}> « ${name} »: `
                + (animating ? 'still animating' : `opacity ${getComputedStyle(faded).opacity} on <`
                   + `${faded.tagName.toLowerCase()} class="${faded.className}">`));
        }
    }
    return unsettled;
}"""
# Counts the animations and transitions that start on a dialog (or on an element holding one, as Radix's
# overlay) from the first call on the page: one that starts while axe reads the page makes it read again.
DIALOG_STARTS = """selector => {
    if (window.__axeDialogStarts === undefined) {
        window.__axeDialogStarts = 0;
        const count = event => {
            const target = event.target;
            if (target instanceof Element && (target.closest(selector)
                    || target.querySelector('[role=dialog], [role=alertdialog], dialog[open]')))
                window.__axeDialogStarts += 1;
        };
        for (const type of ['animationstart', 'transitionrun']) document.addEventListener(type, count, true);
    }
    return window.__axeDialogStarts;
}"""
SETTLE_TIMEOUT_MS = 15_000


def wait_for_dialogs_settled(page: Page) -> None:
    """Waits (15 s at most) until every shown dialog has finished opening or closing: fully opaque, nothing
    of it animating; fails saying which dialog never settled."""
    try:
        page.wait_for_function(f"selector => ({UNSETTLED_DIALOGS})(selector).length === 0", arg=DIALOGS,
                               polling="raf", timeout=SETTLE_TIMEOUT_MS)
    except PlaywrightTimeoutError:
        unsettled = page.evaluate(UNSETTLED_DIALOGS, DIALOGS)
        raise AssertionError(f"A dialog was still opening or closing after {SETTLE_TIMEOUT_MS // 1000} s, "
                             "axe would read it washed out:\n" + "\n".join(unsettled)) from None


@pytest.fixture
def assert_accessible(axe_source: str) -> Callable[[Page], None]:
    """Runs axe-core on the page as a person sees it once it has settled (its transitions ended, every shown
    dialog fully opened: a dialog fading in has washed-out colours); a dialog that starts opening while axe
    reads the page makes it wait and read again (three reads at most). Any violation fails the test with
    axe's report."""

    def check(page: Page) -> None:
        page.wait_for_load_state("networkidle")
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(axe_source)
        for _ in range(3):
            page.evaluate(SETTLED)
            wait_for_dialogs_settled(page)
            starts = page.evaluate(DIALOG_STARTS, DIALOGS)
            violations = page.evaluate("options => axe.run(document, options).then(r => r.violations)",
                                       AXE_OPTIONS)
            if page.evaluate(DIALOG_STARTS, DIALOGS) == starts:
                break
        assert not violations, axe_report(violations)

    return check


def sign_in_agent(page: Page, base_url: str, email: str, password: str = DEMO_PASSWORD) -> None:
    """Signs in on `base_url` and stands on the workspace (an agent of several organisations picks the first
    organisation listed)."""
    page.goto(f"{base_url}/connexion")
    page.get_by_label("Adresse email").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    chooser = page.locator("main li button")
    expect(page.get_by_role("heading", name=re.compile(r"^Bonjour")).or_(chooser.first).first).to_be_visible()
    if "/organisations" in page.url:
        chooser.first.click()
    page.wait_for_url(f"{base_url}/espace**")
    expect(page.get_by_role("heading", name=re.compile(r"^Bonjour"))).to_be_visible()


@pytest.fixture
def login_as(page: Page, app_url: str) -> Callable[[str], None]:
    def login(email: str, password: str = DEMO_PASSWORD) -> None:
        sign_in_agent(page, app_url, email, password)

    return login


def week_with_times(page: Page) -> Locator:
    """On a public booking week: moves on (six weeks at most) to the first week offering times; returns
    its time buttons."""
    times = page.locator("section ul a")
    expect(page.get_by_role("heading", name=re.compile("^Semaine du "))).to_be_visible()
    for _ in range(6):
        if times.count():
            break
        to_next_week(page)
    expect(times.first).to_be_visible()
    return times


def to_next_week(page: Page) -> None:
    """On a public booking week: « Semaine suivante → » clicked, until the next week's title shows."""
    title = page.get_by_role("heading", name=re.compile("^Semaine du "))
    previous = title.text_content() or ""
    page.get_by_role("link", name="Semaine suivante →").click()
    expect(title).not_to_have_text(previous)


def open_booking_week(page: Page, base_url: str, motif: str) -> Locator:
    """/prendre_rdv in the Pas-de-Calais, PMI, the motif, the first lieu: the first week with times."""
    page.goto(f"{base_url}/prendre_rdv?departement=62")
    page.get_by_role("link", name=re.compile("^PMI")).click()
    page.get_by_role("link", name=re.compile(f"^{re.escape(motif)}")).click()
    page.get_by_role("link", name=re.compile("Prochaine disponibilité le")).first.click()
    return week_with_times(page)


def sign_in_link(database_url: str, email: str) -> str:
    """The sign-in link of the last email sent to `email` (the demo has no SMTP server: the outbox holds it)."""
    with UnitOfWork(database_url) as uow:
        payloads = uow.session.exec(select(OutboxMessage.payload).where(OutboxMessage.channel == "mail")
                                    .order_by(col(OutboxMessage.id))).all()
    texts = [p["text"] for p in payloads if p.get("to") == email]
    assert texts, f"no email to {email}"
    found = re.search(r"https?://\S+/_auth/usager/lien\?jeton=\S+", texts[-1])
    assert found, texts[-1]
    return found.group(0)


def sign_up_and_reach_confirmation(page: Page, base_url: str, database_url: str, first_name: str,
                                   last_name: str) -> tuple[str, str]:
    """From the first time of the "Pesée et conseils" week: a new account by email, the link, the
    informations, "moi": the usager stands before "Confirmer mon RDV". The time chosen (its label) and
    the account's email."""
    first_time = open_booking_week(page, base_url, "Pesée et conseils").first
    chosen = first_time.get_attribute("aria-label") or ""
    first_time.click()
    email = f"usager-{uuid.uuid4().hex[:8]}@exemple.fr"
    page.get_by_label("Prénom").fill(first_name)
    page.get_by_label("Nom", exact=True).fill(last_name)
    page.get_by_label("Adresse email", exact=True).fill(email)
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_role("status").filter(has_text="Un email vient de vous être envoyé")).to_be_visible()
    page.goto(sign_in_link(database_url, email))
    page.get_by_role("button", name="Me connecter et reprendre ma réservation").click()
    page.get_by_role("button", name="Continuer").click()
    page.get_by_role("link", name=f"{first_name} {last_name} (moi)").click()
    expect(page.get_by_role("button", name="Confirmer mon RDV")).to_be_visible()
    return chosen, email
