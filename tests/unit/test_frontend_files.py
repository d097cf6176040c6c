"""The Cache-Control the production server gives the built frontend's files (rdv_app/api/frontend_files.py);
tests/e2e/test_first_paint.py checks the same over HTTP against the production server."""

from __future__ import annotations

import pytest

from rdv_app.api.frontend_files import IMMUTABLE, REVALIDATE, cache_policy


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
