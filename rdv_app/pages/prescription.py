"""'Nouveau RDV par prescription' ("Élargir la recherche"): a slot of another organisation of the territory,
the usager, the récapitulatif, the confirmation (see the state)."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes, styles
from rdv_app.components.fields import select_field
from rdv_app.components.forms import form_alert, loaded_fieldset, text_field
from rdv_app.components.layout import loading_block
from rdv_app.domain import ants
from rdv_app.pages.template import agent_page
from rdv_app.state.prescription import (
    DayOption,
    Line,
    PlaceCard,
    PrescriptionState,
    SessionOption,
    TimeOption,
    UsagerOption,
)

S = PrescriptionState
_LIST = {"list_style": "none", "padding": 0, "margin": 0, "display": "grid", "gap": "0.75rem", "width": "100%"}


def _place_card(card: PlaceCard) -> rx.Component:
    return rx.el.li(rx.card(rx.vstack(
        rx.heading(card.title, as_="h3", size="4"),
        rx.text(card.detail, color=styles.TEXT_MUTED),
        rx.text(card.next_slot),
        rx.button("Voir les créneaux", variant="soft", disabled=S.busy,
                  aria_label="Voir les créneaux : " + card.title,
                  on_click=S.choose_place(card.motif_id, card.lieu_id)),
        spacing="2",
    )))


def _time(option: TimeOption) -> rx.Component:
    return rx.el.li(rx.button(option.label, on_click=S.choose_time(option.starts_at),
                              aria_label=option.description, disabled=S.busy))


def _day(day: DayOption) -> rx.Component:
    return rx.el.section(
        rx.heading(day.label, as_="h3", size="3", class_name="day-title"),
        rx.cond(day.closed, rx.text("Hors des délais de réservation", size="2", color=styles.TEXT_MUTED),
                # In rx.foreach, `day.times` is already a Var: Var.create returns it as is, typed for mypy.
                rx.cond(rx.Var.create(day.times).length() > 0,
                        rx.el.ul(rx.foreach(day.times, _time), class_name="slot-list",
                                 style={"list_style": "none", "padding": 0, "margin": 0}),
                        rx.text("Aucun créneau", size="2", color=styles.TEXT_MUTED))),
        class_name="day-column",
    )


def _week() -> rx.Component:
    return rx.vstack(
        rx.heading("Choisissez un créneau", as_="h2", size="5"),
        rx.text(S.place),
        rx.hstack(
            rx.button(rx.icon("chevron-left", size=16), "Semaine précédente", variant="outline",
                      disabled=~S.has_previous, on_click=S.shift_week(-1)),
            rx.heading(S.week_title, as_="h3", size="4"),
            rx.button("Semaine suivante", rx.icon("chevron-right", size=16), variant="outline",
                      disabled=~S.has_next, on_click=S.shift_week(1)),
            justify="between", align="center", width="100%", wrap="wrap", spacing="3",
        ),
        rx.cond(S.week_is_empty, rx.callout(rx.vstack(
            rx.text("Aucun créneau disponible cette semaine."),
            rx.cond(S.next_label != "", rx.button(S.next_label, on_click=S.jump_to_next),
                    rx.text("Pas d'autre créneau ouvert à la prescription pour l'instant.")),
        ), icon="calendar-x", color_scheme="gray")),
        rx.el.div(rx.foreach(S.days, _day), class_name="week-grid"),
        width="100%", spacing="4",
    )


def _session(option: SessionOption) -> rx.Component:
    return rx.el.li(rx.card(rx.hstack(
        rx.vstack(rx.text(option.when, weight="bold"), rx.text(option.name),
                  rx.text(option.seats, size="2", color=styles.TEXT_MUTED), spacing="1"),
        rx.button("Choisir cet atelier", variant="soft", disabled=S.busy, on_click=S.choose_session(option.rdv_id),
                  aria_label="Choisir cet atelier : " + option.when),
        justify="between", align="center", width="100%", wrap="wrap", spacing="3",
    )))


def _sessions() -> rx.Component:
    return rx.vstack(
        rx.heading("Inscrivez l'usager à un atelier", as_="h2", size="5"),
        rx.text(S.place),
        rx.cond(S.sessions.length() > 0, rx.el.ul(rx.foreach(S.sessions, _session), style=_LIST),
                rx.callout("Aucun atelier ouvert à la prescription pour l'instant à ce lieu.", icon="calendar-x",
                           color_scheme="gray")),
        width="100%", spacing="4",
    )


def slot_step() -> rx.Component:
    return rx.vstack(
        rx.grid(
            select_field("prescription-service", "Service", value=S.service_id, on_change=S.set_service,
                         options=S.services, placeholder="Choisissez un service", error=None),
            select_field("prescription-motif", "Motif", value=S.motif_key, on_change=S.set_motif,
                         options=S.motifs, placeholder="Choisissez un motif", error=None),
            columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%",
        ),
        rx.cond(S.busy, loading_block("Recherche des disponibilités…")),
        rx.cond(S.places.length() > 0, rx.vstack(
            rx.heading("Choisissez un lieu ou une organisation", as_="h2", size="5"),
            rx.el.ul(rx.foreach(S.places, _place_card), style=_LIST),
            width="100%",
        )),
        rx.cond(S.collectif & (S.motif_id != ""), _sessions(), rx.cond(S.days.length() > 0, _week())),
        width="100%", spacing="4",
    )


def _usager_choice(option: UsagerOption) -> rx.Component:
    return rx.el.li(rx.hstack(
        rx.vstack(rx.text(option.name, weight="bold"), rx.text(option.detail, size="2", color=styles.TEXT_MUTED),
                  spacing="0"),
        rx.button("Choisir", variant="soft", on_click=S.choose_usager(option.id), disabled=S.busy,
                  aria_label="Choisir " + option.name),
        justify="between", align="center", width="100%",
    ))


def _new_usager() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Créer un usager"),
            rx.dialog.description("L'usager est créé dans votre organisation, puis choisi pour ce rendez-vous.",
                                  size="2"),
            rx.form(loaded_fieldset(rx.vstack(
                text_field("first_name", "Prénom", error=S.field_errors.get("first_name", ""),
                           field_id="prescription-prenom", autocomplete="off"),
                text_field("last_name", "Nom", error=S.field_errors.get("last_name", ""),
                           field_id="prescription-nom", default_value=S.query),
                text_field("email", "Email (facultatif)", type_="email", required=False,
                           error=S.field_errors.get("email", ""), field_id="prescription-email"),
                text_field("phone_number", "Téléphone (facultatif)", type_="tel", required=False,
                           error=S.field_errors.get("phone_number", ""), field_id="prescription-telephone",
                           hint="Un portable permet d'envoyer la confirmation et le rappel par SMS."),
                text_field("birth_date", "Date de naissance (facultatif)", type_="date", required=False,
                           error=S.field_errors.get("birth_date", ""), field_id="prescription-naissance"),
                rx.hstack(
                    rx.dialog.close(rx.button("Annuler", type="button", variant="soft", color_scheme="gray")),
                    rx.button(rx.cond(S.busy, rx.spinner(size="2"), rx.fragment()), "Créer l'usager",
                              type="submit", disabled=S.busy),
                    justify="end", width="100%", spacing="3",
                ),
                spacing="3", width="100%",
            ), loaded_for=S.loaded_for), no_validate=True, on_submit=S.create_usager, reset_on_submit=False, aria_label="Créer un usager"),
        ),
        open=S.creating,
        on_open_change=S.set_creating,
    )


def usager_step() -> rx.Component:
    return rx.vstack(
        rx.heading("Pour quel usager prenez-vous RDV ?", as_="h2", size="5"),
        rx.el.p(S.when, " · ", S.place),
        rx.button("modifier le créneau", variant="ghost", on_click=S.change_slot),
        rx.box(
            rx.el.label("Rechercher un usager (nom, prénom, email, téléphone)", html_for="prescription-recherche",
                        class_name="field-label"),
            rx.debounce_input(rx.el.input(id="prescription-recherche", type="search", value=S.query,
                                          class_name="text-input", on_change=S.search_usagers, auto_complete="off"),
                              debounce_timeout=300),
            width="100%",
        ),
        rx.cond(S.own_usagers.length() > 0, rx.vstack(
            rx.heading("Usagers de votre organisation", as_="h3", size="4"),
            rx.el.ul(rx.foreach(S.own_usagers, _usager_choice), style=_LIST), width="100%")),
        rx.cond(S.other_usagers.length() > 0, rx.vstack(
            rx.heading("Usagers des autres organisations du territoire", as_="h3", size="4"),
            rx.el.ul(rx.foreach(S.other_usagers, _usager_choice), style=_LIST), width="100%")),
        rx.cond(S.searched & (S.own_usagers.length() == 0) & (S.other_usagers.length() == 0),
                rx.text("Aucun usager trouvé.", role="status")),
        rx.button(rx.icon("user-plus", size=16), "Créer un usager", variant="outline", on_click=S.open_new_usager),
        _new_usager(),
        width="100%", spacing="3",
    )


def _line(line: Line) -> rx.Component:
    return rx.box(rx.el.dt(line.label, font_weight="600"), rx.el.dd(line.value, margin="0 0 0.5rem 0"))


def _ants_number() -> rx.Component:
    """The usager's pre-demande number for a motif of an ANTS category, checked with ANTS on confirmation."""
    field_id = "prescription-ants"
    return rx.box(
        rx.el.label(ants.FIELD_LABEL, html_for=field_id, class_name="field-label"),
        rx.el.p("10 chiffres et lettres, reçus par l'usager après sa pré-demande en ligne sur le site de l'ANTS.",
                id=f"{field_id}-aide", class_name="field-hint"),
        rx.debounce_input(rx.el.input(id=field_id, type="text", value=S.ants_number, on_change=S.set_ants_number,
                                      required=True, auto_complete="off", max_length=20, class_name="text-input",
                                      style={"text_transform": "uppercase"},
                                      aria_describedby=f"{field_id}-aide {field_id}-erreur",
                                      aria_invalid=rx.cond(S.ants_error != "", "true", "false")),
                          debounce_timeout=300, force_notify_on_blur=True),
        rx.el.p(S.ants_error, id=f"{field_id}-erreur", class_name="field-error", aria_live="polite"),
        rx.cond(S.ants_warning != "", rx.box(
            rx.text(S.ants_warning),
            rx.link("Voir ce rendez-vous", href=S.ants_warning_link, is_external=True, underline="always"),
            rx.checkbox("J'ai compris, je souhaite tout de même prendre ce rendez-vous",
                        checked=S.ants_warning_confirmed, on_change=S.set_ants_warning_confirmed),
            role="alert", padding="0.75rem", border=f"1px solid {styles.BORDER}", border_radius="0.4rem")),
        width="100%", max_width="28rem",
    )


def recap_step() -> rx.Component:
    return rx.vstack(
        rx.heading("Récapitulatif", as_="h2", size="5", id="prescription-recapitulatif"),
        rx.el.dl(rx.foreach(S.recap_lines, _line), margin="0"),
        rx.cond(S.ants_required, _ants_number()),
        rx.hstack(
            rx.button("modifier l'usager", variant="ghost", on_click=S.change_usager),
            rx.button("modifier le créneau", variant="ghost", on_click=S.change_slot),
            spacing="3", wrap="wrap",
        ),
        rx.button(rx.cond(S.busy, rx.spinner(size="2"), rx.fragment()),
                  rx.cond(S.busy, "Réservation en cours…", "Confirmer le RDV"), size="3", disabled=S.busy,
                  on_click=S.confirm),
        width="100%", spacing="3",
    )


def confirmation_step() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Rendez-vous confirmé", as_="h2", size="6", id="prescription-confirme"),
        rx.el.dl(rx.foreach(S.confirmed_lines, _line), margin="0"),
        rx.cond(S.confirmed_instruction != "", rx.box(
            rx.heading("Informations supplémentaires", as_="h3", size="4"), rx.text(S.confirmed_instruction))),
        rx.text("Besoin de déplacer le rendez-vous ou de corriger un détail ? Contactez ", S.confirmed_contact, "."),
        rx.text("Une confirmation vous est aussi envoyée par email.", color=styles.TEXT_MUTED),
        rx.link("Retour à l'accueil", href=routes.AGENDA),
        spacing="3",
    ), width="100%")


@agent_page(routes.PRESCRIPTION, "Nouveau RDV par prescription", load=S.load)
def nouveau_rdv_par_prescription() -> rx.Component:
    return rx.vstack(
        rx.heading("Nouveau RDV par prescription", as_="h1", size="7"),
        rx.text("Réservez un créneau ouvert à la prescription dans une organisation de votre territoire.",
                color=styles.TEXT_MUTED),
        rx.cond(S.usager_name != "", rx.el.p("Pour ", rx.el.strong(S.usager_name), class_name="info-box")),
        form_alert(S.denied),
        form_alert(S.error),
        rx.cond(
            S.loading, loading_block(),
            # Nothing is chosen nor booked before the page is loaded for this organisation and address.
            rx.cond(S.denied == "", loaded_fieldset(rx.match(
                S.step,
                ("usager", usager_step()),
                ("recap", recap_step()),
                ("confirmation", confirmation_step()),
                slot_step(),
            ), loaded_for=S.loaded_for)),
        ),
        spacing="5", width="100%",
    )
