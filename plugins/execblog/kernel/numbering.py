"""How sub-figures are lettered: the same for a fence's figures and a figure div's."""

from __future__ import annotations


def subfigure_letter(n: int) -> str:
    """0 -> a, 25 -> z, 26 -> aa..."""
    text = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        text = chr(ord("a") + rest) + text
    return text
