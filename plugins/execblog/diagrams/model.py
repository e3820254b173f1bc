"""The validated diagram, as plain dataclasses (what schema.py produces)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Cell:
    text: str
    id: str | None = None
    fill: str | None = None


@dataclass
class Item:
    type: str  # box | cells | text | group
    key: str  # path in the source, also the seed of its strokes: "items[2]"
    id: str | None = None
    text: str = ""
    x: float | None = None
    y: float | None = None
    fill: str | None = None
    stroke: str | None = None
    fill_style: str | None = None
    font_size: float | None = None
    label: str | None = None
    orient: str = "horizontal"
    indices: bool = False
    cells: list[Cell] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    direction: str = "right"
    gap: float | None = None


@dataclass
class Arrow:
    source: str
    target: str
    key: str
    label: str | None = None
    style: str = "solid"
    heads: str = "end"
    stroke: str | None = None


@dataclass
class Diagram:
    items: list[Item]
    arrows: list[Arrow]
    direction: str = "right"
    fill: str | None = None
    stroke: str | None = None
    fill_style: str = "hachure"
    roughness: float = 1.0
    seed: int = 1
    gap: float | None = None  # None: 48, widened to fit arrow labels
    font_size: float = 16.0
    font: str = "sans"
