"""DSFR form pieces: button, input with its error, rich radio button."""

from __future__ import annotations

from typing import Any, Literal

import reflex as rx

ButtonKind = Literal["primary", "secondary", "tertiary"]


def button(label: str | rx.Var, *, kind: ButtonKind = "primary", type_: str = "button", full_width: bool = False,
           **props: Any) -> rx.Component:
    classes = "fr-btn" if kind == "primary" else f"fr-btn fr-btn--{kind}"
    return rx.el.button(label, type=type_, class_name=classes + (" rdv-btn--full" if full_width else ""), **props)


def input_group(field_id: str, label: str | rx.Var, *, error: rx.Var | str = "", hint: str | rx.Var = "",
                **input_props: Any) -> rx.Component:
    """A labelled field (fr-input-group). Its hint and its error (announced as it changes) are under the
    label and the field, tied to the field by aria-describedby (the label names the field alone); the field
    is aria-invalid while there is an error."""
    error_var = rx.Var.create(error).to(str)
    has_error = error_var != ""
    has_hint = isinstance(hint, rx.Var) or bool(hint)
    hint_id, error_id = f"{field_id}-aide", f"{field_id}-erreur"
    return rx.el.div(
        rx.el.label(label, class_name="fr-label", html_for=field_id),
        rx.el.p(hint, id=hint_id, class_name="fr-hint-text") if has_hint else rx.fragment(),
        rx.el.input(id=field_id, class_name="fr-input", aria_invalid=rx.cond(has_error, "true", "false"),
                    aria_describedby=f"{hint_id} {error_id}" if has_hint else error_id, **input_props),
        # Always there (a live region must exist before its text); the DSFR's error look only with an error.
        rx.el.p(error_var, id=error_id, class_name=rx.cond(has_error, "fr-error-text", "rdv-no-error"),
                aria_live="polite"),
        class_name=rx.cond(has_error, "fr-input-group fr-input-group--error", "fr-input-group"),
    )


def radio_rich(name: str, value: str, label: str, *, checked: rx.Var | bool, on_change: Any,
               hint: str = "", pictogram: rx.Component | None = None) -> rx.Component:
    """One choice of a group of large radio buttons (fr-radio-rich), with an optional pictogram."""
    field_id = f"{name}-{value}"
    label_children: list[Any] = [label]
    if hint:
        label_children.append(rx.el.span(hint, class_name="fr-hint-text"))
    return rx.el.div(
        rx.el.div(
            rx.el.input(type="radio", id=field_id, name=name, value=value, checked=checked, on_change=on_change),
            rx.el.label(*label_children, class_name="fr-label", html_for=field_id),
            *([rx.el.div(pictogram, class_name="fr-radio-rich__img")] if pictogram is not None else []),
            class_name="fr-radio-group fr-radio-rich",
        ),
        class_name="fr-fieldset__element",
    )
