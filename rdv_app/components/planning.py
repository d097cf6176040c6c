"""Repetition fields of plages d'ouverture and indisponibilités (the weekly ones are shared)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx
from reflex.vars.sequence import ArrayVar, StringVar

from rdv_app.choices import Option
from rdv_app.components.fields import checkbox, fieldset, input_field, select_field
from rdv_app.domain.recurrence import ORDINAL_LABELS_FR

WEEK_INTERVALS = [Option("1", "Chaque semaine"),
                  *[Option(str(n), f"Toutes les {n} semaines") for n in range(2, 6)]]
MONTH_ORDINALS = [Option(str(n), ORDINAL_LABELS_FR[n]) for n in (1, 2, 3, 4, -1)]


def weekly_fields(prefix: str, *, weekdays: list[Option], days: ArrayVar, key: rx.Var,
                  on_toggle_day: Callable[[str, Any], Any], interval: rx.Var, on_interval: Any) -> rx.Component:
    """`weekdays` offered as checkboxes, `days` the ones ticked."""
    return rx.fragment(
        fieldset(
            f"{prefix}-jours", "Jours de la semaine",
            rx.el.div(*[checkbox(day.label, initial=days.contains(day.value), key=key,
                                 on_change=lambda checked, value=day.value: on_toggle_day(value, checked))
                        for day in weekdays],
                      class_name="choice-row"),
            hint="Sans jour coché, la répétition a lieu le jour de la semaine de la date choisie.",
        ),
        rx.box(
            select_field(f"{prefix}-frequence", "Fréquence", value=interval, on_change=on_interval,
                         options=WEEK_INTERVALS),
            max_width="20rem",
        ),
    )


def until_field(prefix: str, *, initial: rx.Var, key: rx.Var, on_change: Any) -> rx.Component:
    return rx.box(
        input_field(f"{prefix}-jusqu-au", "Jusqu'au (facultatif)", initial=initial, key=key,
                    on_change=on_change, type_="date", required=False,
                    hint="Dernier jour inclus. Sans date, la répétition continue sans fin."),
        max_width="20rem",
    )


def status_region(message: rx.Var) -> rx.Component:
    """Always in the page, so that a message appearing in it is announced."""
    return rx.el.div(
        rx.cond(message != "", rx.el.p(message, class_name="success-box"), rx.fragment()),
        role="status",
        width="100%",
    )


def info_box(text: str) -> rx.Component:
    return rx.el.p(text, class_name="info-box")


def badge(text: rx.Var[str] | str) -> rx.Component:
    return rx.el.span(text, class_name="status-badge")


def row_actions(noun: str, title: StringVar | str, on_edit: Any, on_delete: Any) -> rx.Component:
    """'Modifier' and 'Supprimer', named after the row for screen readers (the visible word first)."""
    return rx.hstack(
        rx.button(rx.icon("pencil", size=16), "Modifier", variant="outline", size="3", on_click=on_edit,
                  aria_label=f"Modifier {noun} « " + title + " »"),
        rx.button(rx.icon("trash-2", size=16), "Supprimer", variant="outline", color_scheme="red", size="3",
                  on_click=on_delete, aria_label=f"Supprimer {noun} « " + title + " »"),
        spacing="2", wrap="wrap",
    )


def delete_dialog(title: str, description: rx.Var | str, *, is_open: rx.Var, on_open_change: Any,
                  on_confirm: Any, busy: rx.Var) -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(description),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Annuler", variant="outline", size="3")),
                rx.el.button(
                    rx.cond(busy, rx.spinner(size="2"), rx.icon("trash-2", size=16)),
                    "Supprimer définitivement",
                    on_click=on_confirm, disabled=busy, type="button", class_name="danger-button",
                ),
                justify="end", spacing="3", margin_top="1rem", wrap="wrap",
            ),
        ),
        open=is_open,
        on_open_change=on_open_change,
    )


def sms_name_warning(field_id: str, warning: rx.Var) -> rx.Component:
    """Said while an agent types a collective session's name: SMS cut a long one (a polite live region)."""
    return rx.el.div(rx.cond(warning != "", rx.el.p(warning, class_name="warning-box"), rx.fragment()),
                     id=f"{field_id}-sms", aria_live="polite")
