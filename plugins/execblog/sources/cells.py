"""A notebook (nbformat 4) as the Markdown of a post, which the fence reader then reads.

* The notebook's metadata (``title``, ``date``, ``tags``, ``summary``... at the top level, as
  Jupyter Book and nbconvert put them, or in a first raw cell of YAML front matter, as
  Quarto does) becomes Pelican's metadata header; without a ``title``, the first ``# ``
  heading is the title and leaves the body.
* Markdown cells are prose, as written; raw cells of HTML or Markdown are included as they
  are, other raw cells are left out.
* Code cells are fences of the kernel's language: ```` ```python exec ```` (run), or
  ```` ```python stored outputs=... ```` (shown with the outputs saved in the notebook: see
  ``execblog.kinds.stored``). ``#|`` option lines stay in the cell and are read as in
  any fence; Jupyter Book's cell tags become fence options (:data:`TAG_OPTIONS`).

Every line of the Markdown remembers the cell it came from, so a message names
``cell 4, line 2`` (:meth:`Converted.cell_name`).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Any

from execblog.sources.stored_outputs import LANGUAGES, MARKER, encode_outputs

from .myst import front_matter

# Jupyter Book's cell tags -> fence options. A cell shown from its stored outputs (stored
# mode, or skip-execution) with remove-cell is left out: nothing needs to run.
TAG_OPTIONS: dict[str, tuple[str, ...]] = {
    "raises-exception": ("error=true",),
    "remove-input": ("echo=false",),
    "remove-output": ("output=false",),
    "remove-cell": ("include=false",),
    "hide-input": ("fold=true",),
    "hide-cell": ("fold=true",),
    "skip-execution": ("eval=false",),  # where the language has no stored kind
}
# Jupyter Book tags with no equivalent here: a warning says what is done instead.
UNSUPPORTED_TAGS = {
    "hide-output": "its output is shown (remove-output leaves it out)",
    "hide-cell": "its input is folded and its output shown, as with hide-input",
    "remove-stderr": "its stderr is shown (remove-output leaves every output out)",
    "remove-stdout": "its stdout is shown (remove-output leaves every output out)",
}
# Notebook metadata -> Pelican metadata: name in the notebook, name in the header.
META_NAMES = {
    "title": "title", "date": "date", "modified": "modified", "tags": "tags",
    "keywords": "tags", "categories": "tags", "category": "category",
    "summary": "summary", "description": "summary", "author": "authors", "authors": "authors",
    "slug": "slug", "status": "status", "lang": "lang", "bibliography": "bibliography",
    "template": "template", "subtitle": "subtitle",
}
EXECUTE_KEY = "execute"  # per notebook: "run" or "stored"
RAW_SHOWN = frozenset({"text/html", "text/markdown", "text/x-markdown", "html", "markdown"})
_HEADING = re.compile(r"^#[ \t]+(?P<text>.+?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^[ ]{0,3}(`{3,}|~{3,})")
_LANGUAGE = {"ipython": "python", "python3": "python", "sh": "bash", "shell": "bash"}


@dataclass
class Converted:
    """The Markdown of a notebook post, with where each of its lines came from."""

    text: str
    # per line of ``text`` (index 0 is line 1): (cell number from 1, line in the cell; 0
    # for lines the conversion wrote, such as a fence's opener), or None (the header)
    origins: list[tuple[int, int] | None]
    notes: list[tuple[int | None, str]] = field(default_factory=list)  # (line, warning)

    def origin(self, line: int) -> tuple[int, int] | None:
        return self.origins[line - 1] if 0 < line <= len(self.origins) else None

    def cell_name(self, line: int) -> tuple[str, int]:
        """``("cell 4", 2)``: line 2 of cell 4 (0: a line the conversion wrote)."""
        found = self.origin(line)
        if found is None:
            return "metadata", 0
        return f"cell {found[0]}", found[1]


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.origins: list[tuple[int, int] | None] = []

    def add(self, text: str, cell: int | None = None, first: int = 0) -> int:
        """Append ``text``'s lines (line ``first`` of the cell, then the next ones; 0:
        written here) and return the number of the first."""
        start = len(self.lines) + 1
        for offset, line in enumerate(text.split("\n")):
            self.lines.append(line)
            self.origins.append(None if cell is None else (cell, first + offset if first else 0))
        return start

    def blank(self) -> None:
        """A blank line (one is enough), counted as the previous line's cell's."""
        if self.lines and self.lines[-1].strip():
            previous = self.origins[-1]
            self.add("", previous[0] if previous else None)


def kernel_language(metadata: dict[str, Any]) -> str:
    """The notebook's language, as fence openers name it (``python``, ``bash``...)."""
    found = ((metadata.get("kernelspec") or {}).get("language")
             or (metadata.get("language_info") or {}).get("name")
             or (metadata.get("jupytext") or {}).get("default_lexer") or "python")
    return normal_language(str(found))


def normal_language(name: str) -> str:
    low = name.strip().lower()
    return "python" if re.fullmatch(r"ipython\d*|python\d*", low) else _LANGUAGE.get(low, low)


def execute_mode(metadata: dict[str, Any], site_mode: str) -> tuple[str, str | None]:
    """``run`` or ``stored`` for this notebook (its ``execute`` metadata, or MyST-NB's
    ``execution_mode: off``, over the site's), and a warning about a bad value."""
    own = metadata.get(EXECUTE_KEY)
    if own is None:
        mystnb = metadata.get("mystnb") or {}
        off = isinstance(mystnb, dict) and str(mystnb.get("execution_mode")).lower() == "off"
        return ("stored" if off else site_mode), None
    if own in ("run", "stored"):
        return own, None
    if isinstance(own, dict):  # Quarto's execute: {enabled: false}
        return ("stored" if own.get("enabled") is False else site_mode), None
    return site_mode, (f"metadata {EXECUTE_KEY}: {own!r} is not run or stored; "
                       f"using {site_mode}")


def to_markdown(nb: Any, *, mode: str, openers: dict[str, str], fallback_title: str
                ) -> Converted:
    """The post's Markdown. ``openers`` maps a language to the opener of the installed kind
    that runs it (``{"python": "python exec"}``); ``fallback_title`` is used when the notebook
    names none."""
    cells = list(nb.cells)
    metadata = dict(nb.metadata)
    front = _raw_front_matter(cells)
    if front is not None:  # Quarto's: a raw cell of YAML opens the notebook
        metadata.update(front)
        cells[0] = None
    mode, problem = execute_mode(metadata, mode)
    notes: list[tuple[int | None, str]] = [(None, problem)] if problem else []
    language = kernel_language(metadata)
    opener = openers.get(language)
    if opener is None and not (mode == "stored" and language in LANGUAGES):
        notes.append((None, f"no installed fence kind runs {language!r} cells: they are shown "
                            "as code, without outputs"))
    meta = header_fields(metadata)
    heading = _title_heading(cells)
    if heading is not None and "title" not in meta:
        meta["title"] = heading[2]
    elif heading is not None and heading[2] != meta["title"]:
        heading = None  # a heading that is not the title stays in the body
    meta.setdefault("title", fallback_title)
    out = _Writer()
    for name, value in meta.items():
        out.add(f"{name.capitalize()}: {value}")
    out.add("")
    for number, cell in enumerate(cells, start=1):
        if cell is None:
            continue
        source = _text(cell.get("source"))
        kind = cell.get("cell_type")
        if kind == "markdown":
            skip = heading[1] if heading is not None and heading[0] == number - 1 else None
            start = _prose(out, source, number, skip)
            if cell.get("attachments"):
                notes.append((start, "cell attachments are not shown: save the image next to "
                                     "the notebook and link it"))
        elif kind == "raw":
            fmt = (cell.get("metadata") or {}).get("format") or \
                (cell.get("metadata") or {}).get("raw_mimetype")
            if fmt in RAW_SHOWN and source.strip():
                out.blank()
                out.add(source, number, 1)
        elif kind == "code" and source.strip():
            _code(out, cell, source, number, language, opener, mode, notes)
    return Converted("\n".join(out.lines).rstrip("\n") + "\n", out.origins, notes)


def header_fields(metadata: dict[str, Any]) -> dict[str, str]:
    """Pelican's metadata from the notebook's: one line each, lists joined by commas."""
    fields: dict[str, str] = {}
    for key, value in metadata.items():
        name = META_NAMES.get(str(key).lower())
        if name is None or value in (None, "", []) or (name in fields and name != "tags"):
            continue
        text = _meta_value(name, value)
        if text:  # tags gathers keywords and Quarto's categories
            fields[name] = f"{fields[name]}, {text}" if name in fields else text
    if metadata.get("draft") is True and "status" not in fields:
        fields["status"] = "draft"
    return fields


def _meta_value(name: str, value: Any) -> str:
    if isinstance(value, datetime.date | datetime.datetime):
        value = value.isoformat()
    if isinstance(value, dict):  # nbformat's authors are {"name": ...}
        value = value.get("name") or ""
    if isinstance(value, list | tuple):
        items = [_meta_value(name, v) for v in value]
        if name == "category":
            items = items[:1]
        return ", ".join(i for i in items if i)
    return " ".join(str(value).split())


def _raw_front_matter(cells: list[Any]) -> dict[str, Any] | None:
    if not cells or cells[0].get("cell_type") != "raw":
        return None
    return front_matter(_text(cells[0].get("source")))


def _title_heading(cells: list[Any]) -> tuple[int, int, str] | None:
    """(cell index, line index, text) of the first ``# `` heading in a Markdown cell."""
    for index, cell in enumerate(cells):
        if cell is None or cell.get("cell_type") != "markdown":
            continue
        fence = None
        for line_index, line in enumerate(_text(cell.get("source")).split("\n")):
            mark = _FENCE.match(line)
            if mark:
                fence = None if fence and mark[1].startswith(fence) else fence or mark[1]
                continue
            match = _HEADING.match(line) if fence is None else None
            if match:
                return index, line_index, match["text"].strip()
    return None


def _prose(out: _Writer, source: str, number: int, skip: int | None) -> int:
    """Write a Markdown cell (less line ``skip``); return its first line's number."""
    out.blank()
    start = len(out.lines) + 1
    for index, line in enumerate(source.split("\n")):
        if index != skip:
            out.add(line, number, index + 1)
    return start


def _code(out: _Writer, cell: Any, source: str, number: int, language: str,
          opener: str | None, mode: str, notes: list[tuple[int | None, str]]) -> None:
    tags = [str(t) for t in (cell.get("metadata") or {}).get("tags") or []]
    # skip-execution: shown with its stored outputs, as Jupyter Book does
    stored = language in LANGUAGES and (mode == "stored" or "skip-execution" in tags)
    if stored and "remove-cell" in tags:
        return  # nothing to show, nothing needs to run
    if stored:
        opener = f"{language} {MARKER}"
    words = [w for tag in tags if not (stored and tag == "skip-execution")
             for w in TAG_OPTIONS.get(tag, ())]
    if not stored and _saved_error(cell) and "error=true" not in words:
        words.append("error=true")  # saved with its traceback: the author meant it to raise
    if ((cell.get("metadata") or {}).get("jupyter") or {}).get("source_hidden") \
            and "fold=true" not in words:
        words.append("fold=true")
    if stored and cell.get("outputs"):
        words.append(f"outputs={encode_outputs(list(cell['outputs']))}")
    code = source.rstrip("\n")
    ticks = "`" * max(3, max((len(m) for m in re.findall(r"`+", code)), default=0) + 1)
    out.blank()
    info = " ".join([opener, *dict.fromkeys(words)]) if opener is not None else language
    start = out.add(f"{ticks}{info}", number)
    for tag in tags:
        if tag in UNSUPPORTED_TAGS:
            notes.append((start, f"cell tag {tag!r} is not supported: {UNSUPPORTED_TAGS[tag]}"))
    out.add(code, number, 1)
    out.add(ticks, number)
    out.add("", number)


def _saved_error(cell: Any) -> bool:
    """Whether the notebook was saved with this cell's error shown (as books that teach an
    exception are): the error is expected, as with ``raises-exception``."""
    return any(o.get("output_type") == "error" for o in cell.get("outputs") or [])


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")
