"""Builds the Reflex app: pages, HTTP routes, security headers, the notification worker."""

import reflex as rx
from reflex_base.components.component import ComponentStyle

import rdv_app.pages.absences  # noqa: F401
import rdv_app.pages.admin_agents  # noqa: F401
import rdv_app.pages.admin_lieux  # noqa: F401
import rdv_app.pages.admin_motifs  # noqa: F401
import rdv_app.pages.admin_organisation  # noqa: F401
import rdv_app.pages.admin_security_log  # noqa: F401
import rdv_app.pages.admin_territory  # noqa: F401
import rdv_app.pages.admin_webhooks  # noqa: F401
import rdv_app.pages.agenda  # noqa: F401
import rdv_app.pages.collectifs  # noqa: F401
import rdv_app.pages.creneaux  # noqa: F401  (registers pages)
import rdv_app.pages.exports  # noqa: F401
import rdv_app.pages.legal  # noqa: F401
import rdv_app.pages.organisation_chooser  # noqa: F401
import rdv_app.pages.plages  # noqa: F401
import rdv_app.pages.prescription  # noqa: F401
import rdv_app.pages.public  # noqa: F401
import rdv_app.pages.public_booking  # noqa: F401
import rdv_app.pages.public_prescripteur  # noqa: F401
import rdv_app.pages.rdv_list  # noqa: F401
import rdv_app.pages.rdv_new  # noqa: F401
import rdv_app.pages.rdv_page  # noqa: F401
import rdv_app.pages.service_health  # noqa: F401
import rdv_app.pages.stats  # noqa: F401
import rdv_app.pages.super_admin  # noqa: F401
import rdv_app.pages.territory_agents  # noqa: F401
import rdv_app.pages.territory_organisations  # noqa: F401
import rdv_app.pages.territory_sectors  # noqa: F401
import rdv_app.pages.territory_teams  # noqa: F401
import rdv_app.pages.usager_form  # noqa: F401
import rdv_app.pages.usager_merge  # noqa: F401
import rdv_app.pages.usager_rdv_move  # noqa: F401
import rdv_app.pages.usager_rdvs  # noqa: F401
import rdv_app.pages.usagers  # noqa: F401
import rdv_app.pages.workspace  # noqa: F401
import rdv_app.state.notifications  # noqa: F401  (the after-commit delivery task)
from rdv_app import logs, styles, wiring
from rdv_app.api.frontend_files import frontend_files
from rdv_app.api.http import deployment_guard, http_routes, request_context, security_headers
from rdv_app.components.connection import connection_banner
from rdv_app.config import settings
from rdv_app.error_tracking import init_error_tracking
from rdv_app.gc_tuning import freeze_startup_objects
from rdv_app.metrics import count_websocket_connections
from rdv_app.notify import worker
from rdv_app.pages.template import PAGES
from rdv_app.recycle import recycle_when_idle
from rdv_app.shutdown import drain_event_handlers
from rdv_app.state.failures import backend_exception_handler
from rdv_app.state.session_guard import SessionGuard
from rdv_app.state_expiry import expire_disconnected_states

wiring.configure()
# Production: JSON lines without personal data (rdv_app.logs); the demo keeps its readable log.
logs.configure_logging()
init_error_tracking(settings.environment_name)

# The global style, typed as Reflex takes it (rdv_app.styles imports nothing of Reflex).
BASE_STYLE: ComponentStyle = dict(styles.base_style.items())

app = rx.App(
    stylesheets=["/styles.css"],
    # The design tokens, as the custom properties assets/styles.css reads.
    head_components=[rx.el.style(styles.css_custom_properties()),
                     # Skip link, focus back to a dialog's opener, "Réessayer" (docs/accessibilite.md).
                     rx.el.script(src="/clavier.js", defer=True)],
    # Sonner appends its shortcut: the region reads "Notifications, raccourci clavier alt+T".
    toaster=rx.toast.provider(custom_attrs={"containerAriaLabel": "Notifications, raccourci clavier"}),
    style=BASE_STYLE,
    html_lang="fr",
    api_transformer=[frontend_files, http_routes, security_headers, request_context],
    backend_exception_handler=backend_exception_handler,
)

# Reflex's connection overlay (an English tooltip, toast and icon) gives way to a French banner.
app.app_wraps[(5, "Overlay")] = lambda stateful: connection_banner() if stateful else None

# Every event of a signed-in page re-checks its session first.
app.add_middleware(SessionGuard())

for page in PAGES:
    app.add_page(page.component, route=page.route, title=page.title, on_load=page.on_load,
                 description=page.description)

# SIGTERM: the event handlers under way get a grace to finish (rdv_app.shutdown), instead of being cancelled.
app.register_lifespan_task(drain_event_handlers)

# The notification worker runs inside the app unless RDV_NOTIFY_WORKER=external.
if worker.runs_in_app():
    app.register_lifespan_task(worker.lifespan)

# The websocket connections this process holds (rdv_app.metrics).
app.register_lifespan_task(count_websocket_connections)

# In the embedded set-up, a page's state leaves the process's memory soon after its tab disconnected.
app.register_lifespan_task(expire_disconnected_states)

# With Redis, a process that kept the memory of a rush hands over to a fresh one once no tab is connected.
app.register_lifespan_task(recycle_when_idle)

# A real instance never serves the demo's accounts, however it is started.
app.register_lifespan_task(deployment_guard)

# Last: what start-up built is kept out of later full garbage collections.
app.register_lifespan_task(freeze_startup_objects)
