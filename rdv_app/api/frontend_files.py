"""How the production server hands out the built frontend (Reflex mounts `.web/build/client` in the
one-port server; the build writes a Brotli and a gzip copy of each file, rxconfig.py):

- the Cache-Control of each file: Vite names the files of /assets/ after their content, so a new release has
  new names and a browser keeps them a year without asking again; pages and the other static files
  (styles.css, favicon.ico) keep their address from one release to the next, so the browser asks each time
  whether they changed (a 304 answer when they did not);
- a page's address is served its built page straight away: `/prendre_rdv` gets `prendre_rdv.html`, where the
  static file server would first redirect to `/prendre_rdv/` (a round trip more on a phone's network).

Applied to the Reflex app only (first of `api_transformer`): the HTTP routes of rdv_app.api choose their own
Cache-Control."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from reflex.config import get_config
from reflex.constants import Dirs
from reflex.environment import environment
from reflex.utils import prerequisites
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HASHED_ASSETS_PREFIX = "/assets/"
IMMUTABLE = b"public, max-age=31536000, immutable"
REVALIDATE = b"no-cache"
_STATIC_TYPES = (b"text/html", b"text/css", b"text/javascript", b"application/javascript", b"image/", b"font/")


def cache_policy(path: str, status: int, headers: list[tuple[bytes, bytes]]) -> bytes | None:
    """The Cache-Control a response of the frontend gets, None to leave it as it is."""
    if any(k.lower() == b"cache-control" for k, _ in headers):
        return None
    content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
    if path.startswith(HASHED_ASSETS_PREFIX) and status in (200, 304) and not content_type.startswith(b"text/html"):
        return IMMUTABLE
    return REVALIDATE if content_type.startswith(_STATIC_TYPES) else None


@functools.cache
def built_pages() -> frozenset[str]:
    """The addresses of the built pages (`/prendre_rdv` for `prendre_rdv.html`); none where this process does
    not serve the frontend (`reflex run --env dev`, where Vite does)."""
    if not environment.REFLEX_MOUNT_FRONTEND_COMPILED_APP.get():
        return frozenset()
    static_dir = prerequisites.get_web_dir() / Dirs.STATIC / get_config().frontend_path.strip("/")
    pages: set[str] = set()
    for directory, _subdirectories, files in os.walk(static_dir):
        relative = Path(directory).relative_to(static_dir)
        pages.update(f"/{(relative / name).as_posix().removesuffix('.html').removeprefix('./')}"
                     for name in files if name.endswith(".html"))
    return frozenset(pages)


def frontend_files(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if scope.get("method") in ("GET", "HEAD") and path in built_pages():
            scope = {**scope, "path": f"{path}.html", "raw_path": f"{path}.html".encode()}

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                policy = cache_policy(path, message["status"], headers)
                if policy is not None:
                    message["headers"] = [*headers, (b"cache-control", policy)]
            await send(message)

        await app(scope, receive, send_with_policy)

    return wrapped
