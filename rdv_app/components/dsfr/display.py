"""The DSFR's "Paramètres d'affichage": light, dark, or as the system says. The choice is Reflex's colour
mode (kept in the browser's localStorage); `follow_display_setting` copies it onto the page's root as the
DSFR's `data-fr-scheme` / `data-fr-theme` attributes, which switch the DSFR's colour tokens, and the app's
own (`styles.DARK_CSS_PROPERTIES`) on the public pages."""

from __future__ import annotations

import reflex as rx
from reflex.style import color_mode, resolved_color_mode, set_color_mode
from reflex.vars.base import VarData

from rdv_app.components.dsfr.forms import radio_rich
from rdv_app.components.dsfr.modal import modal

SCHEMES = (
    ("light", "Thème clair", ""),
    ("dark", "Thème sombre", ""),
    ("system", "Système", "Utilise les paramètres système"),
)


class _FollowedScheme(rx.Fragment):
    """Sets the DSFR's scheme attributes on <html> as the display setting says."""

    def add_hooks(self) -> list[str | rx.Var]:
        return [_set_root_scheme(str(color_mode), str(resolved_color_mode),
                                 VarData.merge(color_mode._get_all_var_data(), resolved_color_mode._get_all_var_data()))]


class _LightScheme(rx.Fragment):
    """Sets the DSFR's scheme attributes on <html> to light."""

    def add_hooks(self) -> list[str | rx.Var]:
        return [_set_root_scheme('"light"', '"light"', None)]


def _set_root_scheme(scheme: str, theme: str, data: VarData | None) -> rx.Var:
    return rx.Var(
        "useEffect(() => { const root = document.documentElement; "
        f"root.setAttribute('data-fr-scheme', {scheme}); root.setAttribute('data-fr-theme', {theme}); "
        f"}}, [{scheme}, {theme}])",
        _var_data=VarData.merge(data, VarData(imports={"react": [rx.ImportVar(tag="useEffect")]})),
    )


def follow_display_setting(*, forced_light: bool = False) -> rx.Component:
    return _LightScheme.create() if forced_light else _FollowedScheme.create()


def _choices() -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend("Choisissez un thème pour personnaliser l'apparence du site.",
                     class_name="fr-fieldset__legend--regular fr-fieldset__legend"),
        *[radio_rich("affichage", value, label, hint=hint, checked=color_mode == value,
                     on_change=set_color_mode(value))  # type: ignore[arg-type]
          for value, label, hint in SCHEMES],
        class_name="fr-fieldset", id="affichage",
    )


def display_settings_button() -> rx.Component:
    return rx.el.button("Paramètres d'affichage", type="button",
                        class_name="fr-footer__bottom-link")


def display_settings_modal() -> rx.Component:
    """The footer's button and the dialog it opens."""
    return modal(display_settings_button(), "Paramètres d'affichage", _choices())
