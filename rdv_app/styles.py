"""Design tokens, in one place.

Three outputs read them: the Reflex pages (Python props, and `assets/styles.css` through the CSS custom
properties `--rdv-<name>` that `css_custom_properties` declares in every page's head), the pages the
server renders itself (`rdv_app.api.html_page`, same custom properties) and the HTML emails
(`rdv_app.notify.email_html`, values inlined: mail clients ignore custom properties).
Contrasts are against white unless said otherwise. The values are the State design system's (DSFR,
`rdv_app.components.dsfr`), whose stylesheets every page loads: its Marianne font, its focus ring.
On the public pages the tokens follow the DSFR's display setting: `DARK` holds their dark values (the
DSFR's dark palette, contrasts against DARK["background"]), and a page's Python props take them as
`var("text-muted")` where they must follow it.
"""

from typing import Any

BRAND_BLUE = "#000091"  # "bleu France": 14.9:1; links, buttons, focus rings
BRAND_BLUE_HOVER = "#1212ff"
BLUE_SURFACE = "#e3e3fd"  # blue text on it: 11.8:1
INFO_SURFACE = "#f5f5fe"
TEXT = "#161616"  # 18.1:1
TEXT_MUTED = "#3a3a3a"  # 11.4:1
ON_COLOUR = "#ffffff"  # text on the blue, red and green fills
BACKGROUND = "#ffffff"
SURFACE = "#f6f6f6"
BADGE_SURFACE = "#eeeeee"  # muted text on it: 9.8:1
BORDER = "#dddddd"
INPUT_BORDER = "#666666"  # 5.7:1, enough for a field's outline
ERROR_RED = "#ce0500"  # 5.8:1, 5.3:1 on its surface
ERROR_RED_HOVER = "#a90400"
ERROR_SURFACE = "#fff4f3"
WARNING = "#b34000"  # 5.8:1
WARNING_SURFACE = "#fff4e5"
SUCCESS = "#18753c"  # 5.8:1
SUCCESS_SURFACE = "#eefbf1"
CALENDAR_LABEL = "#1f2937"  # titles of the plages drawn behind the agenda: 11.7:1 on their colour

FONT_FAMILY = "Marianne, 'Helvetica Neue', Arial, sans-serif"

MAX_CONTENT_WIDTH = "72rem"
NARROW_WIDTH = "28rem"

SPACE_S = "0.5rem"
SPACE_M = "1rem"
SPACE_L = "2rem"

# The custom properties the stylesheets use, as `var(--rdv-blue)`.
CSS_PROPERTIES = {
    "blue": BRAND_BLUE,
    "blue-hover": BRAND_BLUE_HOVER,
    "blue-surface": BLUE_SURFACE,
    "info-surface": INFO_SURFACE,
    "text": TEXT,
    "text-muted": TEXT_MUTED,
    "on-colour": ON_COLOUR,
    "background": BACKGROUND,
    "surface": SURFACE,
    "badge-surface": BADGE_SURFACE,
    "border": BORDER,
    "input-border": INPUT_BORDER,
    "error": ERROR_RED,
    "error-hover": ERROR_RED_HOVER,
    "error-surface": ERROR_SURFACE,
    "warning": WARNING,
    "warning-surface": WARNING_SURFACE,
    "success": SUCCESS,
    "success-surface": SUCCESS_SURFACE,
    "calendar-label": CALENDAR_LABEL,
    "font": FONT_FAMILY,
}


# The public pages in the DSFR's dark theme ("Paramètres d'affichage": Thème sombre).
DARK = {
    "blue": "#8585f6",  # 6.1:1
    "blue-hover": "#b1b1f9",
    "blue-surface": "#1b1b35",  # the blue on it: 5.4:1
    "info-surface": "#1b1b35",
    "text": "#cecece",  # 11.6:1
    "text-muted": "#a8a8a8",  # 8.0:1
    "on-colour": "#161616",  # on the blue fill: 6.1:1
    "background": "#161616",
    "surface": "#1e1e1e",
    "badge-surface": "#2a2a2a",
    "border": "#3a3a3a",
    "input-border": "#929292",  # 5.8:1
    "error": "#ff5655",  # 6.1:1
    "error-hover": "#ff8c8c",
    "error-surface": "#391c1c",
    "warning": "#fc5d00",  # 5.6:1
    "warning-surface": "#361e19",
    "success": "#27a658",  # 5.8:1
    "success-surface": "#19271d",
}


def var(name: str) -> str:
    """A token as a prop that follows the display setting: `var(--rdv-<name>)`."""
    if name not in CSS_PROPERTIES:
        raise KeyError(name)
    return f"var(--rdv-{name})"


def hover_tinted(style: dict[str, Any]) -> dict[str, Any]:
    """A link's `style` whose hover background shows: the DSFR paints a link's background under the mouse and
    while pressed with its own rules (`a[href]:hover`, more specific than a style's class) from `--hover-tint`
    and `--active-tint`, transparent unless set, which left a white time on a white page. Here both are the
    `_hover` background."""
    background = style.get("_hover", {}).get("background")
    return style if background is None else {**style, "--hover-tint": background, "--active-tint": background}


def css_custom_properties() -> str:
    """`:root{--rdv-blue:#000091;…}`, for a page's head, and the dark values of the public pages."""
    light = "".join(f"--rdv-{name}:{value};" for name, value in CSS_PROPERTIES.items())
    dark = "".join(f"--rdv-{name}:{value};" for name, value in DARK.items())
    return f":root{{{light}}}:root[data-fr-theme=dark] .public-shell{{{dark}}}"


base_style = {
    "font_family": FONT_FAMILY,
}
