"""Parse JSON and remember where each object and array sits in the source.

The standard library decoder is used as is; only its pure-Python scanner is asked to report
the span of every container, so a schema error can point at the line of the offending key.
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner
import re
from typing import Any

from .errors import DiagramError
from .jsonhints import explain

Path = tuple[str | int, ...]


def format_path(path: Path) -> str:
    """``("items", 1, "cells")`` -> ``items[1].cells``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


class LocatedJSON:
    """Decoded JSON plus the source spans of its containers."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._spans: dict[int, tuple[int, int]] = {}
        self._dups: list[tuple[str, int]] = []
        self.data = self._decode()

    def _decode(self) -> Any:
        decoder = json.JSONDecoder(object_pairs_hook=self._pairs)
        spans, dups = self._spans, self._dups

        def parse_object(s_and_end, *args):  # noqa: ANN001 - stdlib signature
            start = s_and_end[1] - 1
            n_dups = len(dups)
            obj, end = json.decoder.JSONObject(s_and_end, *args)
            spans[id(obj)] = (start, end)
            for key, _ in dups[n_dups:]:
                offsets = self._key_offsets(obj, key)
                at = offsets[1] if len(offsets) > 1 else start
                raise DiagramError(f"duplicate key '{key}'", **self._line_col(at))
            return obj, end

        def parse_array(s_and_end, scan_once):  # noqa: ANN001 - stdlib signature
            start = s_and_end[1] - 1
            arr, end = json.decoder.JSONArray(s_and_end, scan_once)
            spans[id(arr)] = (start, end)
            return arr, end

        decoder.parse_object = parse_object
        decoder.parse_array = parse_array
        decoder.scan_once = json.scanner.py_make_scanner(decoder)
        try:
            return decoder.decode(self.source)
        except json.JSONDecodeError as exc:
            offset, what = explain(self.source, exc)
            where = self._line_col(offset)
            raise DiagramError(f"invalid JSON: {what} (column {where['column']})",
                               **where) from None

    def _pairs(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                self._dups.append((key, 0))
            seen.add(key)
        return dict(pairs)

    def _line_col(self, offset: int) -> dict[str, int]:
        line = self.source.count("\n", 0, offset) + 1
        column = offset - (self.source.rfind("\n", 0, offset) + 1) + 1
        return {"line": line, "column": column}

    def _key_offsets(self, obj: dict[str, Any], key: str) -> list[int]:
        """Offsets of ``"key":`` directly inside ``obj`` (not inside a nested container)."""
        span = self._spans.get(id(obj))
        if span is None:
            return []
        nested = [self._spans[id(v)] for v in obj.values() if id(v) in self._spans]
        pattern = re.compile(re.escape(json.dumps(key)) + r"\s*:")
        return [
            m.start()
            for m in pattern.finditer(self.source, span[0] + 1, span[1])
            if not any(a <= m.start() < b for a, b in nested)
        ]

    def _key_offset(self, obj: dict[str, Any], key: str) -> int | None:
        offsets = self._key_offsets(obj, key)
        return offsets[0] if offsets else None

    def locate(self, path: Path) -> dict[str, int | None]:
        """Line and column of the deepest key of ``path`` found in the source."""
        best: int | None = None
        node: Any = self.data
        for part in path:
            if isinstance(node, dict) and isinstance(part, str):
                offset = self._key_offset(node, part)
                if offset is not None:
                    best = offset
                node = node.get(part)
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                node = node[part]
                if id(node) in self._spans:
                    best = self._spans[id(node)][0]
            else:
                break
        if best is None:
            return {"line": None, "column": None}
        return dict(self._line_col(best))

    def error(self, path: Path, message: str) -> DiagramError:
        """A DiagramError for ``path``, located in the source when possible."""
        return DiagramError(message, key=format_path(path) or None, **self.locate(path))
