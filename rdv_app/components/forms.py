"""Accessible form pieces: a visible label, a hint, an error tied to its field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx
from reflex.experimental.client_state import ClientStateVar

# The hidden input of a form carrying the key of what it was rendered with (rdv_app.state.loaded).
LOADED_FOR_FIELD = "loaded_for"
# In the browser only: the key (`loaded_for`) of the form a person just left for another record of the same
# page, from their click until the server has answered it (`switching_record`).
LEFT_FORM = ClientStateVar.create("left_form_key", default="")


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
    shown. It carries the key to the save (`LOADED_FOR_FIELD`), for a form whose inputs are uncontrolled.

    The browser disables it at once when the person leaves its record: for another address (Reflex sets
    `is_hydrated` back to false as a navigation starts, and the record is in the address), or for another
    record of the same page (`switching_record`), without waiting for the server."""
    ready = rx.State.is_hydrated & (loaded_for != "") & (loaded_for != LEFT_FORM.value)
    return rx.el.fieldset(
        rx.el.input(type="hidden", name=LOADED_FOR_FIELD, value=loaded_for),
        *children,
        disabled=~ready, aria_busy=rx.cond(ready, "false", "true"), class_name=f"{class_name} bare-fieldset".strip(),
    )


def hydrated_fieldset(*children: rx.Component) -> rx.Component:
    """The fields and buttons of a form that needs no loaded values (sign-in), disabled until the page's
    JavaScript has taken over: the HTML shell shows the form first, and what a person typed there would be
    lost, or sent nowhere, when the page comes to life."""
    return rx.el.fieldset(*children, disabled=~rx.State.is_hydrated,
                          aria_busy=rx.cond(rx.State.is_hydrated, "false", "true"), class_name="bare-fieldset")


def switching_record(state: Any, event: Any) -> list:
    """The events of a control that shows another record in a page's form without changing the address
    (a row's "Modifier", "Créer", "Annuler la modification"): the form of `state` (a `LoadedForMixin`) is
    disabled at the click, in the browser, so that nothing is typed into the previous record's values
    while the server loads the next. `event` clears or replaces `loaded_for` (`_loading`, `_mark_loaded`);
    the server then answers `state.switched`, after it (a client's events run in order), and the form
    follows `loaded_for` again: a refused switch leaves the previous record, still loaded, enabled."""
    return [LEFT_FORM.set_value(state.loaded_for), event, state.switched]


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
