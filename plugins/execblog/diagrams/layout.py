"""Place items: sizes follow the measured text, items flow along a direction.

Everything here is geometry in px, before any stroke is drawn. An item that gives both
``x`` and ``y`` is placed there (top-left of the item, relative to its container) and takes
no room in the flow; one coordinate alone overrides that coordinate of its flow slot.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import Diagram, Item
from .textmetrics import line_height, text_size

SIDES = ("left", "right", "top", "bottom")


@dataclass
class Rect:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def moved(self, dx: float, dy: float) -> Rect:
        return Rect(self.x + dx, self.y + dy, self.w, self.h)


@dataclass
class TextBlock:
    """Lines of text; ``x`` is the anchor (centre or start), ``y`` the top of the first line."""

    x: float
    y: float
    lines: list[str]
    size: float
    role: str = "text"  # text | label | index
    anchor: str = "middle"  # middle | start | end

    def rect(self, font: str) -> Rect:
        w, h, _ = text_size("\n".join(self.lines), self.size, font)
        x = {"start": self.x, "middle": self.x - w / 2, "end": self.x - w}[self.anchor]
        return Rect(x, self.y, w, h)


@dataclass
class Node:
    item: Item
    box: Rect  # everything the item occupies, labels included
    body: Rect  # the outline arrows attach to
    cells: list[Rect] = field(default_factory=list)
    texts: list[TextBlock] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)

    def shift(self, dx: float, dy: float) -> None:
        self.box = self.box.moved(dx, dy)
        self.body = self.body.moved(dx, dy)
        self.cells = [c.moved(dx, dy) for c in self.cells]
        for t in self.texts:
            t.x += dx
            t.y += dy
        for child in self.children:
            child.shift(dx, dy)


@dataclass
class Anchor:
    """Something an arrow can attach to, with the sides it may leave from."""

    rect: Rect
    sides: tuple[str, ...] = SIDES


@dataclass
class Style:
    font_size: float
    font: str
    gap: float


def _box(item: Item, st: Style) -> Node:
    fs = item.font_size or st.font_size
    tw, th, lines = text_size(item.text, fs, st.font)
    w, h = max(tw + 1.8 * fs, 3 * fs), th + 1.1 * fs
    body = Rect(0, 0, w, h)
    return Node(item, body, body, texts=[TextBlock(w / 2, (h - th) / 2, lines, fs)])


def _text(item: Item, st: Style) -> Node:
    fs = item.font_size or st.font_size
    tw, th, lines = text_size(item.text, fs, st.font)
    body = Rect(0, 0, tw + 0.4 * fs, th + 0.2 * fs)
    return Node(item, body, body, texts=[TextBlock(body.w / 2, 0.1 * fs, lines, fs)])


def _cells(item: Item, st: Style) -> Node:
    fs = item.font_size or st.font_size
    sizes = [text_size(c.text, fs, st.font) for c in item.cells]
    pad = 0.45 * fs
    small = 0.7 * fs
    rects: list[Rect] = []
    texts: list[TextBlock] = []
    if item.orient == "horizontal":
        h = max(s[1] for s in sizes) + 2 * pad
        x = 0.0
        for tw, _, _ in sizes:
            rects.append(Rect(x, 0, max(tw + 1.4 * fs, h), h))
            x += rects[-1].w
    else:
        w = max(max(s[0] for s in sizes) + 1.8 * fs, 3 * fs)
        y = 0.0
        for _, th, _ in sizes:
            rects.append(Rect(0, y, w, th + 2 * pad))
            y += rects[-1].h
    for rect, (_, th, lines) in zip(rects, sizes, strict=True):
        texts.append(TextBlock(rect.x + rect.w / 2, rect.y + (rect.h - th) / 2, lines, fs))
    body = Rect(0, 0, rects[-1].right, rects[-1].bottom)
    box = Rect(0, 0, body.w, body.h)
    if item.indices:
        for i, rect in enumerate(rects):
            if item.orient == "horizontal":
                texts.append(
                    TextBlock(
                        rect.x + rect.w / 2, rect.bottom + 0.15 * fs, [str(i)], small, "index"
                    )
                )
            else:
                texts.append(
                    TextBlock(
                        rect.x - 0.3 * fs,
                        rect.y + (rect.h - line_height(small)) / 2,
                        [str(i)],
                        small,
                        "index",
                        "end",
                    )
                )
        if item.orient == "horizontal":
            box.h += line_height(small) + 0.15 * fs
        else:
            width = text_size(str(len(rects) - 1), small, st.font)[0] + 0.3 * fs
            box.x -= width
            box.w += width
    if item.label:
        lw, lh, lines = text_size(item.label, fs, st.font)
        if item.orient == "horizontal":
            x = box.x - 0.5 * fs
            texts.append(TextBlock(x, (body.h - lh) / 2, lines, fs, "label", "end"))
            box.x, box.w = x - lw, box.w + lw + 0.5 * fs
        else:
            texts.append(TextBlock(body.w / 2, -lh - 0.3 * fs, lines, fs, "label"))
            box.y, box.h = -lh - 0.3 * fs, box.h + lh + 0.3 * fs
            left, right = min(box.x, (body.w - lw) / 2), max(box.right, (body.w + lw) / 2)
            box.x, box.w = left, right - left
    node = Node(item, box, body, cells=rects, texts=texts)
    node.shift(-box.x, -box.y)
    return node


def _group(item: Item, st: Style) -> Node:
    fs = item.font_size or st.font_size
    gap = item.gap if item.gap is not None else st.gap
    children = flow(item.items, item.direction, Style(fs, st.font, gap))
    pad = 0.9 * fs
    lw, lh, lines = text_size(item.label or "", fs, st.font) if item.label else (0, 0, [])
    top = lh + 0.3 * fs if item.label else 0.0
    if children:
        x0 = min(c.box.x for c in children)
        y0 = min(c.box.y for c in children)
        cw = max(c.box.right for c in children) - x0
        ch = max(c.box.bottom for c in children) - y0
    else:
        x0 = y0 = 0.0
        cw, ch = 3 * fs, fs
    for child in children:
        child.shift(pad - x0, pad + top - y0)
    frame = Rect(0, 0, max(cw, lw) + 2 * pad, ch + 2 * pad + top)
    texts = [TextBlock(pad, 0.6 * pad, lines, fs, "label", "start")] if item.label else []
    return Node(item, frame, frame, texts=texts, children=children)


_MEASURE = {"box": _box, "text": _text, "cells": _cells, "group": _group}


def flow(items: list[Item], direction: str, st: Style) -> list[Node]:
    """Measure and place ``items`` along ``direction``, centred on the cross axis."""
    nodes = [_MEASURE[item.type](item, st) for item in items]
    fixed = [n.item.x is not None and n.item.y is not None for n in nodes]
    cross = max(
        (
            n.box.h if direction == "right" else n.box.w
            for n, f in zip(nodes, fixed, strict=True)
            if not f
        ),
        default=0.0,
    )
    cursor = 0.0
    for node, is_fixed in zip(nodes, fixed, strict=True):
        if direction == "right":
            x, y = cursor, (cross - node.box.h) / 2
        else:
            x, y = (cross - node.box.w) / 2, cursor
        x = node.item.x if node.item.x is not None else x
        y = node.item.y if node.item.y is not None else y
        node.shift(x - node.box.x, y - node.box.y)
        if not is_fixed:
            cursor = (x + node.box.w if direction == "right" else y + node.box.h) + st.gap
    return nodes


def default_gap(diagram: Diagram) -> float:
    """48 px, or more when arrow labels need room between the items they join."""
    need = 48.0
    for arrow in diagram.arrows:
        if arrow.label:
            w, h, _ = text_size(arrow.label, diagram.font_size * 0.9, diagram.font)
            need = max(need, (w if diagram.direction == "right" else h) + 40)
    return need


def layout(diagram: Diagram) -> list[Node]:
    """Top-level nodes, placed in diagram coordinates."""
    gap = diagram.gap if diagram.gap is not None else default_gap(diagram)
    return flow(diagram.items, diagram.direction, Style(diagram.font_size, diagram.font, gap))


def anchors(nodes: list[Node]) -> dict[str, Anchor]:
    """Every arrow target: ``id``, ``id.N`` and ``id.cellid``."""
    out: dict[str, Anchor] = {}
    for node in nodes:
        item = node.item
        if item.id:
            out[item.id] = Anchor(node.body)
            last = len(node.cells) - 1
            for i, (cell, rect) in enumerate(zip(item.cells, node.cells, strict=True)):
                if item.orient == "horizontal":
                    sides = ("top", "bottom") + ("left",) * (i == 0) + ("right",) * (i == last)
                else:
                    sides = ("left", "right") + ("top",) * (i == 0) + ("bottom",) * (i == last)
                out[f"{item.id}.{i}"] = Anchor(rect, sides)
                if cell.id:
                    out[f"{item.id}.{cell.id}"] = Anchor(rect, sides)
        out.update(anchors(node.children))
    return out


def all_nodes(nodes: list[Node]) -> list[Node]:
    out: list[Node] = []
    for node in nodes:
        out.append(node)
        out.extend(all_nodes(node.children))
    return out


def frames(nodes: list[Node]) -> list[Rect]:
    """Group frames: arrows may cross them, no more often than they must."""
    return [node.body for node in all_nodes(nodes) if node.item.type == "group"]


def obstacles(nodes: list[Node], font: str) -> list[Rect]:
    """What arrows should not cross: every shape but group frames, and every label."""
    out: list[Rect] = []
    for node in all_nodes(nodes):
        if node.item.type != "group":
            out.append(node.body)
        out.extend(t.rect(font) for t in node.texts if t.role != "text")
    return out
