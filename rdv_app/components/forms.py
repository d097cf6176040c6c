"""Accessible form pieces: a visible label, a hint, an error tied to its field."""

from __future__ import annotations

import reflex as rx


def text_field(name: str, label: str, *, type_: str = "text", error: rx.Var | str = "", hint: str = "",
               autocomplete: str = "", required: bool = True, field_id: str = "",
               default_value: rx.Var | str | None = None) -> rx.Component:
    field_id = field_id or f"champ-{name}"
    extra = {} if default_value is None else {"default_value": default_value}
    error_id = f"{field_id}-erreur"
    hint_id = f"{field_id}-aide"
    described = " ".join(x for x in (hint_id if hint else "", error_id) if x)
    return rx.box(
        rx.el.label(label, html_for=field_id, class_name="field-label"),
        rx.text(hint, id=hint_id, class_name="field-hint") if hint else rx.fragment(),
        rx.el.input(
            id=field_id, name=name, type=type_, required=required, auto_complete=autocomplete or "off",
            class_name="text-input", aria_describedby=described,
            aria_invalid=rx.cond(error != "", "true", "false"), **extra,
        ),
        rx.el.p(error, id=error_id, class_name="field-error", aria_live="polite"),
        width="100%",
    )


def form_alert(message: rx.Var) -> rx.Component:
    return rx.cond(message != "", rx.el.div(message, role="alert", class_name="form-alert"), rx.fragment())
