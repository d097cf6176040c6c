"""The pieces of the statistics pages: counters, a stacked column chart (Reflex's recharts) with its text
summary and its data table, and the period form. Each chart is drawn for the eyes only (hidden from
assistive technologies); its summary and its table ("Voir les données") carry the same numbers as text."""

from __future__ import annotations

from typing import Any

import reflex as rx

from rdv_app import styles
from rdv_app.components.forms import form_alert


def counters_list(counters: rx.Var, label: str, with_links: bool) -> rx.Component:
    """The status counters, each a link to the RDV list with that status (`with_links`), or plain numbers."""

    def counter(item: Any) -> rx.Component:
        body = rx.fragment(rx.el.span(item.count, class_name="stats-counter-number"),
                           rx.el.span(item.label, class_name="stats-counter-label"))
        return rx.el.li(rx.link(body, href=item.href, class_name="stats-counter") if with_links
                        else rx.el.div(body, class_name="stats-counter"))

    return rx.el.ul(rx.foreach(counters, counter), aria_label=label, class_name="stats-counters")


def _data_table(chart: Any) -> rx.Component:
    return rx.el.details(
        rx.el.summary("Voir les données", rx.el.span(" : ", chart.title, class_name="visually-hidden")),
        rx.box(
            rx.el.table(
                rx.el.caption(chart.title),
                rx.el.thead(rx.el.tr(rx.foreach(chart.headers, lambda h: rx.el.th(h, scope="col")))),
                rx.el.tbody(rx.foreach(chart.rows, lambda row: rx.el.tr(
                    rx.el.th(row[0], scope="row"),
                    rx.foreach(row[1:], lambda cell: rx.el.td(cell))))),
                class_name="stats-table",
            ),
            overflow_x="auto",
        ),
    )


def chart_figure(chart: Any) -> rx.Component:
    """A stacked column chart, one column per week (or month), with its summary and its data table."""
    heading_id = "graphique-" + chart.id.to(str)
    return rx.el.section(
        rx.heading(chart.title, as_="h3", size="4", id=heading_id),
        rx.text(chart.summary, color=styles.TEXT_MUTED),
        rx.cond(
            chart.empty,
            rx.fragment(),
            rx.box(
                rx.recharts.bar_chart(
                    rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
                    rx.recharts.x_axis(data_key="semaine", tick={"fontSize": 12}),
                    rx.recharts.y_axis(allow_decimals=False, tick={"fontSize": 12}),
                    rx.recharts.graphing_tooltip(),
                    rx.recharts.legend(),
                    rx.foreach(chart.series, lambda s: rx.recharts.bar(
                        data_key=s.key, name=s.label, fill=s.color, stack_id="semaine",
                        is_animation_active=False)),
                    data=chart.data,
                    width="100%",
                    height=320,
                    # The chart takes no focus: its numbers are the summary's and the table's.
                    custom_attrs={"accessibilityLayer": False},
                ),
                aria_hidden="true",
                width="100%",
                class_name="stats-chart",
            ),
        ),
        _data_table(chart),
        aria_labelledby=heading_id,
        class_name="stats-figure",
        width="100%",
    )


def period_form(first_day: rx.Var, last_day: rx.Var, error: rx.Var, busy: rx.Var, ready: rx.Var,
                on_first_day: Any, on_last_day: Any,
                on_submit: Any) -> rx.Component:
    """"Du … au …" and "Afficher": the fields stay disabled until the page has its period."""
    return rx.form(
        rx.hstack(
            rx.vstack(
                rx.el.label("Du", html_for="stats-du"),
                rx.el.input(id="stats-du", type="date", value=first_day, on_change=on_first_day,
                            disabled=~ready, required=True, class_name="text-input",
                            aria_describedby="stats-periode-aide"),
                spacing="1",
            ),
            rx.vstack(
                rx.el.label("Au", html_for="stats-au"),
                rx.el.input(id="stats-au", type="date", value=last_day, on_change=on_last_day,
                            disabled=~ready, required=True, class_name="text-input",
                            aria_describedby="stats-periode-aide"),
                spacing="1",
            ),
            rx.button("Afficher", type="submit", loading=busy, disabled=~ready),
            align="end", spacing="3", wrap="wrap",
        ),
        rx.text("Les semaines commencent le lundi ; deux ans au plus.", id="stats-periode-aide", size="2",
                color=styles.TEXT_MUTED),
        form_alert(error),
        no_validate=True, on_submit=lambda _form: on_submit(),
        aria_label="Période",
        class_name="stack-form",
    )
