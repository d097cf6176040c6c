"""Admin > Motifs: the organisation's motifs (filters, online badge), create, edit, duplicate, archive."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes
from rdv_app.choices import Option
from rdv_app.components.admin import (
    admin_page,
    colour_swatch,
    confirm_dialog,
    edit_form_actions,
    online_badge,
    prescripteur_badge,
    section,
)
from rdv_app.components.fields import checkbox, select_field
from rdv_app.components.forms import form_alert, loaded_fieldset, switching_record
from rdv_app.components.motif_form import LOCATION_OPTIONS, MotifFormProps, motif_tabs
from rdv_app.components.planning import badge, status_region
from rdv_app.pages.template import agent_page
from rdv_app.state.admin_motifs import (
    FLAG_FIELDS,
    FORM_HEADING_ID,
    LIST_HEADING_ID,
    NOT_ONLINE,
    ONLINE,
    TABS,
    TEXT_FIELDS,
    AdminMotifsState,
    MotifFormMixin,
    MotifListRow,
)

S = AdminMotifsState
ONLINE_FILTER = [Option(ONLINE, "Ouverts à la réservation en ligne"), Option(NOT_ONLINE, "Non ouverts en ligne")]


def motif_form_props(state: type[MotifFormMixin]) -> MotifFormProps:
    """The motif form's fields bound to `state` (this page's, or the territory page's)."""
    return MotifFormProps(
        values={name: getattr(state, name) for name in TEXT_FIELDS | FLAG_FIELDS}, key=state.form_key,
        error_field=state.error_field, error_message=state.error_message, on_text=state.set_text,
        on_flag=state.set_flag, tab=state.tab, on_tab=state.set_tab, tab_ids=TABS,
    )


def _row(row: MotifListRow) -> rx.Component:
    return rx.el.tr(
        rx.el.th(
            rx.hstack(
                rx.el.span(colour_swatch(row.colour), row.name, class_name="motif-name"),
                rx.cond(row.open_online, online_badge(), rx.fragment()),
                rx.cond(row.open_to_prescripteurs & ~row.open_online, prescripteur_badge(), rx.fragment()),
                rx.cond(row.collectif, badge("Collectif"), rx.fragment()),
                rx.cond(row.archived, badge("Archivé"), rx.fragment()),
                align="center", spacing="2", wrap="wrap",
            ),
            scope="row",
        ),
        rx.el.td(row.service),
        rx.el.td(row.location),
        rx.el.td(row.bookable),
        rx.el.td(row.duration),
        rx.el.td(row.delays),
        rx.el.td(
            rx.cond(
                row.archived,
                rx.text("—"),
                rx.hstack(
                    rx.button(rx.icon("pencil", size=16), "Modifier", variant="outline", size="2",
                              on_click=switching_record(S, S.start_edit(row.id)),
                              aria_label="Modifier le motif « " + row.name + " »"),
                    rx.button(rx.icon("copy", size=16), "Dupliquer", variant="outline", size="2",
                              on_click=switching_record(S, S.duplicate(row.id)),
                              aria_label="Dupliquer le motif « " + row.name + " »"),
                    rx.button(rx.cond(row.has_rdvs, rx.icon("archive", size=16), rx.icon("trash-2", size=16)),
                              rx.cond(row.has_rdvs, "Archiver", "Supprimer"), variant="outline", color_scheme="red",
                              size="2", on_click=S.ask_remove(row.id),
                              aria_label=rx.cond(row.has_rdvs, "Archiver", "Supprimer") + " le motif « "
                              + row.name + " »"),
                    spacing="2", wrap="wrap",
                ),
            ),
        ),
    )


def motif_list() -> rx.Component:
    return section(
        LIST_HEADING_ID, "Motifs de l'organisation",
        rx.el.div(
            rx.box(select_field("filtre-service", "Service", value=S.filter_service,
                                on_change=lambda v: S.set_filter("filter_service", v), options=S.services,
                                placeholder="Tous les services", error=None), min_width="14rem"),
            rx.box(select_field("filtre-lieu", "Type de lieu", value=S.filter_location,
                                on_change=lambda v: S.set_filter("filter_location", v), options=LOCATION_OPTIONS,
                                placeholder="Tous les types", error=None), min_width="12rem"),
            rx.box(select_field("filtre-en-ligne", "Réservation en ligne", value=S.filter_online,
                                on_change=lambda v: S.set_filter("filter_online", v), options=ONLINE_FILTER,
                                placeholder="Tous les motifs", error=None), min_width="16rem"),
            checkbox("Afficher aussi les motifs archivés", initial=S.show_archived, on_change=S.set_show_archived),
            class_name="filter-row",
        ),
        status_region(S.list_message),
        form_alert(S.list_error),
        rx.cond(
            S.rows.length() > 0,
            rx.el.div(
                rx.el.table(
                    rx.el.caption("Motifs de l'organisation selon les filtres choisis", class_name="visually-hidden"),
                    rx.el.thead(rx.el.tr(*[rx.el.th(h, scope="col") for h in (
                        "Motif", "Service", "Type de lieu", "Qui peut réserver", "Durée", "Délais en ligne",
                        "Actions")])),
                    rx.el.tbody(rx.foreach(S.rows, _row)),
                    class_name="admin-table",
                ),
                class_name="table-scroll",
                tab_index=0,
                role="region",
                aria_label="Tableau des motifs",
            ),
            rx.text("Aucun motif pour ces critères."),
        ),
    )


def motif_form() -> rx.Component:
    return section(
        FORM_HEADING_ID, S.form_heading,
        rx.cond(S.has_rdvs, rx.el.p("Ce motif a déjà des rendez-vous : son type de lieu et son caractère "
                                    "collectif ne peuvent plus changer.", class_name="info-box"), rx.fragment()),
        rx.form(
            loaded_fieldset(motif_tabs(motif_form_props(S), "motif", S.services),
                            edit_form_actions(S, "Créer le motif"),
                            loaded_for=S.loaded_for, class_name="stack-form"),
            no_validate=True, on_submit=lambda _form: S.save(),
            aria_labelledby=FORM_HEADING_ID,
        ),
    )


@agent_page(routes.ADMIN_MOTIFS, "Motifs", load=AdminMotifsState.load)
def admin_motifs_page() -> rx.Component:
    return admin_page(
        "Motifs", "Un motif est un type de rendez-vous : sa durée, son lieu, qui peut le réserver et ce que "
        "l'usager reçoit. Les motifs ouverts à la réservation en ligne portent la pastille « Réservation en "
        "ligne ».",
        denied=S.denied, loading=S.loading, loading_text="Chargement des motifs…",
        content=rx.fragment(
            rx.button(rx.icon("plus", size=16), "Créer un motif", variant="outline", size="3", type="button",
                      on_click=switching_record(S, S.start_new)),
            motif_list(),
            motif_form(),
            confirm_dialog("Retirer ce motif ?", S.deleting_label, confirm_label=S.deleting_verb,
                           is_open=S.deleting_id != "", on_open_change=S.set_delete_open, on_confirm=S.delete,
                           busy=S.deleting),
        ),
    )
