"""Form fields backed by a state: a visible label, an optional hint, and the service's error shown
under the field and tied to it (aria-invalid, aria-describedby through the field's id)."""

from __future__ import annotations

from typing import Any

import reflex as rx


def error_id(field_id: str) -> str:
    return f"{field_id}-erreur"


def hint_id(field_id: str) -> str:
    return f"{field_id}-aide"


def _described_by(field_id: str, hint: str, with_error: bool = True) -> str:
    ids = [hint_id(field_id)] if hint else []
    return " ".join([*ids, error_id(field_id)] if with_error else ids)


def _invalid(error: rx.Var | str) -> rx.Var | str:
    if isinstance(error, str):
        return "true" if error else "false"
    return rx.cond(error != "", "true", "false")


def field_error(field_id: str, error: rx.Var | str) -> rx.Component:
    # Always rendered, so that aria-describedby never points to a missing element.
    return rx.el.p(error, id=error_id(field_id), class_name="field-error")


def _label_and_hint(field_id: str, label: str, hint: str) -> list[rx.Component]:
    parts = [rx.el.label(label, html_for=field_id, class_name="field-label")]
    if hint:
        parts.append(rx.text(hint, id=hint_id(field_id), class_name="field-hint"))
    return parts


def input_field(field_id: str, label: str, *, initial: rx.Var, key: rx.Var, on_change: Any,
                error: rx.Var | str = "", type_: str = "text", hint: str = "", required: bool = True,
                **props: Any) -> rx.Component:
    """An uncontrolled input (typing is never undone by a late server answer) that reports every change;
    the state shows a new `initial` value by changing `key`, which mounts a fresh input."""
    return rx.box(
        *_label_and_hint(field_id, label, hint),
        rx.el.input(
            id=field_id, type=type_, default_value=initial, key=key, on_change=on_change, required=required,
            aria_describedby=_described_by(field_id, hint), aria_invalid=_invalid(error),
            class_name="text-input", **props,
        ),
        field_error(field_id, error),
        width="100%",
    )


def select_field(field_id: str, label: str, *, value: rx.Var, on_change: Any, options: rx.Var | list,
                 error: rx.Var | str | None = "", placeholder: str = "", hint: str = "",
                 required: bool = False) -> rx.Component:
    """A native select; `options` is a list of objects with `value` and `label` (a state var or constants).
    `error=None` for a select that cannot be wrong, such as a filter: no error line under it."""
    if isinstance(options, rx.Var):
        choices: Any = rx.foreach(options, lambda o: rx.el.option(o.label, value=o.value))
    else:
        choices = rx.fragment(*[rx.el.option(o.label, value=o.value) for o in options])
    return rx.box(
        *_label_and_hint(field_id, label, hint),
        rx.el.select(
            rx.el.option(placeholder, value="") if placeholder else rx.fragment(),
            choices,
            id=field_id, value=value, on_change=on_change, required=required,
            aria_describedby=_described_by(field_id, hint, with_error=error is not None) or None,
            aria_invalid=None if error is None else _invalid(error),
            class_name="text-input",
        ),
        field_error(field_id, error) if error is not None else rx.fragment(),
        width="100%",
    )


def checkbox(label: rx.Var | str, *, initial: rx.Var[bool] | bool, on_change: Any, key: rx.Var | str | None = None,
             **props: Any) -> rx.Component:
    """Uncontrolled like `input_field`: a click shows at once, whatever the server's latency."""
    return rx.el.label(
        rx.el.input(type="checkbox", default_checked=initial, key=key, on_change=on_change, **props),
        label,
        class_name="checkbox-label",
    )


def fieldset(field_id: str, legend: str, *children: rx.Component, error: rx.Var | str = "",
             hint: str = "") -> rx.Component:
    """A group of checkboxes or of related fields, with one error for the group."""
    return rx.el.fieldset(
        rx.el.legend(legend, class_name="field-label"),
        rx.text(hint, id=hint_id(field_id), class_name="field-hint") if hint else rx.fragment(),
        *children,
        field_error(field_id, error),
        id=field_id,
        aria_describedby=_described_by(field_id, hint),
        class_name="agents-fieldset",
    )
