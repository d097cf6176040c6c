"""What every Reflex page shows when it loses its connection to the server, in French (RGAA 7.5 and 8.5):
Reflex's own overlay says it in English, in a tooltip and a toast. The banner appears once the connection has
failed for 3 seconds (assets/styles.css `.connection-banner`), so a page that reconnects at once shows nothing;
"Réessayer" reloads the page (assets/clavier.js)."""

from __future__ import annotations

import reflex as rx
from reflex_components_core.core.banner import has_connection_errors  # type: ignore[import-untyped]

NO_CONNECTION = "La connexion au serveur est interrompue. Vos dernières actions n'ont peut-être pas été enregistrées."


def connection_banner() -> rx.Component:
    return rx.cond(
        has_connection_errors,
        rx.el.div(
            rx.el.p(NO_CONNECTION, class_name="connection-message"),
            rx.el.button("Réessayer", type="button", class_name="connection-retry", custom_attrs={"data-reload-page": ""}),
            role="alert",
            class_name="connection-banner",
        ),
    )
