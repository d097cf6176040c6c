"""Admin > Journal de sécurité (territorial admins): failed sign-ins, lockouts, password and second-factor
changes of the agents of the territory, and wrong answers on the usagers' links, newest first."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes
from rdv_app.components.admin import admin_page
from rdv_app.pages.template import agent_page
from rdv_app.services.security_log import PAGE_SIZE
from rdv_app.state.admin_security_log import SecurityLogState

S = SecurityLogState


def _row(event) -> rx.Component:
    return rx.el.tr(rx.el.td(event.when), rx.el.th(event.event, scope="row"), rx.el.td(event.agent),
                    rx.el.td(event.ip))


def event_table() -> rx.Component:
    return rx.cond(
        S.events.length() > 0,
        rx.el.table(
            rx.el.caption("Événements de sécurité du territoire " + S.territory_name + ", page "
                          + S.page.to_string()),
            rx.el.thead(rx.el.tr(*[rx.el.th(h, scope="col") for h in ("Date", "Événement", "Agent", "Adresse IP")])),
            rx.el.tbody(rx.foreach(S.events, _row)),
            class_name="admin-table",
        ),
        rx.text("Aucun événement de sécurité à afficher."),
    )


def pager() -> rx.Component:
    return rx.hstack(
        rx.cond(S.page > 1, rx.button("Événements plus récents", type="button", variant="outline",
                                      on_click=S.previous_page), rx.fragment()),
        rx.cond(S.has_more, rx.button("Événements plus anciens", type="button", variant="outline",
                                      on_click=S.next_page), rx.fragment()),
        spacing="3",
    )


@agent_page(routes.ADMIN_SECURITY_LOG, "Journal de sécurité", load=SecurityLogState.load)
def security_log_page() -> rx.Component:
    return admin_page(
        "Journal de sécurité",
        f"Les derniers événements de sécurité des agents du territoire et des liens de rendez-vous de ses "
        f"organisations, du plus récent au plus ancien, {PAGE_SIZE} par page. Heures du fuseau du territoire.",
        denied=S.denied, loading=S.loading, loading_text="Chargement du journal de sécurité…",
        content=rx.vstack(event_table(), pager(), spacing="4", width="100%"),
    )
