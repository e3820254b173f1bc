"""Text measurement without a font engine: a per-character advance table.

Widths are DejaVu Sans advances in em (generated once from its metrics). DejaVu Sans is wider
than the usual UI sans fonts (Helvetica, Arial, Segoe UI), so boxes sized with it never clip
the text a reader's browser draws; the ``hand`` font gets a further safety factor.
"""

from __future__ import annotations

import unicodedata

# fmt: off
_SANS = dict(
    zip(
        " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"
        "abcdefghijklmnopqrstuvwxyz{|}~",
        (
            0.318, 0.401, 0.46, 0.838, 0.636, 0.95, 0.78, 0.275, 0.39, 0.39, 0.5, 0.838,
            0.318, 0.361, 0.318, 0.337, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636,
            0.636, 0.636, 0.636, 0.337, 0.337, 0.838, 0.838, 0.838, 0.531, 1.0, 0.684,
            0.686, 0.698, 0.77, 0.632, 0.575, 0.775, 0.752, 0.295, 0.295, 0.656, 0.557,
            0.863, 0.748, 0.787, 0.603, 0.787, 0.695, 0.635, 0.611, 0.732, 0.684, 0.989,
            0.685, 0.611, 0.685, 0.39, 0.337, 0.39, 0.838, 0.5, 0.5, 0.613, 0.635, 0.55,
            0.635, 0.615, 0.352, 0.635, 0.634, 0.278, 0.278, 0.579, 0.278, 0.974, 0.634,
            0.612, 0.635, 0.635, 0.411, 0.521, 0.392, 0.634, 0.592, 0.818, 0.592, 0.592,
            0.525, 0.636, 0.337, 0.636, 0.838,
        ),
        strict=True,
    )
)
# fmt: on
_OTHER = 0.7  # any other narrow character (accented letters, Greek, arrows...)
_WIDE = 1.0  # East Asian wide/fullwidth characters and emoji
_FACTOR = {"sans": 1.0, "hand": 1.12, "mono": 1.0}

FONT_FAMILIES = {
    "sans": 'ui-sans-serif, system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif',
    "hand": '"Comic Sans MS", "Comic Neue", "Chalkboard SE", "Segoe Print", cursive',
    "mono": 'ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace',
}


def _char_width(ch: str, font: str) -> float:
    if font == "mono":
        return _WIDE if unicodedata.east_asian_width(ch) in "WF" else 0.61
    if ch in _SANS:
        return _SANS[ch]
    if unicodedata.combining(ch):
        return 0.0
    return _WIDE if unicodedata.east_asian_width(ch) in "WF" else _OTHER


def line_width(text: str, size: float, font: str = "sans") -> float:
    """Width in px of one line of ``text`` at ``size`` px."""
    return sum(_char_width(ch, font) for ch in text) * size * _FACTOR[font]


def text_size(text: str, size: float, font: str = "sans") -> tuple[float, float, list[str]]:
    """(width, height, lines) of possibly multi-line text; line height is 1.25 em."""
    lines = text.split("\n")
    width = max(line_width(line, size, font) for line in lines)
    return width, len(lines) * line_height(size), lines


def line_height(size: float) -> float:
    return size * 1.25
