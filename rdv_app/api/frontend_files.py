"""How the production server hands out the built frontend (Reflex mounts `.web/build/client` in the
one-port server; the build writes a Brotli and a gzip copy of each file, rxconfig.py):

- the Cache-Control of each file: Vite names the files of /assets/ after their content, so a new release has
  new names and a browser keeps them a year without asking again; pages and the other static files
  (styles.css, favicon.ico) keep their address from one release to the next, so the browser asks each time
  whether they changed (a 304 answer when they did not);
- a page's address is served its built page straight away: `/prendre_rdv` gets `prendre_rdv.html`, where the
  static file server would first redirect to `/prendre_rdv/` (a round trip more on a phone's network);
- an address of a dynamic route (`/org/12/pmi-arras`, an organisation's link) is served the shell built for
  its route (`DynamicRouteShells` below), where Reflex would serve React Router's SPA fallback, an empty body
  that shows nothing before the JavaScript has run and the websocket has answered.

Applied to the Reflex app only (first of `api_transformer`): the HTTP routes of rdv_app.api choose their own
Cache-Control.

The shells. React Router pre-renders the static routes only (`prerender: true`); `DynamicRouteShells`, a
Reflex plugin of rxconfig.py, has it pre-render also each dynamic route at its own pattern as address
(`/org/[booking_org]/[booking_org_slug]`). A page's first render does not depend on the route's parameters
(the states read them on the server, once the page has loaded), so the shell is what the page shows first
whatever the parameters: header, title, heading, step, footer and the meta description of the route, and it
hydrates without a mismatch. The shell is the route's own pre-rendered page, with the modules of that route:
React Router matches the real address to the same route when it hydrates.

The scripts after the first paint. React Router puts in each page a `<link rel="modulepreload">` of every module
the page needs (React hoists them to the head) and the module script that hydrates the page at the end of the
body: a phone fetches about 250 KiB of JavaScript before it has painted anything, and Lighthouse's simulation of
a slow phone counts those requests before the first paint and the largest one. The page shows nothing the
JavaScript adds before the websocket has answered anyway; `ScriptsAfterFirstPaint`, a plugin of rxconfig.py,
rewrites each built page so that both are added once the shell is painted (`scripts_after_first_paint`)."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from reflex.config import get_config
from reflex.constants import Dirs
from reflex.environment import environment
from reflex.utils import prerequisites
from reflex_base.plugins.base import Plugin
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


_PARAMETER = re.compile(r"\[[A-Za-z_][A-Za-z0-9_]*\]")


def is_dynamic(route: str) -> bool:
    """Whether a route has parameters (`/org/[booking_org]`)."""
    return any(_PARAMETER.fullmatch(segment) for segment in route.strip("/").split("/"))


@dataclasses.dataclass(frozen=True)
class BuiltPages:
    """The addresses of the built pages (`/prendre_rdv` for `prendre_rdv.html`), among them the shells of the
    dynamic routes (`/org/[booking_org]`), each with the addresses it answers."""

    pages: frozenset[str]
    shells: tuple[tuple[re.Pattern[str], str], ...]

    @classmethod
    def of(cls, pages: Iterable[str]) -> BuiltPages:
        pages = frozenset(pages)
        return cls(pages, tuple(
            (re.compile("/".join("[^/]+" if _PARAMETER.fullmatch(segment) else re.escape(segment)
                                 for segment in shell.split("/")) + "/?"), shell)
            # `/org/[booking_org]/index` is a copy of `/org/[booking_org]`.
            for shell in sorted(pages) if is_dynamic(shell) and not shell.endswith("/index")))

    def page_for(self, path: str) -> str | None:
        """The built page that answers `path`: its own, else the shell of the dynamic route it matches, else
        none (a static file, or an address no page has)."""
        if path in self.pages:
            return path
        return next((shell for pattern, shell in self.shells if pattern.fullmatch(path)), None)


@functools.cache
def built_pages() -> BuiltPages:
    """The built pages; none where this process does not serve the frontend (`reflex run --env dev`, where
    Vite does)."""
    if not environment.REFLEX_MOUNT_FRONTEND_COMPILED_APP.get():
        return BuiltPages.of(())
    static_dir = prerequisites.get_web_dir() / Dirs.STATIC / get_config().frontend_path.strip("/")
    pages: set[str] = set()
    for directory, _subdirectories, files in os.walk(static_dir):
        relative = Path(directory).relative_to(static_dir)
        pages.update(f"/{(relative / name).as_posix().removesuffix('.html').removeprefix('./')}"
                     for name in files if name.endswith(".html"))
    return BuiltPages.of(pages)


REACT_ROUTER_CONFIG = "react-router.config.js"


def prerender_shells(config_js: str, routes: Iterable[str]) -> str:
    """React Router's config as Reflex writes it (`export default {...};`), pre-rendering, besides every static
    route, each of `routes` (dynamic ones) at its own pattern. Unchanged where nothing is pre-rendered
    (`reflex run --env dev`)."""
    config = json.loads(config_js.strip().removeprefix("export default").strip().removesuffix(";"))
    if "prerender" not in config:
        return config_js
    if config["prerender"] is not True:
        raise ValueError(f"{REACT_ROUTER_CONFIG}: unexpected prerender setting {config['prerender']!r}")
    shells = json.dumps(sorted(f"/{route.strip('/')}" for route in routes))
    return (f"const config = {json.dumps(config)};\n"
            f"config.prerender = ({{getStaticPaths}}) => [...getStaticPaths(), ...{shells}];\n"
            "export default config;\n")


@dataclasses.dataclass
class DynamicRouteShells(Plugin):
    """Pre-renders a shell of each dynamic route of the app (see the module's docstring)."""

    def pre_compile(self, **context: Any) -> None:
        routes = [page.route for page in context["unevaluated_pages"] if is_dynamic(page.route)]
        context["add_modify_task"](REACT_ROUTER_CONFIG, functools.partial(prerender_shells, routes=routes))


_MODULE_PRELOAD = re.compile(r'<link rel="modulepreload" href="([^"]+)"/>')
_MODULE_SCRIPT = re.compile(r'<script type="module" async="">(.*?)</script>', re.S)


def _script_literal(value: Any) -> str:
    """`value` as JavaScript in an inline script (no `</script>` in it may end the script early)."""
    return json.dumps(value).replace("</", "<\\/")


def scripts_after_first_paint(page: str) -> str:
    """A built page whose module preloads and module script are added, in the same order, after its first
    paint (after the frame of the first `requestAnimationFrame`); unchanged without a module script."""
    scripts = _MODULE_SCRIPT.findall(page)
    if not scripts:
        return page
    if len(scripts) > 1:
        raise ValueError(f"{len(scripts)} module scripts in a built page, one expected")
    preloads = _MODULE_PRELOAD.findall(page)
    loader = ("<script>requestAnimationFrame(function(){setTimeout(function(){"
              f"{_script_literal(preloads)}.forEach(function(href){{var l=document.createElement('link');"
              "l.rel='modulepreload';l.href=href;document.head.appendChild(l);});"
              "var s=document.createElement('script');s.type='module';"
              f"s.textContent={_script_literal(scripts[0])};document.body.appendChild(s);}});}});</script>")
    return _MODULE_SCRIPT.sub(lambda _match: loader, _MODULE_PRELOAD.sub("", page))


@dataclasses.dataclass
class ScriptsAfterFirstPaint(Plugin):
    """Has each built page load its scripts after its first paint (see the module's docstring), before the
    build compresses the pages."""

    def post_build(self, **context: Any) -> None:
        for page in Path(context["static_dir"]).rglob("*.html"):
            page.write_text(scripts_after_first_paint(page.read_text(encoding="utf-8")), encoding="utf-8")


def frontend_files(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        page = built_pages().page_for(path) if scope.get("method") in ("GET", "HEAD") else None
        if page is not None:
            scope = {**scope, "path": f"{page}.html", "raw_path": f"{page}.html".encode()}

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                policy = cache_policy(path, message["status"], headers)
                if policy is not None:
                    message["headers"] = [*headers, (b"cache-control", policy)]
            await send(message)

        await app(scope, receive, send_with_policy)

    return wrapped
