"""Reflex configuration. Every field can be overridden by REFLEX_<FIELD> (REFLEX_DB_URL, ...)."""

import os

import reflex as rx

from rdv_app.api.frontend_files import DynamicRouteShells, ScriptsAfterFirstPaint
from rdv_app.components.dsfr.plugin import DSFR_PACKAGE, DsfrPlugin
from rdv_app.config import settings

PUBLIC_URL = os.environ.get("RDV_PUBLIC_URL", "http://localhost:3000").rstrip("/")
# Where the pages' states live between events: in Redis when REFLEX_REDIS_URL names one (several app
# processes share them: a page whose process stops carries on in another with its state), otherwise in the
# memory of the one process (Reflex's default, a file per state on disk, costs a scan of them all every
# few seconds).
STATE_MANAGER = "redis" if os.environ.get("REFLEX_REDIS_URL", "").strip() else "memory"

config = rx.Config(
    app_name="rdv_app",
    db_url="sqlite:///data/rdv.db",
    telemetry_enabled=False,
    state_manager_mode=STATE_MANAGER,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(appearance="light", accent_color="indigo", radius="medium")),
             # The State design system's stylesheets (@gouvfr/dsfr from npm), after Radix's.
             DsfrPlugin(),
             # A pre-rendered shell of each dynamic route (an organisation's link), as of each static one.
             DynamicRouteShells(),
             # Each built page loads its scripts once its shell is painted.
             ScriptsAfterFirstPaint()],
    frontend_packages=[DSFR_PACKAGE],
    disable_plugins=[rx.plugins.SitemapPlugin],
    # The build writes a Brotli and a gzip copy of every page, script and stylesheet; the server sends the
    # best one the browser accepts (issue 24: a phone downloads about a quarter of the bytes).
    frontend_compression_formats=["brotli", "gzip"],
    # The websocket accepts only the app's own origin (Reflex's default is "*").
    cors_allowed_origins=(PUBLIC_URL,),
    # Behind reverse proxies, the client address of websocket events (agents' sign-in, link requests) is
    # read from X-Forwarded-For that many hops back, as rdv_app.api.client_address does for HTTP routes.
    trusted_proxy_hops=settings.trusted_proxies,
)
