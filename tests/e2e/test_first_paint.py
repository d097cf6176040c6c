"""First paint on phones (issue 24), over real HTTP against the production server: the hashed assets are
cached for a year and compressed, the HTML is revalidated and compressed, and each public page's HTML, an
organisation's link included, says its title and description and shows its frame before any JavaScript
runs."""

from __future__ import annotations

import gzip
import html
import importlib
import pkgutil
import re
import urllib.request
from dataclasses import dataclass

import brotli
import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

import rdv_app.pages
from rdv_app.config import settings
from rdv_app.pages.template import PAGES

# The pages register themselves when their module is imported, as rdv_app/rdv_app.py imports them all.
for module in pkgutil.iter_modules(rdv_app.pages.__path__):
    importlib.import_module(f"rdv_app.pages.{module.name}")

IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes


def fetch(url: str, accept_encoding: str | None) -> Fetched:
    request = urllib.request.Request(url, headers={"Accept-Encoding": accept_encoding} if accept_encoding else {})
    with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 (the test's own server)
        return Fetched(response.geturl(), response.status,
                       {k.lower(): v for k, v in response.headers.items()}, response.read())


def decoded(fetched: Fetched) -> bytes:
    encoding = fetched.headers.get("content-encoding")
    if encoding == "br":
        return brotli.decompress(fetched.body)
    if encoding == "gzip":
        return gzip.decompress(fetched.body)
    assert encoding is None, encoding
    return fetched.body


def test_hashed_assets_are_immutable_and_compressed(app_url: str) -> None:
    page = fetch(f"{app_url}/prendre_rdv", "br, gzip")
    # The scripts are named in the script that loads them after the first paint (ScriptsAfterFirstPaint).
    assets = re.findall(r'"(/assets/[^"]+\.(?:js|css))"', decoded(page).decode())
    scripts = [a for a in assets if a.endswith(".js")]
    styles = [a for a in assets if a.endswith(".css")]
    assert scripts and styles, assets

    for asset in (scripts[0], styles[0]):
        plain = fetch(f"{app_url}{asset}", None)
        assert plain.status == 200
        assert plain.headers["cache-control"] == IMMUTABLE
        assert "content-encoding" not in plain.headers
        for accepted, expected in (("br, gzip", "br"), ("gzip", "gzip")):
            compressed = fetch(f"{app_url}{asset}", accepted)
            assert compressed.headers["cache-control"] == IMMUTABLE
            assert compressed.headers.get("content-encoding") == expected, (asset, accepted)
            assert "accept-encoding" in compressed.headers.get("vary", "").lower()
            assert len(compressed.body) < len(plain.body) / 2
            assert decoded(compressed) == plain.body


def test_html_is_revalidated_and_compressed(app_url: str) -> None:
    plain = fetch(f"{app_url}/prendre_rdv", None)
    compressed = fetch(f"{app_url}/prendre_rdv", "br, gzip")
    for response in (plain, compressed):
        assert response.url == f"{app_url}/prendre_rdv", "served without a redirect to /prendre_rdv/"
        assert response.status == 200
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["cache-control"] == "no-cache"
    assert compressed.headers.get("content-encoding") == "br"
    assert decoded(compressed) == plain.body
    assert len(compressed.body) < len(plain.body) / 2


def test_a_missing_asset_is_not_cached_for_a_year(app_url: str) -> None:
    request = urllib.request.Request(f"{app_url}/assets/absent-0000.js")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=20)  # noqa: S310
    assert refused.value.code == 404
    assert refused.value.headers.get("cache-control") != IMMUTABLE


PUBLIC_STATIC_PAGES = [page for page in PAGES if page.description and "[" not in page.route
                       and page.route != "404"]


def test_every_public_page_has_a_description_a_phone_shows_whole() -> None:
    """Search engines cut a description past about 160 characters; under 50 it says little."""
    assert {page.route for page in PUBLIC_STATIC_PAGES} >= {"/", "/prendre_rdv", "/connexion", "/mes-rdv"}
    public = [page for page in PAGES if page.description is not None]
    assert [(page.route, len(page.description or "")) for page in public
            if not 50 <= len(page.description or "") <= 160] == []


def assert_shell(text: str, page) -> None:
    """What a phone shows before its JavaScript has run (and what a search engine or a link preview reads):
    the page's title, its description, and the page's header, heading and footer."""
    title = re.search(r"<title>([^<]*)</title>", text)
    assert title, "no title"
    # A title that follows the booking's steps (PublicBookingState.page_title) starts as the booking's own.
    expected = page.title if isinstance(page.title, str) else f"Prendre rendez-vous – {settings.product_name}"
    assert html.unescape(title.group(1)) == expected
    description = re.search(r'<meta (?:content="([^"]*)" name="description"|name="description" content="([^"]*)")',
                            text)
    assert description, "no meta description"
    assert html.unescape(description.group(1) or description.group(2)) == page.description
    body = re.sub(r"<script.*?</script>", "", text[text.index("<body"):], flags=re.S)
    assert "<header" in body and "<main" in body and "<footer" in body
    assert re.search(r"<h1[^>]*>[^<]+</h1>", body), "no heading in the HTML"


@pytest.mark.parametrize("page", PUBLIC_STATIC_PAGES, ids=lambda page: page.route)
def test_the_html_carries_title_and_description_without_javascript(app_url: str, page) -> None:
    assert_shell(decoded(fetch(f"{app_url}{page.route}", "br, gzip")).decode(), page)


# The dynamic public routes, each with an address of the demo's (PMI Arras is organisation 1).
ORGANISATION_LINKS = {"/org/[booking_org]": "/org/1", "/org/[booking_org]/[booking_org_slug]": "/org/1/pmi-arras"}
PUBLIC_DYNAMIC_PAGES = [page for page in PAGES if page.description and "[" in page.route]


@pytest.mark.parametrize("page", PUBLIC_DYNAMIC_PAGES, ids=lambda page: page.route)
def test_an_organisations_link_shows_its_frame_without_javascript(app_url: str, page) -> None:
    """An organisation's link gets the shell pre-rendered for its route (it got React Router's empty SPA
    fallback, which shows nothing before the JavaScript has run and the websocket has answered)."""
    address = f"{app_url}{ORGANISATION_LINKS[page.route]}"
    for accepted in ("br, gzip", None):
        response = fetch(address, accepted)
        assert (response.url, response.status) == (address, 200)
        assert response.headers["cache-control"] == "no-cache"
        text = decoded(response).decode()
        assert_shell(text, page)
        body = re.sub(r"<script.*?</script>", "", text[text.index("<body"):], flags=re.S)
        assert "RDV Services Publics" in body and "Mentions légales" in body and "Chargement…" in body
        # No link to the address it was pre-rendered at (the skip link was one).
        assert "/org/[" not in body
    # An address the route does not match is still no page.
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{app_url}{ORGANISATION_LINKS[page.route]}/a/b/c", timeout=20)  # noqa: S310
    assert refused.value.code == 404


def test_an_organisations_link_hydrates_its_shell_without_an_error(phone: Page, app_url: str,
                                                                   assert_accessible) -> None:
    """The shell becomes the organisation's page in the browser with no console error (a hydration mismatch
    is one, React's #418), its step titled after the organisation, and the skip link still leads to it."""
    errors: list[str] = []
    phone.on("console", lambda message: errors.append(message.text) if _is_error(message) else None)
    phone.on("pageerror", lambda error: errors.append(str(error)))
    phone.goto(f"{app_url}/org/1/pmi-arras")
    expect(phone).to_have_title(re.compile(r"^Choisir .+ – Prendre rendez-vous – PMI Arras$"), timeout=15_000)
    expect(phone.get_by_role("heading", name="Prendre rendez-vous", level=1)).to_be_visible()
    expect(phone.locator(".fr-stepper")).to_be_visible()
    skip_link = phone.get_by_role("link", name="Aller au contenu")
    expect(skip_link).to_have_attribute("href", "#contenu")
    skip_link.focus()
    phone.keyboard.press("Enter")
    expect(phone.locator("#contenu")).to_be_focused()
    assert phone.url == f"{app_url}/org/1/pmi-arras"
    assert_accessible(phone)
    assert errors == []


# The largest paints of the page and its layout shifts, as the browser reports them (Lighthouse's LCP and CLS).
PAINTS_OBSERVER = """
window.__paints = {largest: [], shifts: 0};
new PerformanceObserver((list) => list.getEntries().forEach((entry) => window.__paints.largest.push(entry)))
  .observe({type: "largest-contentful-paint", buffered: true});
new PerformanceObserver((list) => list.getEntries().forEach((entry) => { window.__paints.shifts += entry.value; }))
  .observe({type: "layout-shift", buffered: true});
"""


def test_a_phones_largest_paint_is_the_shells_and_stays_through_hydration(phone: Page, app_url: str) -> None:
    """The largest paint of the booking's first screen is text of the HTML shell, painted at once (before the
    JavaScript has run), and the step shown after hydration neither replaces it nor paints larger nor moves it
    (LCP = first paint, no layout shift)."""
    phone.add_init_script(PAINTS_OBSERVER)
    phone.goto(f"{app_url}/prendre_rdv")
    expect(phone.locator(".fr-stepper")).to_be_visible(timeout=15_000)
    expect(phone.get_by_text("Chargement…")).to_have_count(0)
    paints = phone.evaluate("""() => ({
        largest: window.__paints.largest.map((entry) => ({
            intro: entry.element !== null && entry.element.classList.contains("booking-intro"),
            connected: entry.element !== null && entry.element.isConnected, time: entry.startTime})),
        firstPaint: performance.getEntriesByName("first-contentful-paint")[0].startTime,
        shifts: window.__paints.shifts})""")
    assert [(p["intro"], p["connected"]) for p in paints["largest"]] == [(True, True)], paints
    assert paints["largest"][0]["time"] == paints["firstPaint"]
    assert paints["shifts"] < 0.01, paints


def _is_error(message: ConsoleMessage) -> bool:
    return message.type == "error"


def page_scripts(app_url: str, route: str) -> dict[str, Fetched]:
    """The scripts a page loads before it shows (its modules and their preloads), as a phone gets them."""
    text = decoded(fetch(f"{app_url}{route}", "br, gzip")).decode()
    scripts = dict.fromkeys(re.findall(r'"(/assets/[^"]+\.js)"', text))
    return {script: fetch(f"{app_url}{script}", "br, gzip") for script in scripts}


# Under this many KiB of Brotli-compressed JavaScript before the booking page shows (about 560 KiB of gzip
# before issue 24, every page loading the JavaScript of all the others).
BOOKING_SCRIPTS_BUDGET_KIB = 300


def test_a_public_page_loads_neither_the_agenda_nor_the_charts(app_url: str) -> None:
    for route in ("/prendre_rdv", "/connexion"):
        scripts = page_scripts(app_url, route)
        code = b"".join(decoded(script) for script in scripts.values())
        assert b"fc-daygrid" not in code, f"{route} loads FullCalendar"
        assert b"recharts" not in code, f"{route} loads the charts"
    booking = sum(len(script.body) for script in page_scripts(app_url, "/prendre_rdv").values()) / 1024
    assert booking <= BOOKING_SCRIPTS_BUDGET_KIB, f"{booking:.0f} KiB of JavaScript for /prendre_rdv"
    # The agent pages that need them still have them.
    assert b"fc-daygrid" in b"".join(decoded(s) for s in page_scripts(app_url, "/agenda").values())
    assert b"recharts" in b"".join(decoded(s) for s in page_scripts(app_url, "/statistiques").values())
