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


# Agents' colours in the agenda (a stripe on their events and a swatch in the legend): each reaches 3:1
# against white, as WCAG asks of graphics that carry meaning, and they differ in hue for one another.
AGENT_PALETTE = ("#1f5fbf", "#b3261e", "#2e7d32", "#8e24aa", "#c25e00", "#00796b", "#ad1457", "#5d4037",
                 "#3949ab", "#6d7a00")


def agent_colour(agent_id: int) -> str:
    """The agenda colour of an agent: the same every time, neighbours in the team apart."""
    return AGENT_PALETTE[agent_id % len(AGENT_PALETTE)]
