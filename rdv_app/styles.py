"""Design tokens, in one place."""

BRAND_BLUE = "#000091"  # "bleu France": 14.9:1 on white
TEXT_MUTED = "#3a3a3a"  # 11:1 on white
ERROR_RED = "#ce0500"  # 5.4:1 on white
SURFACE = "#f6f6f6"
BORDER = "#dddddd"

MAX_CONTENT_WIDTH = "72rem"
NARROW_WIDTH = "28rem"

SPACE_S = "0.5rem"
SPACE_M = "1rem"
SPACE_L = "2rem"

base_style = {
    "font_family": "Marianne, 'Helvetica Neue', Arial, sans-serif",
}
