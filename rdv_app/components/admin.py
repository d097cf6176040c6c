"""Pieces shared by the admin pages (motifs, lieux, organisation, online booking)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from rdv_app import routes, styles
from rdv_app.components.fields import error_id, hint_id
from rdv_app.components.forms import form_alert, switching_record
from rdv_app.components.layout import loading_block
from rdv_app.components.planning import status_region


def admin_page(title: str, intro: str, *, denied: rx.Var, loading: rx.Var, loading_text: str,
               content: rx.Component) -> rx.Component:
    """The page's heading, then either a clear refusal (another role), a loading state, or the content."""
    return rx.vstack(
        rx.heading(title, as_="h1", size="7"),
        rx.cond(
            denied != "",
            rx.el.div(
                rx.heading("Accès réservé", as_="h2", size="5"),
                rx.text(denied),
                rx.text("Si vous devez configurer votre organisation, demandez ce droit à l'un de ses "
                        "administrateurs."),
                rx.link("Retour à l'accueil de l'espace agents", href=routes.WORKSPACE, class_name="back-link"),
                role="alert",
                class_name="form-alert denied-box",
            ),
            rx.fragment(
                rx.text(intro, color=styles.TEXT_MUTED),
                rx.cond(loading, loading_block(loading_text), content),
            ),
        ),
        spacing="5",
        width="100%",
    )


def online_badge() -> rx.Component:
    return rx.el.span(rx.icon("globe", size=14, aria_hidden="true"), "Réservation en ligne",
                      class_name="status-badge online-badge")


def prescripteur_badge() -> rx.Component:
    """The motif is open to prescription (the FAQ's "ouvert aux prescripteurs") but not online: a motif open
    online is open to prescripteurs too, and its online badge says so."""
    return rx.el.span(rx.icon("share-2", size=14, aria_hidden="true"), "Prescripteur",
                      class_name="status-badge online-badge")


def colour_swatch(colour: rx.Var[str] | str) -> rx.Component:
    return rx.el.span(class_name="motif-swatch", background_color=colour, aria_hidden="true")


def textarea_field(field_id: str, label: str, *, initial: rx.Var, key: rx.Var, on_change: Any,
                   error: rx.Var | str = "", hint: str = "") -> rx.Component:
    """An uncontrolled multi-line field, like `fields.input_field`."""
    described = " ".join([hint_id(field_id), error_id(field_id)] if hint else [error_id(field_id)])
    return rx.box(
        rx.el.label(label, html_for=field_id, class_name="field-label"),
        rx.text(hint, id=hint_id(field_id), class_name="field-hint") if hint else rx.fragment(),
        rx.el.textarea(id=field_id, default_value=initial, key=key, on_change=on_change, rows=3,
                       aria_describedby=described,
                       aria_invalid=rx.cond(error != "", "true", "false") if not isinstance(error, str)
                       else ("true" if error else "false"),
                       class_name="text-input"),
        rx.el.p(error, id=error_id(field_id), class_name="field-error"),
        width="100%",
    )


def section(heading_id: str, heading: rx.Var | str, *children: rx.Component, **props: Any) -> rx.Component:
    return rx.el.section(
        rx.heading(heading, as_="h2", size="5", id=heading_id, tab_index=-1),
        *children,
        aria_labelledby=heading_id,
        class_name="planning-section",
        **props,
    )


def edit_form_actions(state: Any, create_label: str) -> rx.Component:
    """The end of a create/edit form (state.OrgEditMixin): its error, the save button (and the cancel one while
    editing), then the confirmation of the last save."""
    return rx.fragment(
        form_alert(state.form_error),
        rx.hstack(
            rx.button(rx.cond(state.saving, rx.spinner(size="2"), rx.icon("save", size=16)),
                      rx.cond(state.editing_id != "", "Enregistrer les modifications", create_label),
                      type="submit", size="3", disabled=state.saving),
            rx.cond(state.editing_id != "",
                    rx.button("Annuler la modification", type="button", size="3", variant="outline",
                              on_click=switching_record(state, state.cancel_edit)),
                    rx.fragment()),
            spacing="3", wrap="wrap",
        ),
        status_region(state.saved_message),
    )


def confirm_dialog(title: str, description: rx.Var | str, *, confirm_label: rx.Var | str, is_open: rx.Var,
                   on_open_change: Any, on_confirm: Any, busy: rx.Var) -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(description),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Annuler", variant="outline", size="3")),
                rx.el.button(rx.cond(busy, rx.spinner(size="2"), rx.fragment()), confirm_label,
                             on_click=on_confirm, disabled=busy, type="button", class_name="danger-button"),
                justify="end", spacing="3", margin_top="1rem", wrap="wrap",
            ),
        ),
        open=is_open,
        on_open_change=on_open_change,
    )
