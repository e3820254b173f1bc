"""Notebook posts: Pelican readers for ``.ipynb`` files and for jupytext Markdown notebooks.

Both turn the notebook into Markdown in memory (``execblog.sources.cells``) and read it as
Pelican reads a Markdown post, through the fence reader: the same fence engine, cache,
figures, cross-references, citations, notebook download and feeds. Messages about the post
name its cells (``posts/x.ipynb: cell 4, line 2: error: ...``) or, in a Markdown notebook,
the file's own lines.

``NOTEBOOK_EXECUTE`` (``"run"``, the default, or ``"stored"``) says whether code cells run
or show the outputs saved in the notebook; a notebook's own ``execute`` metadata wins.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat

from execblog.engine.collect import FenceExtension, FenceReader
from execblog.engine.settings import notebook_execute
from execblog.kernel.diagnostics import LineName, emit, name_lines, shown_path
from execblog.sources.stored_outputs import MARKER

from .cells import Converted, to_markdown
from .myst import file_lines, jupytext_header, read_notebook

# Absolute path -> the Markdown its post was read as (the notebook download splits it).
_converted: dict[str, str] = {}


def converted_markdown(path: str) -> str | None:
    """The Markdown the post at ``path`` was read as, when it was converted (a notebook)."""
    return _converted.get(os.path.abspath(path))


class NotebookReader(FenceReader):
    """Reads ``.ipynb`` posts (nbformat 4; older formats are upgraded)."""

    file_extensions = ["ipynb"]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.mode = notebook_execute(self.settings)  # a bad setting stops the build at once

    def read(self, source_path: str) -> tuple[str, dict[str, Any]]:
        text = ""
        try:
            text = Path(source_path).read_text(encoding="utf-8")
            nb = nbformat.reads(text, as_version=4)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ValueError(f"not a readable notebook ({_json_problem(text) or exc})") from None
        return read_converted(self, source_path, nb)


class JupytextMarkdownReader(NotebookReader):
    """Pelican's Markdown reader, except for a jupytext Markdown notebook (a YAML front
    matter with ``jupytext:`` and ``kernelspec:``), which is read as a notebook. Every other
    Markdown post is read exactly as before."""

    file_extensions = FenceReader.file_extensions

    def read(self, source_path: str) -> tuple[str, dict[str, Any]]:
        try:
            text = Path(source_path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""
        header = jupytext_header(text)
        if header is None:
            _converted.pop(os.path.abspath(source_path), None)
            name_lines(source_path, None)
            return FenceReader.read(self, source_path)
        nb, problems = read_notebook(text, header)
        return read_converted(self, source_path, nb, file_lines(text, nb), problems)


def read_converted(reader: NotebookReader, source_path: str, nb: Any,
                   lines: dict[int, tuple[int, int]] | None = None,
                   problems: list[str] | None = None) -> tuple[str, dict[str, Any]]:
    """Read notebook ``nb`` as the post at ``source_path``; ``lines``: where its cells are in
    the file (a Markdown notebook), so messages name the file's lines."""
    converted = to_markdown(nb, mode=reader.mode, openers=openers(reader.settings),
                            fallback_title=_file_title(source_path))
    name_lines(source_path, _namer(converted, lines))
    _converted[os.path.abspath(source_path)] = converted.text
    where = shown_path(source_path)
    for message in problems or []:
        emit(where, None, "warning", message)
    for line, message in converted.notes:
        emit(where, line, "warning", message)
    return reader.read_text(source_path, converted.text)


def openers(settings: dict[str, Any]) -> dict[str, str]:
    """Language -> the opener of the installed kind that runs it (``python exec``), from
    the fence extension in the site's Markdown settings."""
    extensions = (settings.get("MARKDOWN") or {}).get("extensions") or []
    found = next((e for e in extensions if isinstance(e, FenceExtension)), None)
    if found is None:
        return {"python": "python exec"}
    table: dict[str, str] = {}
    for kind in found.kinds():
        if kind.marker and kind.marker != MARKER:
            for name in (kind.language, *kind.aliases):
                table.setdefault(name, f"{kind.language} {kind.marker}")
    return table


def _namer(converted: Converted, lines: dict[int, tuple[int, int]] | None
           ) -> Callable[[int], LineName]:
    if lines is None:
        return converted.cell_name

    def name(line: int) -> LineName:
        origin = converted.origin(line)
        if origin is None:
            return 1  # the front matter
        cell, inner = origin
        if cell not in lines:
            return converted.cell_name(line)
        opener, first = lines[cell]
        return first + inner - 1 if inner else opener

    return name


def _json_problem(text: str) -> str | None:
    """Where ``text`` stops being JSON (nbformat's own message says only that it is not)."""
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
    except ValueError:
        pass
    return None


def _file_title(path: str) -> str:
    stem = Path(path).stem.replace("_", " ").replace("-", " ").strip()
    return stem[:1].upper() + stem[1:] if stem else "Untitled"
