"""Thin Reflex components drawing the State design system (DSFR, `@gouvfr/dsfr` from npm; see `plugin`):
each writes the DSFR's own markup and classes, and takes its texts and events as props."""

from rdv_app.components.dsfr.blocks import alert, badge, breadcrumb, card, notice, stepper, tile
from rdv_app.components.dsfr.display import display_settings_modal, follow_display_setting
from rdv_app.components.dsfr.forms import button, input_group, radio_rich
from rdv_app.components.dsfr.frame import footer, header
from rdv_app.components.dsfr.modal import modal

__all__ = ["alert", "badge", "breadcrumb", "button", "card", "display_settings_modal",
           "follow_display_setting", "footer", "header", "input_group", "modal", "notice", "radio_rich",
           "stepper", "tile"]
