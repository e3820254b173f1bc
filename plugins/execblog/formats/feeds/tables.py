"""Table cells in feeds: an alignment is spelt both ways, so numbers stay right-aligned.

Feed readers drop classes and stylesheets; some keep an inline ``text-align``, others only
the ``align`` attribute. A cell that says one gets the other, whoever wrote the table
(benchmark tables align their numbers inline, Markdown tables their aligned columns): a
``style`` that sets ``text-align: right`` adds ``align="right"``, and an ``align`` adds
its ``text-align`` to the style. Any other inline style is kept and extended; an
existing ``align`` attribute or ``text-align`` is never changed.
"""

from __future__ import annotations

import re

from .markup import HtmlElement

_TEXT_ALIGN = re.compile(r"(?:^|;)\s*text-align\s*:\s*([^;]*)", re.I)


def text_align(style: str | None) -> str | None:
    """The text-align value an inline style sets (lower case), or None."""
    match = _TEXT_ALIGN.search(style or "")
    return match.group(1).split("!")[0].strip().lower() if match else None


def with_right_alignment(style: str | None, value: str = "right") -> str:
    """style with ``text-align:<value>`` added, unless it already sets text-align."""
    style = (style or "").strip()
    if text_align(style) is not None:
        return style
    if style and not style.endswith(";"):
        style += ";"
    return f"{style}text-align:{value}"


def align_cells(root: HtmlElement) -> None:
    """Every cell's alignment both as ``text-align`` and as ``align`` (right only)."""
    for cell in root.iter("td", "th"):
        align = (cell.get("align") or "").strip().lower()
        if align:
            cell.set("style", with_right_alignment(cell.get("style"), align))
        if not align and text_align(cell.get("style")) == "right":
            cell.set("align", "right")
