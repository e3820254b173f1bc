"""Jupytext notebooks in Markdown: a ``.md`` file whose YAML front matter has ``jupytext:``
and ``kernelspec:`` (MyST's ```` ```{code-cell} python ```` cells, with ``:tags:`` or a
``---`` block of options; or jupytext's plain Markdown format). Jupytext reads it into a
notebook; each cell is then found again in the file, so messages name the file's own lines.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import jupytext
import yaml

_FRONT = re.compile(r"\A\ufeff?---[ \t]*\r?\n(?P<yaml>.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)",
                    re.S)
_FORMATS = {"myst": "md:myst", "markdown": "md"}
_OPENER = re.compile(r"^[ ]{0,3}(?:`{3,}|~{3,})")


def front_matter(text: str, *needles: str) -> dict[str, Any] | None:
    """The YAML front matter (``---`` ... ``---``) that opens ``text``, as a mapping; None
    when there is none, or when its text lacks one of ``needles`` (a cheap test first)."""
    match = _FRONT.match(text)
    if match is None or not all(n in match["yaml"] for n in needles):
        return None
    try:
        data = yaml.safe_load(match["yaml"])
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


def jupytext_header(text: str) -> dict[str, Any] | None:
    """The front matter of a jupytext Markdown notebook, or None for any other text (every
    Markdown post goes through this test)."""
    data = front_matter(text, "jupytext", "kernelspec")
    if data is not None and isinstance(data.get("jupytext"), dict) and "kernelspec" in data:
        return data
    return None


def read_notebook(text: str, header: dict[str, Any]) -> tuple[Any, list[str]]:
    """The notebook jupytext reads from ``text``, and its warnings (one line each)."""
    name = ((header["jupytext"].get("text_representation") or {}).get("format_name")
            or "myst")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nb = jupytext.reads(text, fmt=_FORMATS.get(str(name), "md:myst"))
    return nb, [f"jupytext: {w.message}" for w in caught]


def file_lines(text: str, nb: Any) -> dict[int, tuple[int, int]]:
    """Cell number (from 1) -> (line of its opener, line of its first source line) in the
    file, for every cell found there (its opener is its first line when it has none)."""
    lines = text.replace("\r\n", "\n").split("\n")
    flat = "\n".join(lines)
    found: dict[int, tuple[int, int]] = {}
    cursor = 0
    for number, cell in enumerate(nb.cells, start=1):
        source = cell.source if isinstance(cell.source, str) else "".join(cell.source)
        if not source.strip():
            continue
        at = flat.find(source, cursor)
        if at < 0:
            continue
        first = flat.count("\n", 0, at) + 1
        opener = first
        if cell.cell_type == "code":
            opener = next((n for n in range(first - 1, 0, -1) if _OPENER.match(lines[n - 1])),
                          first)
        found[number] = (opener, first)
        cursor = at + len(source)
    return found
