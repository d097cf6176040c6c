"""Builds the Reflex app: pages, HTTP routes, security headers."""

import reflex as rx

import rdv_app.pages.absences  # noqa: F401
import rdv_app.pages.agenda  # noqa: F401
import rdv_app.pages.creneaux  # noqa: F401  (registers pages)
import rdv_app.pages.plages  # noqa: F401
import rdv_app.pages.public  # noqa: F401
import rdv_app.pages.workspace  # noqa: F401
from rdv_app import styles
from rdv_app.api.http import http_routes, security_headers
from rdv_app.pages.template import PAGES

app = rx.App(
    stylesheets=["/styles.css"],
    style=styles.base_style,
    html_lang="fr",
    api_transformer=[http_routes, security_headers],
)

for page in PAGES:
    app.add_page(page.component, route=page.route, title=page.title, on_load=page.on_load)
