"""The Cache-Control the production server gives the built frontend's files, and the built page each address
gets (rdv_app/api/frontend_files.py); tests/e2e/test_first_paint.py checks the same over HTTP against the
production server."""

from __future__ import annotations

import pytest

from rdv_app.api.frontend_files import IMMUTABLE, REVALIDATE, BuiltPages, cache_policy, prerender_shells


def headers(content_type: str, **others: str) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", content_type.encode()),
            *((name.replace("_", "-").encode(), value.encode()) for name, value in others.items())]


@pytest.mark.parametrize(("path", "status", "content_type", "expected"), [
    ("/assets/root-Cf0meWK9.js", 200, "text/javascript; charset=utf-8", IMMUTABLE),
    ("/assets/__reflex_global_styles-B37rc6kL.css", 304, "text/css; charset=utf-8", IMMUTABLE),
    # A file missing from /assets/ is answered with the 404 page: it must not stay a year in the cache.
    ("/assets/absent-0000.js", 404, "text/html; charset=utf-8", REVALIDATE),
    ("/prendre_rdv", 200, "text/html; charset=utf-8", REVALIDATE),
    ("/styles.css", 200, "text/css; charset=utf-8", REVALIDATE),
    ("/favicon.ico", 200, "image/vnd.microsoft.icon", REVALIDATE),
    ("/ping", 200, "application/json", None),
])
def test_the_policy_of_each_kind_of_file(path: str, status: int, content_type: str, expected: bytes | None) -> None:
    assert cache_policy(path, status, headers(content_type)) == expected


def test_a_response_that_chose_its_cache_control_keeps_it() -> None:
    assert cache_policy("/assets/x.js", 200, headers("text/javascript", cache_control="no-store")) is None
    assert cache_policy("/r/12", 200, headers("text/html", Cache_Control="private, no-store")) is None


BUILT = BuiltPages.of({"/index", "/prendre_rdv", "/prendre_rdv/index", "/org/[booking_org]", "/org/[booking_org]/index",
                       "/org/[booking_org]/[booking_org_slug]", "/org/[booking_org]/[booking_org_slug]/index",
                       "/agenda/rdv/[rdv_page_id]", "/agenda/rdv/[rdv_page_id]/index", "/404"})


@pytest.mark.parametrize(("path", "page"), [
    ("/prendre_rdv", "/prendre_rdv"),
    # An organisation's link gets the shell of its route, whatever its organisation.
    ("/org/12/pmi-arras", "/org/[booking_org]/[booking_org_slug]"),
    ("/org/12/pmi-arras/", "/org/[booking_org]/[booking_org_slug]"),
    ("/org/12", "/org/[booking_org]"),
    ("/org/12/index", "/org/[booking_org]/[booking_org_slug]"),
    ("/agenda/rdv/345", "/agenda/rdv/[rdv_page_id]"),
    # Addresses no page has, and static files, are left to the static file server.
    ("/org/12/pmi-arras/autre", None),
    ("/org", None),
    ("/agenda/rdv", None),
    ("/assets/root-Cf0meWK9.js", None),
    ("/styles.css", None),
])
def test_the_built_page_each_address_gets(path: str, page: str | None) -> None:
    assert BUILT.page_for(path) == page


REFLEX_CONFIG = ('export default {"basename": "/", "future": {"unstable_optimizeDeps": true}, "ssr": false, '
                 '"prerender": true, "build": "build"};')


def test_react_router_prerenders_a_shell_of_each_dynamic_route() -> None:
    config = prerender_shells(REFLEX_CONFIG, ["org/[booking_org]/[booking_org_slug]", "/org/[booking_org]"])
    assert config == (
        'const config = {"basename": "/", "future": {"unstable_optimizeDeps": true}, "ssr": false, '
        '"prerender": true, "build": "build"};\n'
        'config.prerender = ({getStaticPaths}) => [...getStaticPaths(), '
        '...["/org/[booking_org]", "/org/[booking_org]/[booking_org_slug]"]];\n'
        "export default config;\n")


def test_nothing_is_prerendered_where_reflex_prerenders_nothing() -> None:
    """`reflex run --env dev`: Vite serves the pages as the browser asks for them."""
    development = 'export default {"basename": "/", "future": {"unstable_optimizeDeps": true}, "ssr": false};'
    assert prerender_shells(development, ["/org/[booking_org]"]) == development


def test_a_prerender_setting_of_another_shape_stops_the_build() -> None:
    """A later Reflex writing another setting must not silently lose the shells."""
    with pytest.raises(ValueError, match="prerender"):
        prerender_shells(REFLEX_CONFIG.replace('"prerender": true', '"prerender": ["/"]'), ["/org/[booking_org]"])
