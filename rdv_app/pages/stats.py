"""Statistiques (admin-domain.md section 8): the organisation's page ("Statistiques" in the navigation,
every agent), the agent's own page, and the public `/stats` page (no sign-in, `?territoire=<id>`)."""

from __future__ import annotations

import reflex as rx

from rdv_app import routes, styles
from rdv_app.components.fields import select_field
from rdv_app.components.forms import form_alert
from rdv_app.components.layout import loading_block
from rdv_app.components.stats import chart_figure, counters_list, period_form
from rdv_app.pages.template import agent_page, template
from rdv_app.state.rdv_list import FORMAT_OPTIONS
from rdv_app.state.stats import PersonalStatsState, PublicNotificationsState, PublicStatsState, StatsState


def _section(heading_id: str, title: str, *children: rx.Component) -> rx.Component:
    return rx.el.section(rx.heading(title, as_="h2", size="5", id=heading_id), *children, width="100%",
                         aria_labelledby=heading_id, class_name="planning-section")


def _territories_nav(links: rx.Var) -> rx.Component:
    return rx.el.nav(
        rx.el.ul(rx.foreach(links, lambda t: rx.el.li(rx.el.a(
            t.name, href=t.href, aria_current=rx.cond(t.current, "page", "false")))),
            class_name="details-list"),
        aria_label="Territoires",
    )


def _activity_table() -> rx.Component:
    S = PublicStatsState
    return rx.box(
        rx.el.table(
            rx.el.caption("Activité des agents, aujourd'hui et il y a 30 jours"),
            rx.el.thead(rx.el.tr(rx.el.th("Agents", scope="col"), rx.el.th("Aujourd'hui", scope="col"),
                                 rx.el.th("Il y a 30 jours", scope="col"))),
            rx.el.tbody(rx.foreach(S.activity, lambda line: rx.el.tr(
                rx.el.th(line.label, scope="row"), rx.el.td(line.today), rx.el.td(line.month_ago)))),
            class_name="stats-table",
        ),
        overflow_x="auto",
    )


def _export(state: type[StatsState] | type[PersonalStatsState], what: str) -> rx.Component:
    """"Exporter": the RDV list's file of the period shown, made in the background like the list's."""
    ready = (state.shown_period != "") & ~state.exporting & ~state.computing
    return rx.el.section(
        rx.heading("Exporter", as_="h2", size="5", id="exporter-titre"),
        rx.text("Le fichier des RDV ", what, " ", state.shown_period, ", comme celui de la liste des RDV. Il est "
                "créé en arrière-plan : suivez sa progression dans « Vos exports ».", class_name="field-hint"),
        rx.flex(
            rx.box(select_field("format-export", "Format du fichier", value=state.export_format,
                                on_change=state.set_export_format, options=FORMAT_OPTIONS, error=None), width="14rem"),
            rx.button(rx.cond(state.exporting, rx.spinner(size="2")), "Exporter les RDV de la période", type="button",
                      on_click=state.export("rdv_export"), disabled=~ready),
            rx.button("Exporter les RDV par usager", type="button", variant="outline",
                      on_click=state.export("participations_export"), disabled=~ready),
            spacing="3", align="end", wrap="wrap"),
        rx.el.div(rx.cond(state.export_message != "",
                          rx.el.p(state.export_message, " ",
                                  rx.link("Voir vos exports", href=routes.EXPORTS, class_name="inline-link"),
                                  class_name="success-box")),
                  role="status"),
        form_alert(state.export_error),
        aria_labelledby="exporter-titre", class_name="planning-section", width="100%",
    )


def _agent_stats(state: type[StatsState] | type[PersonalStatsState], what: str, *top: rx.Component) -> rx.Component:
    return rx.cond(
        state.denied != "",
        form_alert(state.denied),
        rx.vstack(
            rx.heading(rx.cond(state.heading != "", state.heading, "Statistiques"), as_="h1", size="7"),
            *top,
            period_form(state.first_day_text, state.last_day_text, state.period_error, state.computing,
                        state.first_day_text != "", state.set_first_day, state.set_last_day, state.show_period),
            rx.cond(
                state.loading | state.computing,
                loading_block("Calcul des statistiques…"),
                rx.fragment(
                    _section("compteurs-titre", "Nombre de RDV par statut",
                             rx.text("RDV dont la date est dans la période ; chaque nombre ouvre la liste de ces RDV.",
                                     color=styles.TEXT_MUTED),
                             counters_list(state.counters, "RDV par statut", with_links=True)),
                    _section("graphiques-titre", "RDV créés pendant la période",
                             rx.foreach(state.charts, chart_figure)),
                    _export(state, what),
                ),
            ),
            spacing="5",
            width="100%",
        ),
    )


@agent_page(routes.STATS, "Statistiques", load=StatsState.load)
def organisation_stats() -> rx.Component:
    return _agent_stats(
        StatsState,
        "que vous voyez dans l'organisation",
        rx.link("Voir vos statistiques personnelles",
                href=rx.cond(StatsState.other_page_href != "", StatsState.other_page_href, routes.STATS_PERSONAL)),
        rx.cond(StatsState.whole_organisation, rx.fragment(),
                rx.el.p("Ces chiffres comptent les RDV que vous pouvez consulter : ceux des motifs de vos services "
                        "et ceux auxquels vous participez.", class_name="info-box")),
    )


@agent_page(routes.STATS_PERSONAL, "Vos statistiques", load=PersonalStatsState.load)
def personal_stats() -> rx.Component:
    return _agent_stats(
        PersonalStatsState,
        "auxquels vous participez",
        rx.link("Retour aux statistiques de l'organisation",
                href=rx.cond(PersonalStatsState.other_page_href != "", PersonalStatsState.other_page_href, routes.STATS),
                class_name="back-link"),
        rx.text("Les RDV auxquels vous participez, dans toutes vos organisations.", color=styles.TEXT_MUTED),
    )


@template(routes.PUBLIC_STATS, "Statistiques", on_load=PublicStatsState.load_public,
          description="Les rendez-vous pris avec les services publics : les chiffres publics, par territoire.")
def public_stats() -> rx.Component:
    S = PublicStatsState
    return rx.vstack(
        rx.heading(S.public_heading, as_="h1", size="7"),
        _territories_nav(S.territory_links),
        rx.cond(
            S.public_loading,
            loading_block("Calcul des statistiques…"),
            rx.cond(
                S.public_error != "",
                rx.fragment(form_alert(S.public_error),
                            rx.link("Voir les statistiques de tous les territoires", href=routes.PUBLIC_STATS)),
                rx.fragment(
                    rx.text(S.public_period, color=styles.TEXT_MUTED),
                    _section("statuts-titre", "Nombre de RDV par statut",
                             counters_list(S.public_counters, "RDV par statut", with_links=False)),
                    _section("participations-titre", "Nombre de RDV par statut de participation",
                             rx.text("En usager(s) : un RDV collectif compte chacun de ses participants.",
                                     color=styles.TEXT_MUTED),
                             counters_list(S.participation_counters, "Participations par statut", with_links=False)),
                    _section("rdv-titre", "Rendez-vous", rx.foreach(S.public_charts, chart_figure)),
                    _section("notifications-titre", "Notifications envoyées",
                             rx.link("Voir les notifications envoyées chaque jour", href=S.notifications_href)),
                    _section("agents-titre", "Activité des agents", _activity_table(),
                             rx.foreach(S.activity_charts, chart_figure)),
                    _section("outlook-titre", "Synchronisation Outlook",
                             rx.text(S.outlook_agents, " agent(s) synchronisent leur agenda avec Outlook.")),
                    rx.text("Ces chiffres couvrent tous les domaines du service.", color=styles.TEXT_MUTED),
                ),
            ),
        ),
        spacing="5",
        width="100%",
    )


@template(routes.PUBLIC_STATS_NOTIFICATIONS, "Notifications envoyées", on_load=PublicNotificationsState.load_notifications,
          description="Les notifications envoyées aux usagers et aux agents, jour par jour, par territoire.")
def public_notifications() -> rx.Component:
    S = PublicNotificationsState
    return rx.vstack(
        rx.heading(S.notifications_heading, as_="h1", size="7"),
        rx.link("Retour aux statistiques", href=S.stats_href, class_name="back-link"),
        _territories_nav(S.notifications_territories),
        rx.cond(
            S.notifications_loading,
            loading_block("Calcul des statistiques…"),
            rx.cond(
                S.notifications_error != "",
                rx.fragment(form_alert(S.notifications_error),
                            rx.link("Voir les notifications de tous les territoires",
                                    href=routes.PUBLIC_STATS_NOTIFICATIONS)),
                rx.fragment(
                    rx.text(S.notifications_period, color=styles.TEXT_MUTED),
                    _section("jours-titre", "Les 30 derniers jours", rx.foreach(S.notification_charts, chart_figure)),
                ),
            ),
        ),
        spacing="5",
        width="100%",
    )
