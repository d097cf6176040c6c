"""The Cache-Control the production server gives the built frontend's files, and the built page each address
gets (rdv_app/api/frontend_files.py); tests/e2e/test_first_paint.py checks the same over HTTP against the
production server."""

from __future__ import annotations

import json
import re

import pytest

from rdv_app.api.frontend_files import (
    IMMUTABLE,
    REVALIDATE,
    BuiltPages,
    cache_policy,
    prerender_shells,
    scripts_after_first_paint,
)


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


# A page as React Router pre-renders it (shortened).
MODULE_CODE = ('import "/assets/manifest-1.js";\nimport * as route0 from "/assets/root-2.js";\n'
               'window.x = "</p>";\nimport("/assets/entry.client-3.js");')
BUILT_PAGE = ('<!DOCTYPE html><html lang="fr"><head><title>Prendre rendez-vous</title>'
              '<link rel="modulepreload" href="/assets/manifest-1.js"/><link rel="modulepreload" href="/assets/root-2.js"/>'
              '<link href="/assets/styles-4.css" rel="stylesheet" type="text/css"/></head><body><main><h1>Prendre '
              'rendez-vous</h1></main><script>window.__reactRouterContext = {};</script>'
              f'<script type="module" async="">{MODULE_CODE}</script>'
              '<script>$RC("B:0","S:0")</script></body></html>')


def test_a_built_page_loads_its_scripts_after_its_first_paint() -> None:
    page = scripts_after_first_paint(BUILT_PAGE)
    # Nothing the browser fetches before it paints: no preload, no module script in the HTML.
    assert "modulepreload" not in page.split("<script>requestAnimationFrame")[0]
    assert '<script type="module"' not in page
    assert page.count("<script") == BUILT_PAGE.count("<script")
    # The shell, the stylesheet and the other inline scripts are as they were.
    assert '<link href="/assets/styles-4.css" rel="stylesheet" type="text/css"/>' in page
    assert "<h1>Prendre rendez-vous</h1>" in page and '$RC("B:0","S:0")' in page
    # Once painted, the same preloads in the same order, then the same module.
    loader = re.search(r"<script>(requestAnimationFrame\(.*?)</script>", page, re.S)
    assert loader is not None
    preloads = re.search(r"setTimeout\(function\(\)\{(\[.*?\])\.forEach", loader.group(1))
    assert preloads is not None and json.loads(preloads.group(1)) == ["/assets/manifest-1.js", "/assets/root-2.js"]
    module = re.search(r"s\.textContent=(\".*?\");document", loader.group(1))
    assert module is not None
    assert json.loads(module.group(1)) == MODULE_CODE
    # No "</" in the loader's text, where "</script>" would end it.
    assert "</" not in loader.group(1)


def test_a_page_without_a_module_script_is_left_as_it_is() -> None:
    page = BUILT_PAGE.replace('<script type="module" async="">', "<script>")
    assert scripts_after_first_paint(page) == page


def test_a_page_of_another_shape_stops_the_build() -> None:
    """A later React Router writing two module scripts must not have one of them silently dropped."""
    page = BUILT_PAGE.replace("</body>", '<script type="module" async="">import "/x.js";</script></body>')
    with pytest.raises(ValueError, match="module scripts"):
        scripts_after_first_paint(page)
