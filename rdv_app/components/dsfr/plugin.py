"""The State design system (`@gouvfr/dsfr`, from npm, pinned in reflex.lock): its core stylesheet (tokens,
the Marianne fonts it bundles, typography, focus ring, light and dark schemes) and the stylesheets of the
components `rdv_app.components.dsfr` draws, not the whole 700 KiB bundle. The package itself is one of
rxconfig's `frontend_packages` (a plugin's dependencies are imported as JavaScript modules, and the DSFR's
package has no JavaScript entry). None of its JavaScript is loaded:
the few behaviours these components need (a dialog, the display setting) are Reflex's and Radix's."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from reflex_base.plugins.base import Plugin

DSFR_PACKAGE = "@gouvfr/dsfr@1.15.3"
DSFR_COMPONENTS = ("logo", "link", "button", "form", "input", "radio", "tile", "card", "badge", "alert", "notice", "stepper",
                   "breadcrumb", "modal", "header", "footer")


@dataclasses.dataclass
class DsfrPlugin(Plugin):
    def get_stylesheet_paths(self, **context: Any) -> Sequence[str]:
        return ("@gouvfr/dsfr/dist/core/core.main.min.css", "@gouvfr/dsfr/dist/scheme/scheme.min.css",
                *(f"@gouvfr/dsfr/dist/component/{name}/{name}.main.min.css" for name in DSFR_COMPONENTS))
