"""Draw a laid-out diagram as hand-drawn SVG with the ``rough`` package.

``rough`` gives the sketchy geometry only; this module owns everything around it: a seed per
shape (derived from the diagram seed and the shape's key, so the same input gives the same
bytes), rounded coordinates, XML escaping, arrowheads, colours and the SVG document.
"""

from __future__ import annotations

import hashlib
import html
import math
from dataclasses import dataclass

import rough
from rough.core import Drawable, Options

from execblog.kernel.xmlsafe import strip_illegal

from .layout import Node, Rect, TextBlock, all_nodes, line_height
from .model import Arrow, Diagram, Item
from .route import Route
from .textmetrics import FONT_FAMILIES, text_size

STROKE_WIDTH = 1.6
MIN_TEXT_PX = 12  # a diagram's zoomed view on a phone shows its text this tall at least
PHONE_COLUMN_PX = 340  # a drawing whose text stays >= MIN_TEXT_PX this narrow needs no zoom
_DASHES = {"solid": None, "dashed": "8 6", "dotted": "1.5 5"}


@dataclass(frozen=True)
class Paint:
    """A colour as an attribute value plus, in inline mode, the CSS class that themes it."""

    value: str
    css: str | None = None

    def attrs(self, prop: str) -> str:
        cls = f' class="{self.css}"' if self.css else ""
        return f'{prop}="{esc(self.value)}"{cls}'


@dataclass(frozen=True)
class Palette:
    stroke: Paint
    text: Paint
    halo: Paint
    background: str | None


INLINE = Palette(
    stroke=Paint("currentColor", "diagram-stroke"),
    text=Paint("currentColor", "diagram-text"),
    halo=Paint("none", "diagram-halo"),
    background=None,
)
STANDALONE = Palette(
    stroke=Paint("#1e1e1e"),
    text=Paint("#1e1e1e"),
    halo=Paint("#ffffff"),
    background="#ffffff",
)


def esc(text: str) -> str:
    """Escape for XML text and attributes; drop characters XML 1.0 forbids."""
    return html.escape(strip_illegal(text), quote=True)


def num(value: float) -> str:
    """Round to one decimal, without a trailing ``.0`` or a negative zero."""
    r = round(value, 1)
    if r == int(r):
        return str(int(r)) if r != 0 else "0"
    return str(r)


def seed_for(base: int, key: str) -> int:
    """A stable, non-zero seed for one shape (rough falls back to global random on 0)."""
    digest = hashlib.blake2b(f"{base}|{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 2_147_483_646 + 1


class Painter:
    """Collects SVG elements for one diagram."""

    def __init__(self, diagram: Diagram, palette: Palette) -> None:
        self.d = diagram
        self.palette = palette
        self.gen = rough.generator()
        self.shapes: list[str] = []
        self.texts: list[str] = []
        self.smallest_text: float | None = None  # the smallest font size drawn
        self.default_stroke = Paint(diagram.stroke) if diagram.stroke else palette.stroke
        self.default_text = Paint(diagram.stroke) if diagram.stroke else palette.text

    # -- rough geometry ---------------------------------------------------------------------
    def _options(
        self,
        key: str,
        *,
        fill: str | None = None,
        style: str = "hachure",
        stroke: bool = True,
        single: bool = False,
    ) -> Options:
        return Options(
            seed=seed_for(self.d.seed, key),
            roughness=self.d.roughness,
            bowing=1.0,
            stroke="#000" if stroke else "none",
            strokeWidth=STROKE_WIDTH,
            fill="#000" if fill else None,
            fillStyle=style,
            fillWeight=1.0,
            hachureGap=5.0,
            hachureAngle=-41,
            disableMultiStroke=single,
        )

    @staticmethod
    def _d(ops: list) -> str:
        parts = []
        for k, op in enumerate(ops):
            if op.op == "move" and k + 1 < len(ops) and ops[k + 1].op == "move":
                continue  # rough emits a redundant move before some curves
            letter = {"move": "M", "lineTo": "L", "bcurveTo": "C"}[op.op]
            parts.append(letter + " ".join(num(v) for v in op.data))
        return "".join(parts)

    def _emit(
        self, drawable: Drawable, stroke: Paint, fill: str | None, width: float, extra: str = ""
    ) -> None:
        for opset in drawable.sets:
            d = self._d(opset.ops)
            if opset.type == "path":
                self.shapes.append(
                    f'<path d="{d}" {stroke.attrs("stroke")} stroke-width="{num(width)}"{extra}/>'
                )
            elif opset.type == "fillSketch" and fill:
                self.shapes.append(f'<path d="{d}" stroke="{esc(fill)}" stroke-width="1"/>')
            elif opset.type == "fillPath" and fill:
                self.shapes.append(
                    f'<path d="{d}" fill="{esc(fill)}" fill-opacity="0.45" stroke="none"/>'
                )

    def rect(
        self,
        key: str,
        r: Rect,
        stroke: Paint | None,
        fill: str | None,
        style: str,
        width: float = STROKE_WIDTH,
        extra: str = "",
        single: bool = False,
    ) -> None:
        opts = self._options(key, fill=fill, style=style, stroke=stroke is not None, single=single)
        drawable = self.gen.rectangle(r.x, r.y, r.w, r.h, opts)
        self._emit(drawable, stroke or self.default_stroke, fill, width, extra)

    def line(
        self,
        key: str,
        a: tuple[float, float],
        b: tuple[float, float],
        stroke: Paint,
        extra: str = "",
        single: bool = False,
    ) -> None:
        drawable = self.gen.line(*a, *b, self._options(key, single=single))
        self._emit(drawable, stroke, None, STROKE_WIDTH, extra)

    # -- text -------------------------------------------------------------------------------
    def text(self, block: TextBlock, paint: Paint, halo: bool = False) -> None:
        lh = line_height(block.size)
        attrs = [f'x="{num(block.x)}"', f'font-size="{num(block.size)}"']
        if block.anchor != "start":
            attrs.append(f'text-anchor="{block.anchor}"')
        if block.role == "index":
            attrs.append('opacity="0.7"')
        if any("  " in line or line != line.strip() for line in block.lines):
            attrs.append('xml:space="preserve"')
        attrs.append(f'fill="{esc(paint.value)}"')
        classes = [paint.css] if paint.css else []
        if halo:
            attrs.append(
                f'stroke="{esc(self.palette.halo.value)}" stroke-width="4" paint-order="stroke"'
            )
            if self.palette.halo.css:
                classes.append(self.palette.halo.css)
        if classes:
            attrs.append(f'class="{" ".join(classes)}"')
        for i, line in enumerate(block.lines):
            if not line:
                continue
            if self.smallest_text is None or block.size < self.smallest_text:
                self.smallest_text = block.size
            y = block.y + (i + 0.5) * lh + 0.35 * block.size
            self.texts.append(f'<text y="{num(y)}" {" ".join(attrs)}>{esc(line)}</text>')

    # -- items ------------------------------------------------------------------------------
    def item_paints(self, item: Item) -> tuple[Paint, Paint]:
        if item.stroke:
            return Paint(item.stroke), Paint(item.stroke)
        return self.default_stroke, self.default_text

    def node(self, node: Node) -> None:
        item = node.item
        stroke, text = self.item_paints(item)
        fill = item.fill or (self.d.fill if item.type in ("box", "cells") else None)
        style = item.fill_style or self.d.fill_style
        if item.type == "box":
            self.rect(item.key, node.body, stroke, fill, style)
        elif item.type == "group":
            self.rect(
                item.key,
                node.body,
                stroke,
                fill,
                style,
                width=1.2,
                extra=' stroke-dasharray="8 6" opacity="0.75"',
                single=True,
            )
        elif item.type == "cells":
            for i, (cell, r) in enumerate(zip(item.cells, node.cells, strict=True)):
                if cell.fill:
                    self.rect(f"{item.key}.cells[{i}].fill", r, None, cell.fill, style)
            self.rect(item.key, node.body, stroke, fill, style)
            for i, r in enumerate(node.cells[1:], start=1):
                if item.orient == "horizontal":
                    a, b = (r.x, r.y), (r.x, r.bottom)
                else:
                    a, b = (r.x, r.y), (r.right, r.y)
                self.line(f"{item.key}.cells[{i}]", a, b, stroke, single=True)
        # text over a fill gets a halo in the background colour, readable in both themes
        filled = [bool(fill)] * len(node.texts)
        for i, cell in enumerate(item.cells):
            filled[i] = bool(fill or cell.fill)
        for block, halo in zip(node.texts, filled, strict=True):
            self.text(block, text, halo=halo and block.role == "text")

    # -- arrows -----------------------------------------------------------------------------
    def arrow(self, arrow: Arrow, route: Route, font_size: float) -> Rect | None:
        stroke = Paint(arrow.stroke) if arrow.stroke else self.default_stroke
        dash = _DASHES[arrow.style]
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        d = "M{} {}C{} {} {} {} {} {}".format(
            *(num(v) for v in (*route.start, *route.c1, *route.c2, *route.end))
        )
        opts = self._options(arrow.key, single=dash is not None)
        self._emit(self.gen.path(d, opts), stroke, None, STROKE_WIDTH, extra)
        if arrow.heads in ("end", "both"):
            self.head(f"{arrow.key}.head", route.end, route.c2, stroke)
        if arrow.heads in ("start", "both"):
            self.head(f"{arrow.key}.tail", route.start, route.c1, stroke)
        if not arrow.label:
            return None
        mx, my = route.at(0.5)
        tw, th, lines = text_size(arrow.label, font_size * 0.9, self.d.font)
        block = TextBlock(mx, my - th / 2, lines, font_size * 0.9)
        self.text(block, Paint(arrow.stroke) if arrow.stroke else self.default_text, halo=True)
        return Rect(mx - tw / 2 - 3, my - th / 2 - 3, tw + 6, th + 6)

    def head(
        self, key: str, tip: tuple[float, float], toward: tuple[float, float], stroke: Paint
    ) -> None:
        """Two short strokes at ``tip``, opening back along the curve's tangent."""
        angle = math.atan2(tip[1] - toward[1], tip[0] - toward[0])
        size = 11.0
        for k, spread in enumerate((0.45, -0.45)):
            back = angle + math.pi + spread
            end = (tip[0] + size * math.cos(back), tip[1] + size * math.sin(back))
            self.line(f"{key}{k}", end, tip, stroke, single=True)


def document(
    diagram: Diagram,
    nodes: list[Node],
    arrows: list[tuple[Arrow, Route]],
    *,
    caption: str | None,
    standalone: bool,
) -> str:
    """The complete ``<svg>`` element."""
    painter = Painter(diagram, STANDALONE if standalone else INLINE)
    flat = all_nodes(nodes)
    for node in flat:
        painter.node(node)
    extents = [n.box for n in flat]
    for arrow, route in arrows:
        extents.append(route.bounds())
        label = painter.arrow(arrow, route, diagram.font_size)
        if label:
            extents.append(label)
    margin = 8 + 4 * diagram.roughness
    if extents:
        x0 = min(r.x for r in extents) - margin
        y0 = min(r.y for r in extents) - margin
        x1 = max(r.right for r in extents) + margin
        y1 = max(r.bottom for r in extents) + margin
    else:
        x0 = y0 = 0.0
        x1 = y1 = 2 * margin
    x0, y0 = math.floor(x0), math.floor(y0)
    w, h = math.ceil(x1 - x0), math.ceil(y1 - y0)
    label = caption or describe(flat)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" {zoom_width(painter, w)}'
        f'viewBox="{x0} {y0} {w} {h}" width="{w}" height="{h}" role="img" '
        f'aria-label="{esc(label)}" font-family="{esc(FONT_FAMILIES[diagram.font])}" '
        f'stroke-linecap="round" stroke-linejoin="round">'
    )
    parts = [head, f"<title>{esc(label)}</title>"]
    if painter.palette.background:
        parts.append(
            f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" '
            f'fill="{painter.palette.background}"/>'
        )
    parts.append('<g fill="none">')
    parts.extend(painter.shapes)
    parts.append("</g>")
    parts.extend(painter.texts)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def zoom_width(painter: Painter, width: int) -> str:
    """The root's class, and for an inline drawing that a phone's column would shrink
    below ``MIN_TEXT_PX`` text, ``diagram-zoomable`` and ``style="--zoom-width: Npx"``: the
    width of its zoomed view (diagrams.css: the drawing scales down to fit the column;
    tapped, it is shown this wide, its smallest text ``MIN_TEXT_PX`` tall, and scrolls
    sideways in its region until the reader taps elsewhere)."""
    readable = math.ceil(width * MIN_TEXT_PX / painter.smallest_text) if (
        painter.smallest_text) else 0
    if painter.palette.background is not None or readable <= PHONE_COLUMN_PX:
        return 'class="diagram-svg" '
    return f'class="diagram-svg diagram-zoomable" style="--zoom-width: {readable}px" '


def describe(nodes: list[Node]) -> str:
    """A fallback accessible name from the diagram's own words."""
    words = []
    for node in nodes:
        item = node.item
        words.extend(t for t in (item.label, item.text) if t)
        words.extend(c.text for c in item.cells if c.text)
    text = "Diagram: " + ", ".join(w.replace("\n", " ") for w in words) if words else "Diagram"
    return text if len(text) <= 200 else text[:197] + "..."
