"""Validate diagram JSON and build the model; every error names its key path.

Keys use kebab-case (``font-size``). Every object is checked against the keys its type
accepts, every value against its allowed values, and every error says what is allowed.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from typing import Any

from .jsonloc import LocatedJSON, Path, format_path
from .model import Arrow, Cell, Diagram, Item

ITEM_TYPES = ("box", "cells", "text", "group")
DIRECTIONS = ("right", "down")
ORIENTS = ("horizontal", "vertical")
FILL_STYLES = ("hachure", "solid", "cross-hatch", "zigzag")
FONTS = ("sans", "hand", "mono")
ARROW_STYLES = ("solid", "dashed", "dotted")
ARROW_HEADS = ("end", "start", "both", "none")

_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_COLOUR = re.compile(r"(#[0-9a-fA-F]{3,8}|[a-zA-Z]+|(rgb|rgba|hsl|hsla)\([0-9.,%\s/a-z+-]*\))\Z")

Check = Callable[[Any, Path], Any]


class _Validator:
    """Checks one parsed document; raises located DiagramErrors."""

    def __init__(self, doc: LocatedJSON) -> None:
        self.doc = doc

    def fail(self, path: Path, message: str) -> Exception:
        return self.doc.error(path, message)

    # -- value checks ---------------------------------------------------------------------
    def enum(self, allowed: tuple[str, ...], what: str = "value") -> Check:
        def check(value: Any, path: Path) -> str:
            if value not in allowed:
                raise self.fail(
                    path, f"unknown {what} {_show(value)} (allowed: {', '.join(allowed)})"
                )
            return value

        return check

    def number(self, low: float | None = None, high: float | None = None) -> Check:
        def check(value: Any, path: Path) -> float:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if ok and (low is None or value >= low) and (high is None or value <= high):
                return float(value)
            bounds = " and ".join(
                b
                for b in (
                    f">= {low:g}" if low is not None else "",
                    f"<= {high:g}" if high is not None else "",
                )
                if b
            )
            raise self.fail(
                path, f"expected a number{' ' + bounds if bounds else ''}, got {_show(value)}"
            )

        return check

    def integer(self, value: Any, path: Path) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise self.fail(path, f"expected an integer, got {_show(value)}")

    def boolean(self, value: Any, path: Path) -> bool:
        if isinstance(value, bool):
            return value
        raise self.fail(path, f"expected true or false, got {_show(value)}")

    def text(self, value: Any, path: Path) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return format(value, "g") if isinstance(value, float) else str(value)
        raise self.fail(path, f"expected a string, got {_show(value)}")

    def colour(self, value: Any, path: Path) -> str:
        if isinstance(value, str) and _COLOUR.match(value.strip()):
            return value.strip()
        raise self.fail(
            path, f"expected a CSS colour (#rgb, #rrggbb, a name, rgb(...)), got {_show(value)}"
        )

    def ident(self, value: Any, path: Path) -> str:
        if isinstance(value, str) and _ID.match(value):
            return value
        raise self.fail(
            path, f"bad id {_show(value)} (letters, digits, '_' and '-', not starting with a digit)"
        )

    # -- objects --------------------------------------------------------------------------
    def fields(self, obj: Any, path: Path, spec: dict[str, Check], what: str) -> dict[str, Any]:
        """Check ``obj`` against ``spec`` (key -> check); return the converted values."""
        if not isinstance(obj, dict):
            raise self.fail(path, f"expected {what} object {{...}}, got {_show(obj)}")
        for key in obj:
            if key not in spec:
                raise self.fail(
                    path + (key,),
                    f"unknown key {_show(key)} for {what} (allowed: {', '.join(sorted(spec))})",
                )
        return {key: spec[key](value, path + (key,)) for key, value in obj.items()}

    def array(self, value: Any, path: Path) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(path, f"expected a list [...], got {_show(value)}")
        return value

    def diagram(self) -> Diagram:
        spec: dict[str, Check] = {
            "direction": self.enum(DIRECTIONS),
            "items": self.array,
            "arrows": self.array,
            "fill": self.colour,
            "stroke": self.colour,
            "fill-style": self.enum(FILL_STYLES),
            "roughness": self.number(0, 10),
            "seed": self.integer,
            "gap": self.number(0, 1000),
            "font-size": self.number(6, 96),
            "font": self.enum(FONTS),
        }
        top = self.fields(self.doc.data, (), spec, "diagram")
        if "items" not in top:
            raise self.fail((), "missing key 'items' (a list of items)")
        items = self.items(top["items"], ("items",))
        arrows = [self.arrow(a, ("arrows", i)) for i, a in enumerate(top.get("arrows", []))]
        diagram = Diagram(
            items=items,
            arrows=arrows,
            direction=top.get("direction", "right"),
            fill=top.get("fill"),
            stroke=top.get("stroke"),
            fill_style=top.get("fill-style", "hachure"),
            roughness=top.get("roughness", 1.0),
            seed=top.get("seed", 1),
            gap=top.get("gap"),
            font_size=top.get("font-size", 16.0),
            font=top.get("font", "sans"),
        )
        self.check_references(diagram)
        return diagram

    def items(self, values: list[Any], path: Path) -> list[Item]:
        return [self.item(value, path + (i,)) for i, value in enumerate(values)]

    def item(self, obj: Any, path: Path) -> Item:
        if not isinstance(obj, dict):
            raise self.fail(path, f"expected an item object {{...}}, got {_show(obj)}")
        if "type" not in obj:
            raise self.fail(path, f"missing key 'type' (allowed: {', '.join(ITEM_TYPES)})")
        kind = self.enum(ITEM_TYPES, "type")(obj["type"], path + ("type",))
        common: dict[str, Check] = {
            "type": lambda v, p: v,
            "id": self.ident,
            "x": self.number(),
            "y": self.number(),
            "fill": self.colour,
            "stroke": self.colour,
            "fill-style": self.enum(FILL_STYLES),
            "font-size": self.number(6, 96),
        }
        extra: dict[str, Check] = {
            "box": {"text": self.text},
            "text": {"text": self.text},
            "cells": {
                "cells": self.array,
                "orient": self.enum(ORIENTS),
                "label": self.text,
                "indices": self.boolean,
            },
            "group": {
                "items": self.array,
                "label": self.text,
                "direction": self.enum(DIRECTIONS),
                "gap": self.number(0, 1000),
            },
        }[kind]
        values = self.fields(obj, path, common | extra, f"a {kind!r} item")
        item = Item(
            type=kind,
            key=format_path(path),
            id=values.get("id"),
            text=values.get("text", ""),
            x=values.get("x"),
            y=values.get("y"),
            fill=values.get("fill"),
            stroke=values.get("stroke"),
            fill_style=values.get("fill-style"),
            font_size=values.get("font-size"),
            label=values.get("label"),
            orient=values.get("orient", "horizontal"),
            indices=values.get("indices", False),
            direction=values.get("direction", "right"),
            gap=values.get("gap"),
        )
        if kind == "cells":
            if "cells" not in values:
                raise self.fail(path, "missing key 'cells' (a list of strings or {id, text, fill})")
            item.cells = [self.cell(c, path + ("cells", i)) for i, c in enumerate(values["cells"])]
            if not item.cells:
                raise self.fail(path + ("cells",), "expected at least one cell")
            seen: set[str] = set()
            for i, cell in enumerate(item.cells):
                if cell.id is not None:
                    if cell.id in seen:
                        raise self.fail(path + ("cells", i, "id"), f"duplicate cell id {cell.id!r}")
                    seen.add(cell.id)
        if kind == "group":
            item.items = self.items(values.get("items", []), path + ("items",))
        return item

    def cell(self, obj: Any, path: Path) -> Cell:
        if not isinstance(obj, dict):
            return Cell(text=self.text(obj, path))
        spec: dict[str, Check] = {"id": self.ident, "text": self.text, "fill": self.colour}
        values = self.fields(obj, path, spec, "a cell")
        return Cell(text=values.get("text", ""), id=values.get("id"), fill=values.get("fill"))

    def arrow(self, obj: Any, path: Path) -> Arrow:
        spec: dict[str, Check] = {
            "from": self.reference,
            "to": self.reference,
            "label": self.text,
            "style": self.enum(ARROW_STYLES),
            "heads": self.enum(ARROW_HEADS),
            "stroke": self.colour,
        }
        values = self.fields(obj, path, spec, "an arrow")
        for key in ("from", "to"):
            if key not in values:
                raise self.fail(
                    path, f"missing key {key!r} (an item id, 'item.cellid' or 'item.N')"
                )
        return Arrow(
            source=values["from"],
            target=values["to"],
            key=format_path(path),
            label=values.get("label"),
            style=values.get("style", "solid"),
            heads=values.get("heads", "end"),
            stroke=values.get("stroke"),
        )

    def reference(self, value: Any, path: Path) -> str:
        if isinstance(value, str) and value:
            return value
        raise self.fail(
            path, f"expected an id like 'node', 'stack.p' or 'stack.0', got {_show(value)}"
        )

    # -- cross references -----------------------------------------------------------------
    def check_references(self, diagram: Diagram) -> None:
        known: dict[str, Item] = {}
        for item in walk(diagram.items):
            if item.id is None:
                continue
            if item.id in known:
                raise self.fail(
                    _parse_path(item.key) + ("id",),
                    f"duplicate id {item.id!r} (already used by {known[item.id].key})",
                )
            known[item.id] = item
        for arrow in diagram.arrows:
            for key, ref in (("from", arrow.source), ("to", arrow.target)):
                problem = reference_problem(ref, known)
                if problem:
                    raise self.fail(_parse_path(arrow.key) + (key,), problem)


def walk(items: list[Item]) -> list[Item]:
    """All items, groups' children included, in document order."""
    out: list[Item] = []
    for item in items:
        out.append(item)
        out.extend(walk(item.items))
    return out


def reference_problem(ref: str, known: dict[str, Item]) -> str | None:
    """Why ``ref`` names nothing (listing what it could name), or None when it is fine."""
    head, _, cell = ref.partition(".")
    if head not in known:
        names = ", ".join(sorted(known)) or "none: give items an 'id'"
        close = difflib.get_close_matches(head, list(known), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown id {ref!r} (known ids: {names}){hint}"
    if not cell:
        return None
    item = known[head]
    if item.type == "group" and cell in known:  # ids are global, not paths
        return (f"{ref!r}: items inside a group are named by their own id: write {cell!r} "
                "(only a 'cells' item's cells take the form 'item.cell')")
    if item.type != "cells":
        return f"{ref!r}: item {head!r} is a {item.type!r}, only 'cells' items have cells"
    if cell.isdigit() and int(cell) < len(item.cells):
        return None
    if any(c.id == cell for c in item.cells):
        return None
    options = [f"{head}.{i}" for i in range(len(item.cells))]
    options += [f"{head}.{c.id}" for c in item.cells if c.id]
    return f"unknown cell {ref!r} (known: {', '.join(options)})"


def _parse_path(key: str) -> Path:
    parts: list[str | int] = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", key):
        parts.append(int(index) if index else name)
    return tuple(parts)


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else _json_name(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _json_name(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def parse(source: str) -> Diagram:
    """Parse and validate a diagram source; raise DiagramError on any problem."""
    return _Validator(LocatedJSON(source)).diagram()
