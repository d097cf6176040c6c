"""Admin > Lieux: the organisation's lieux, create, edit, disable and enable again."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes
from rdv_app.components.admin import admin_page, edit_form_actions, section
from rdv_app.components.fields import input_field
from rdv_app.components.forms import error_summary, form_alert, loaded_fieldset, switching_record
from rdv_app.components.planning import badge, status_region
from rdv_app.pages.template import agent_page
from rdv_app.state.admin_lieux import FORM_HEADING_ID, LIST_HEADING_ID, AdminLieuxState, LieuRow

S = AdminLieuxState


def _error(field: str) -> rx.Var:
    return rx.cond(S.error_field == field, S.error_message, S.field_errors.get(field, ""))


def _row(row: LieuRow) -> rx.Component:
    return rx.el.li(
        rx.vstack(
            rx.hstack(rx.heading(row.name, as_="h3", size="4"),
                      rx.cond(row.enabled, rx.fragment(), badge("Désactivé")),
                      align="center", spacing="3", wrap="wrap"),
            rx.el.dl(
                rx.el.dt("Adresse"), rx.el.dd(row.address),
                rx.el.dt("Téléphone"), rx.el.dd(row.phone),
                rx.el.dt("Position"), rx.el.dd(row.position),
                class_name="identity-list",
            ),
            spacing="2",
        ),
        rx.hstack(
            rx.button(rx.icon("pencil", size=16), "Modifier", variant="outline", size="3",
                      on_click=switching_record(S, S.start_edit(row.id)),
                      aria_label="Modifier le lieu « " + row.name + " »"),
            rx.cond(
                row.enabled,
                rx.button(rx.icon("circle-off", size=16), "Désactiver", variant="outline", color_scheme="red",
                          size="3", on_click=S.set_enabled(row.id, False, False),
                          aria_label="Désactiver le lieu « " + row.name + " »"),
                rx.button(rx.icon("circle-check", size=16), "Réactiver", variant="outline", size="3",
                          on_click=S.set_enabled(row.id, True, False),
                          aria_label="Réactiver le lieu « " + row.name + " »"),
            ),
            spacing="2", wrap="wrap",
        ),
        class_name="planning-row",
    )


def _warnings() -> rx.Component:
    return rx.cond(
        S.warnings.length() > 0,
        rx.el.div(
            rx.heading("Désactiver ce lieu ?", as_="h3", size="4"),
            rx.el.ul(rx.foreach(S.warnings, lambda w: rx.el.li(w))),
            rx.hstack(
                rx.el.button("Désactiver quand même", type="button", class_name="danger-button",
                             on_click=S.set_enabled(S.warned_id, False, True)),
                rx.button("Ne pas désactiver", type="button", size="3", variant="outline",
                          on_click=S.dismiss_warnings),
                spacing="3", wrap="wrap",
            ),
            role="alert",
            class_name="warning-box",
        ),
        rx.fragment(),
    )


def _field(field: str, label: str, **props) -> rx.Component:
    return input_field(f"lieu-{field.replace('_', '-')}", label, initial=getattr(S, field), key=S.form_key,
                       on_change=lambda value: S.set_text(field, value), error=_error(field), **props)


def lieu_form() -> rx.Component:
    return section(
        FORM_HEADING_ID, S.form_heading,
        rx.form(loaded_fieldset(
            error_summary(S.error_links),
            rx.grid(
                _field("name", "Nom du lieu"),
                _field("address", "Adresse", hint="Numéro, rue, code postal et commune.",
                       auto_complete="street-address"),
                columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%",
            ),
            rx.grid(
                _field("phone_number", "Téléphone (facultatif)", type_="tel", required=False),
                _field("latitude", "Latitude (facultatif)", required=False, input_mode="decimal",
                       hint="En degrés décimaux, par exemple 50.2889."),
                _field("longitude", "Longitude (facultatif)", required=False, input_mode="decimal",
                       hint="Par exemple 2.7779. Sert à classer les lieux par distance."),
                columns=rx.breakpoints(initial="1", md="3"), spacing="4", width="100%",
            ),
            edit_form_actions(S, "Ajouter le lieu"),
            loaded_for=S.loaded_for, class_name="stack-form"),
            no_validate=True, on_submit=lambda _form: S.save(),
            aria_labelledby=FORM_HEADING_ID,
        ),
    )


@agent_page(routes.ADMIN_LIEUX, "Lieux", load=AdminLieuxState.load)
def admin_lieux_page() -> rx.Component:
    return admin_page(
        "Lieux", "Les lieux où l'organisation reçoit sur place. Un lieu désactivé ne propose plus de créneaux ; "
        "ses rendez-vous passés le gardent.",
        denied=S.denied, loading=S.loading, loading_text="Chargement des lieux…",
        content=rx.fragment(
            rx.button(rx.icon("plus", size=16), "Ajouter un lieu", variant="outline", size="3", type="button",
                      on_click=switching_record(S, S.start_new)),
            section(
                LIST_HEADING_ID, "Lieux de l'organisation",
                status_region(S.list_message),
                form_alert(S.list_error),
                _warnings(),
                rx.cond(S.rows.length() > 0,
                        rx.el.ul(rx.foreach(S.rows, _row), class_name="planning-list"),
                        rx.text("Aucun lieu pour le moment.")),
            ),
            lieu_form(),
        ),
    )
