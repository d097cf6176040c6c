"""'Trouver un RDV': criteria, lieux with their next availability, a week of slots."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes, styles
from rdv_app.choices import Option
from rdv_app.components.fields import error_id, field_error, select_field
from rdv_app.components.forms import form_alert
from rdv_app.components.layout import loading_block
from rdv_app.pages.template import agent_page
from rdv_app.state.creneaux import CreneauxState, DayColumn, LieuCard, SlotButton


def _select(field_id: str, label: str, value: rx.Var, on_change, options: rx.Var, placeholder: str) -> rx.Component:
    return rx.box(
        rx.el.label(label, html_for=field_id, class_name="field-label"),
        rx.el.select(
            rx.el.option(placeholder, value=""),
            rx.foreach(options, lambda o: rx.el.option(o.label, value=o.value)),
            id=field_id, value=value, on_change=on_change, class_name="text-input",
        ),
        width="100%",
    )


def _error_for(field: str) -> rx.Var | str:
    return CreneauxState.field_errors.get(field, "")


def _agent_checkbox(option: Option) -> rx.Component:
    return rx.el.label(
        rx.el.input(type="checkbox", checked=CreneauxState.agent_ids.contains(option.value),
                    on_change=lambda checked: CreneauxState.toggle_agent(option.value, checked)),
        option.label,
        class_name="checkbox-label",
    )


def criteria() -> rx.Component:
    return rx.form(
        rx.grid(
            _select("champ-service", "Service", CreneauxState.service_id, CreneauxState.set_service,
                    CreneauxState.services, "Tous les services"),
            select_field("champ-motif", "Motif", value=CreneauxState.motif_id, on_change=CreneauxState.set_motif,
                         options=CreneauxState.motifs_shown, placeholder="Choisissez un motif", required=True,
                         error=_error_for("motif_id")),
            _select("champ-lieu", "Lieu", CreneauxState.lieu_id, CreneauxState.set_lieu, CreneauxState.lieux,
                    "Tous les lieux"),
            rx.box(
                rx.el.label("À partir du", html_for="champ-date", class_name="field-label"),
                rx.debounce_input(rx.el.input(id="champ-date", type="date", value=CreneauxState.from_day,
                                              on_change=CreneauxState.set_from_day, class_name="text-input",
                                              required=True, aria_describedby=error_id("champ-date"),
                                              aria_invalid=rx.cond(_error_for("from_day") != "", "true", "false")),
                                  debounce_timeout=300, force_notify_on_blur=True),
                field_error("champ-date", _error_for("from_day")),
            ),
            rx.cond(CreneauxState.teams.length() > 0,
                    _select("champ-equipe", "Équipes", CreneauxState.team_id, CreneauxState.set_team,
                            CreneauxState.teams, "Toutes les équipes")),
            columns=rx.breakpoints(initial="1", sm="2", lg="4"),
            spacing="4",
            width="100%",
        ),
        rx.el.fieldset(
            rx.el.legend("Agents (facultatif : tous les agents si aucun n'est coché)", class_name="field-label"),
            rx.flex(rx.foreach(CreneauxState.agents_shown, _agent_checkbox), wrap="wrap", spacing="4"),
            class_name="agents-fieldset",
        ),
        form_alert(CreneauxState.error),
        rx.button(
            rx.cond(CreneauxState.searching, rx.spinner(size="2"), rx.icon("search", size=16)),
            "Afficher les créneaux", type="submit", size="3", disabled=CreneauxState.searching,
        ),
        no_validate=True, on_submit=lambda _form: CreneauxState.search(),
        aria_label="Critères de recherche",
        class_name="stack-form",
    )


def _lieu_card(card: LieuCard) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(card.name, as_="h3", size="4"),
            rx.text(card.address, color=styles.TEXT_MUTED),
            rx.text(card.next_slot),
            rx.button("Voir les créneaux de ce lieu", on_click=CreneauxState.choose_lieu(card.lieu_id),
                      variant="soft"),
            spacing="2",
        ),
    )


def _slot_button(slot: SlotButton) -> rx.Component:
    """A link: the slot opens the planning of an RDV there (a new tab keeps the week in this one)."""
    return rx.link(
        # The space: its text reads "09h00 JP", as its name starts.
        rx.el.span(slot.time, class_name="slot-time"), " ",
        rx.el.span(slot.initials, class_name="slot-agent", style={"background_color": slot.colour}),
        href=slot.href,
        aria_label=slot.description,
        title=slot.agent + " · " + slot.lieu,
        underline="none",
        class_name="slot-button",
    )


def _day(day: DayColumn) -> rx.Component:
    return rx.el.section(
        rx.heading(day.label, as_="h3", size="3", class_name="day-title"),
        # In rx.foreach, `day.slots` is already a Var: Var.create returns it as is, typed for mypy.
        rx.cond(rx.Var.create(day.slots).length() > 0,
                rx.el.div(rx.foreach(day.slots, _slot_button), class_name="slot-list"),
                rx.text("Aucun créneau", size="2", color=styles.TEXT_MUTED)),
        class_name="day-column",
    )


def week() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.button(rx.icon("chevron-left", size=16), "Semaine précédente", variant="outline",
                      on_click=CreneauxState.shift_week(-1)),
            rx.heading(CreneauxState.week_title, as_="h2", size="5"),
            rx.button("Semaine suivante", rx.icon("chevron-right", size=16), variant="outline",
                      on_click=CreneauxState.shift_week(1)),
            justify="between", align="center", width="100%", wrap="wrap", spacing="3",
        ),
        rx.cond(
            CreneauxState.week_is_empty,
            rx.callout(
                rx.vstack(
                    rx.text("Aucun créneau disponible cette semaine."),
                    rx.cond(CreneauxState.next_label != "",
                            rx.button(CreneauxState.next_label, on_click=CreneauxState.jump_to_next),
                            rx.text("Aucune disponibilité dans les six prochains mois.")),
                ),
                icon="calendar-x", color_scheme="gray",
            ),
        ),
        rx.el.div(rx.foreach(CreneauxState.days, _day), class_name="week-grid"),
        width="100%",
        spacing="4",
    )


def widen() -> rx.Component:
    """"Élargir la recherche" (admin-domain.md 10.1), under the results, the empty week and the grid."""
    return rx.cond(
        CreneauxState.searched & CreneauxState.prescription_offered & ~CreneauxState.searching,
        rx.el.section(
            rx.text("Vous pouvez aussi élargir votre recherche aux créneaux ouverts à la prescription dans "
                    "d'autres organisations."),
            rx.link(rx.icon("search", size=16, aria_hidden="true"), "Élargir la recherche",
                    href=CreneauxState.prescription_href, font_weight="600"),
            class_name="info-box prescription-cta", aria_label="Élargir la recherche",
        ),
    )


def results() -> rx.Component:
    return rx.el.section(
        rx.cond(
            CreneauxState.searching,
            loading_block("Recherche des créneaux…"),
            rx.cond(
                CreneauxState.lieu_cards.length() > 0,
                rx.vstack(
                    rx.heading("Choisissez un lieu", as_="h2", size="5"),
                    rx.grid(rx.foreach(CreneauxState.lieu_cards, _lieu_card),
                            columns=rx.breakpoints(initial="1", md="2"), spacing="3", width="100%"),
                    width="100%",
                ),
                rx.cond(CreneauxState.searched, week()),
            ),
        ),
        aria_live="polite",
        aria_label="Résultats",
        width="100%",
    )


@agent_page(routes.CRENEAUX, "Trouver un RDV", load=CreneauxState.load)
def trouver_un_rdv() -> rx.Component:
    return rx.vstack(
        rx.heading("Trouver un RDV", as_="h1", size="7"),
        rx.text("Cherchez les créneaux libres d'un motif, pour un ou plusieurs agents, sur une semaine.",
                color=styles.TEXT_MUTED),
        form_alert(CreneauxState.denied),
        rx.cond(CreneauxState.usager_name != "",
                rx.el.p("Pour l'usager : ", rx.el.strong(CreneauxState.usager_name),
                        " (le créneau choisi ouvre le rendez-vous avec cet usager)", class_name="info-box")),
        form_alert(CreneauxState.usager_message),
        criteria(),
        results(),
        widen(),
        spacing="5",
        width="100%",
    )
