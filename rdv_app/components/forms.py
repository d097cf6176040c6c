"""Accessible form pieces: a visible label, a hint, an error tied to its field."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

# The hidden input of a form carrying the key of what it was rendered with (rdv_app.state.loaded).
LOADED_FOR_FIELD = "loaded_for"


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


def loaded_fieldset(*children: rx.Component, loaded_for: rx.Var[str], class_name: str = "") -> rx.Component:
    """The fields and buttons of a form, disabled until its values are loaded for this page and record
    (`rdv_app.state.loaded`): `loaded_for` is the state's key, and Reflex has run every on_load of the page
    shown. It carries the key to the save (`LOADED_FOR_FIELD`), for a form whose inputs are uncontrolled."""
    ready = rx.State.is_hydrated & (loaded_for != "")
    return rx.el.fieldset(
        rx.el.input(type="hidden", name=LOADED_FOR_FIELD, value=loaded_for),
        *children,
        disabled=~ready, aria_busy=rx.cond(ready, "false", "true"), class_name=f"{class_name} bare-fieldset".strip(),
    )


def form_alert(message: rx.Var) -> rx.Component:
    return rx.cond(message != "", rx.el.div(message, role="alert", class_name="form-alert"), rx.fragment())


@dataclass
class FieldErrorLink:
    """One line of an error summary: the message, and the anchor of the field to fix."""

    href: str
    message: str


def field_error_links(errors: dict[str, str], id_prefix: str = "champ-") -> list[FieldErrorLink]:
    """{field name: message}, in the form's order, as the summary's lines (fields' ids: `id_prefix` + name)."""
    return [FieldErrorLink(f"#{id_prefix}{name}", message) for name, message in errors.items()]


def error_summary(errors: rx.Var) -> rx.Component:
    """Every error of the last submission, each a link to its field (RGAA 11.10 and 11.11): a person who
    left every field empty learns at once all that is missing. `errors` is a list of FieldErrorLink."""

    def item(error: FieldErrorLink) -> rx.Component:
        return rx.el.li(rx.el.a(error.message, href=error.href, class_name="inline-link"))

    return rx.cond(
        errors.length() > 0,  # type: ignore[attr-defined]
        rx.el.div(rx.el.p("Corrigez les points suivants :", class_name="error-summary-title"),
                  rx.el.ul(rx.foreach(errors, item), class_name="error-summary-list"),
                  role="alert", class_name="form-alert error-summary"),
        rx.fragment(),
    )
