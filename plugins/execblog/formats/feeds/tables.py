"""Benchmark tables in feeds: numbers stay right-aligned where readers drop classes.

plugins/execblog/benchtables marks numeric header and body cells of ``table.bench`` with
``class="num"``; the page's CSS aligns them. Feed readers strip classes and stylesheets
but most keep an inline ``text-align`` and the ``align`` attribute, so feeds get both.
A cell whose ``style`` already sets ``text-align`` (benchtables may write one for pages)
keeps it, and gets ``align`` only when that alignment is ``right``; any other inline style
is kept and extended. An existing ``align`` attribute is never changed.
"""

from __future__ import annotations

import re

from .markup import HtmlElement

_TEXT_ALIGN = re.compile(r"(?:^|;)\s*text-align\s*:\s*([^;]*)", re.I)


def _classes(element: HtmlElement) -> set[str]:
    return set((element.get("class") or "").split())


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


def align_numeric_cells(root: HtmlElement) -> None:
    """Inline right alignment for every ``th.num``/``td.num`` of every ``table.bench``."""
    for table in root.iter("table"):
        if "bench" not in _classes(table):
            continue
        for cell in table.iter("td", "th"):
            if "num" not in _classes(cell):
                continue
            # An author's align="..." (none from benchtables) is what the style repeats.
            value = (cell.get("align") or "right").strip().lower() or "right"
            style = with_right_alignment(cell.get("style"), value)
            cell.set("style", style)
            if cell.get("align") is None and text_align(style) == "right":
                cell.set("align", "right")
