"""Quarto's panel layouts: ``layout-ncol=2``, ``layout-nrow=2``, ``layout="[[1,1],[1]]"``.

A div's children become the cells of a grid, row by row, in source order. The grid is
flexbox rows with inline styles (``flex-grow`` the cell's relative width), so it needs no
stylesheet and holds in any theme; rows wrap on narrow screens (cells keep a minimum width).
A negative width in ``layout`` is an empty spacer, as in Quarto.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as etree

from .attributes import Attributes

LAYOUT_KEYS = ("layout", "layout-ncol", "layout-nrow")
ROW_STYLE = "display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start"
CELL_STYLE = "flex:{grow} 1 0;min-width:min(12em,100%)"


class LayoutError(ValueError):
    """A layout attribute that cannot be read (the message says what is expected)."""


def has_layout(attributes: Attributes) -> bool:
    return any(key in attributes.values for key in LAYOUT_KEYS)


def rows_for(attributes: Attributes, count: int) -> list[list[float]]:
    """Relative widths of the cells, row by row, for ``count`` children."""
    values = attributes.values
    if "layout" in values:
        try:
            rows = json.loads(values["layout"])
        except ValueError:
            raise LayoutError(f'layout="{values["layout"]}" is not a list of rows such as '
                              '"[[1,1],[1]]"') from None
        if rows and all(isinstance(w, int | float) for w in rows):
            rows = [rows]
        if not rows or not all(isinstance(r, list) and r and all(
                isinstance(w, int | float) and w for w in r) for r in rows):
            raise LayoutError(f'layout="{values["layout"]}" is not a list of rows of '
                              'non-zero widths such as "[[1,1],[1]]"')
        return [[float(w) for w in row] for row in rows]
    for key in ("layout-ncol", "layout-nrow"):
        if key in values:
            try:
                number = int(values[key])
            except ValueError:
                number = 0
            if number < 1:
                raise LayoutError(f"{key}={values[key]} is not a whole number from 1 up")
            columns = number if key == "layout-ncol" else math.ceil(count / number) or 1
            return [[1.0] * columns for _ in range(math.ceil(count / columns) or 1)]
    return [[1.0]] * count


def arrange(container: etree.Element, cells: list[etree.Element],
            rows: list[list[float]], index: int | None = None) -> etree.Element:
    """Put ``cells`` (taken out of wherever they are) into a grid of ``rows`` inside
    ``container`` (at ``index``, else last); cells beyond the rows get rows like the last."""
    panel = etree.Element("div", {"class": "quarto-layout-panel"})
    if index is None:
        container.append(panel)
    else:
        container.insert(index, panel)
    queue = list(cells)
    shapes = list(rows)
    while queue:
        widths = shapes.pop(0) if shapes else rows[-1]
        row = etree.SubElement(panel, "div", {"class": "quarto-layout-row", "style": ROW_STYLE})
        for width in widths:
            cell = etree.SubElement(row, "div", {
                "class": "quarto-layout-cell" if width > 0 else "quarto-layout-spacer",
                "style": CELL_STYLE.format(grow=f"{abs(width):g}")})
            if width > 0 and queue:
                cell.append(queue.pop(0))
    return panel


def columns(div: etree.Element) -> None:
    """Quarto's ``:::: {.columns}`` of ``::: {.column width="40%"}`` divs: one flex row, each
    column as wide as its ``width`` says, those without one sharing what is left."""
    div.set("style", ROW_STYLE)
    found = [c for c in div if "column" in (c.get("class") or "").split()]
    widths = [_percent(c.get("data-width")) for c in found]
    given = sum(w for w in widths if w)
    rest = max(100.0 - given, 0.0) / (widths.count(0.0) or 1) or 1.0
    for column, width in zip(found, widths, strict=True):
        column.set("style", CELL_STYLE.format(grow=f"{width or rest:g}"))


def _percent(text: str | None) -> float:
    try:
        return max(float((text or "").strip().rstrip("%")), 0.0)
    except ValueError:
        return 0.0
