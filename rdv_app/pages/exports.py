""""Vos exports" (admin-domain.md 9.4): the agent's exports of the last two weeks, their live progress, then
"Télécharger" while the link is valid."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes
from rdv_app.components.layout import loading_block
from rdv_app.components.planning import badge, status_region
from rdv_app.pages.template import agent_page
from rdv_app.state.exports import ExportRow, ExportsState

S = ExportsState


def _state(row: ExportRow) -> rx.Component:
    return rx.match(
        row.state,
        # A document navigation (not the router's), so that the browser saves the file.
        ("available", rx.link(rx.icon("download", size=16, aria_hidden="true"), "Télécharger", href=row.href,
                              download="", reload_document=True, aria_label="Télécharger : " + row.title,
                              class_name="inline-link download-link")),
        ("expired", badge("Expiré")),
        ("failed", rx.el.span(badge("Échec"), " ", row.error)),
        rx.el.div(
            rx.el.span(row.progress_label),
            rx.el.progress(value=row.progress, max=100, aria_label=row.title + " : " + row.progress_label,
                           class_name="export-progress"),
            class_name="export-running"),
    )


def _row(row: ExportRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.text(row.title), rx.text(row.format_label + " · " + row.total,
                                                              class_name="field-hint")),
        rx.table.cell(row.organisations),
        rx.table.cell(_state(row)),
    )


@agent_page(routes.EXPORTS, "Vos exports", load=ExportsState.load)
def exports_page() -> rx.Component:
    return rx.vstack(
        rx.heading("Vos exports", as_="h1", size="7"),
        rx.el.p("Les liens de téléchargement sont valables " + S.link_hours.to_string()
                + " heures après la création du fichier ; les exports restent listés deux semaines. Pour un "
                "export plus récent, créez-en un nouveau depuis la ",
                rx.link("liste des RDV", href=routes.RDV_LIST, class_name="inline-link"), ".", class_name="info-box"),
        rx.cond(
            S.denied != "",
            rx.el.div(rx.text(S.denied), role="alert", class_name="form-alert"),
            rx.cond(
                S.loading,
                loading_block(),
                rx.cond(
                    S.rows.length() > 0,
                    rx.vstack(
                        status_region(S.ready_message),
                        rx.table.root(
                            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col") for h in
                                                           ("Export", "Organisations", "Fichier")])),
                            rx.table.body(rx.foreach(S.rows, _row)),
                            variant="surface", width="100%"),
                        rx.button("Actualiser", type="button", variant="outline", size="2", on_click=S.refresh),
                        spacing="3", width="100%"),
                    rx.el.p("Vous n'avez aucun export.", class_name="info-box"),
                ),
            ),
        ),
        spacing="5", width="100%", align="stretch",
    )
