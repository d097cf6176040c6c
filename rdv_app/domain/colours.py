"""Readable text on a coloured background (WCAG 2 contrast), for motif colours chosen by admins."""

from __future__ import annotations

DARK_TEXT = "#000000"  # with white, at least 4.58:1 on any background
LIGHT_TEXT = "#ffffff"


def _luminance(hex_colour: str) -> float:
    """WCAG relative luminance of "#rrggbb" (or "#rgb")."""
    digits = hex_colour.strip().lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    channels = [int(digits[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    high, low = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def readable_text_colour(background: str) -> str:
    """White or near-black, whichever contrasts more with the background."""
    return max((LIGHT_TEXT, DARK_TEXT), key=lambda text: contrast_ratio(text, background))


# Agents' colours in the agenda (a stripe on their events, and the background of their initials, in white,
# in the legend). Each carries white text at 4.5:1 (so it also stands out from the white page at more than
# the 3:1 WCAG asks of graphics that carry meaning);
# they differ in hue from one another. An agent picks one in "Mon compte", or a colour of their own that
# meets the same contrast.
AGENT_PALETTE = ("#1f5fbf", "#b3261e", "#2e7d32", "#8e24aa", "#ad5400", "#00796b", "#ad1457", "#5d4037",
                 "#3949ab", "#6d7a00")
AGENT_PALETTE_NAMES = dict(zip(AGENT_PALETTE, ("Bleu", "Rouge", "Vert", "Violet", "Orange", "Vert canard",
                                               "Framboise", "Brun", "Indigo", "Olive"), strict=True))
AGENT_COLOUR_CONTRAST = 4.5
_HEX_DIGITS = frozenset("0123456789abcdef")


def agent_colour(agent_id: int, chosen: str | None = None) -> str:
    """The agenda colour of an agent: the one they chose, else the same every time, neighbours in the team
    apart."""
    return chosen or AGENT_PALETTE[agent_id % len(AGENT_PALETTE)]


def normalised_colour(value: str) -> str | None:
    """"#RGB" or "#RRGGBB" (the "#" optional, any case) as "#rrggbb"; None if it is not a colour."""
    digits = value.strip().lstrip("#").lower()
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return f"#{digits}" if len(digits) == 6 and set(digits) <= _HEX_DIGITS else None


def agent_colour_problem(colour: str) -> str | None:
    """Why a colour cannot be an agent's agenda colour (in French, for the form), or None if it can."""
    normalised = normalised_colour(colour)
    if normalised is None:
        return "Saisissez une couleur au format #RRGGBB, par exemple #1f5fbf."
    ratio = contrast_ratio(normalised, LIGHT_TEXT)
    if ratio < AGENT_COLOUR_CONTRAST:
        return (f"Cette couleur est trop claire : un texte blanc n'y atteint qu'un contraste de {_french(ratio)}:1, "
                "il faut 4,5:1 au moins. Choisissez une couleur plus foncée.")
    return None


def _french(ratio: float) -> str:
    """Rounded down (4.49 is not 4,5) with a decimal comma."""
    return f"{int(ratio * 10) / 10:.1f}".replace(".", ",")
