"""Pure logic: a post's Markdown source, fences and results -> an nbformat 4 notebook."""

from __future__ import annotations

import ast
import base64
import re
import textwrap
from collections.abc import Callable, Mapping
from typing import Any

import nbformat
from nbformat import v4

from execblog.engine.model import (
    ERROR,
    FAILURES,
    NOT_RUN,
    SKIPPED,
    STREAM,
    Fence,
    FenceKind,
    FenceResult,
    Output,
)
from execblog.engine.render import terminal_text

# Which fences become code cells, and in which language, each kind declares
# (FenceKind.notebook_cell); this module names no kind.
Kinds = Mapping[str, FenceKind]
TERMINAL = frozenset({STREAM, ERROR, "text/plain"})
RICH = ("text/html", "text/markdown", "text/plain")
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
SETUP = ("# The blog's build gives every fence these names; here they are NumPy's.\n"
         "import numpy as xp\n\n"
         "to_numpy = xp.asarray")
_SETUP_NAMES = re.compile(r"\b(?:xp|to_numpy)\b")

# Python-Markdown's meta extension, which Pelican's Markdown reader uses.
_META = re.compile(r"^[ ]{0,3}[A-Za-z0-9_-]+:\s*.*")
_META_MORE = re.compile(r"^[ ]{4,}.*")
_META_BEGIN = re.compile(r"^-{3}(\s.*)?$")
_META_END = re.compile(r"^(-{3}|\.{3})(\s.*)?$")
_FENCE_MARK = re.compile(r"`{3,}|~{3,}")


def wants_notebook(fences: list[Fence], kinds: Kinds) -> bool:
    """A post gets a notebook when it has a fence that runs code: one of a kind opened with
    a marker (```` ```python exec ````, a notebook's stored cells), not only fences of kinds
    that claim a whole language (```` ```diagram ````)."""
    return any(f.kind not in kinds or kinds[f.kind].marker is not None for f in fences)


def cell_language(fence: Fence, kinds: Kinds) -> str | None:
    """The language of the code cell ``fence`` becomes, or None for a Markdown cell."""
    kind = kinds.get(fence.kind)
    return kind.notebook_cell if kind is not None else None


def cell_magic(language: str) -> str:
    """What starts a code cell in ``language``: nothing in the kernel's own, else IPython's
    cell magic of that name (``%%bash``)."""
    return "" if language == KERNELSPEC["language"] else f"%%{language}\n"


def gets_build_names(fence: Fence, kinds: Kinds) -> bool:
    """Whether the build gives the fence's code ``xp`` and ``to_numpy``: a kernel-language
    code cell of a kind whose sessions get an array backend."""
    kind = kinds.get(fence.kind)
    return (kind is not None and kind.uses_backend
            and kind.notebook_cell == KERNELSPEC["language"])


# -- the source -------------------------------------------------------------------------------
def source_lines(text: str) -> list[str]:
    """The post's lines as the fence collector numbers them (Python-Markdown's newlines)."""
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")


def body_start(lines: list[str]) -> int:
    """Index of the first line after the metadata header (Python-Markdown's meta rules:
    an optional ``---``, ``Key: value`` lines and their indented continuations, up to a
    blank line or ``---``/``...``, which is part of the header)."""
    i = 1 if lines and _META_BEGIN.match(lines[0]) else 0
    key = False
    while i < len(lines):
        line = lines[i]
        if not line.strip() or _META_END.match(line):
            return i + 1
        if _META.match(line):
            key = True
        elif not (key and _META_MORE.match(line)):
            return i  # not metadata: the body starts here
        i += 1
    return i


def fence_end(lines: list[str], fence: Fence) -> int:
    """Index of the fence's closing line (``len(lines)`` when it has none)."""
    opener = lines[fence.line - 1] if 0 < fence.line <= len(lines) else ""
    mark = _FENCE_MARK.search(opener)
    if mark is None:
        return min(fence.line, len(lines))
    closer = re.compile(rf"^[ \t>]*{re.escape(mark[0][0])}{{{len(mark[0])},}}\s*$")
    for j in range(fence.line, len(lines)):
        if closer.match(lines[j]):
            return j
    return len(lines)


def split_post(text: str, fences: list[Fence]) -> list[str | Fence]:
    """The post's body as prose (Markdown text) and fences, in order."""
    lines = source_lines(text)
    pos = body_start(lines)
    parts: list[str | Fence] = []
    for fence in sorted(fences, key=lambda f: f.line):
        start = fence.line - 1
        if start < pos:  # not where we expected it: keep the order, skip no prose
            parts.append(fence)
            continue
        _prose(parts, lines[pos:start])
        parts.append(fence)
        pos = fence_end(lines, fence) + 1
    _prose(parts, lines[pos:])
    return parts


def _prose(parts: list[str | Fence], lines: list[str]) -> None:
    text = "\n".join(lines).strip("\n")
    if text.strip():
        parts.append(text.rstrip())


_INTRASITE = r"\{(?:filename|static|attach|index|tag|tags|category|categories|author|authors)\}"
_MD_LINK = re.compile(rf"(?P<pre>\]\(\s*<?)(?P<target>{_INTRASITE}[^)\s>]*)"
                      rf"|(?P<refpre>^[ ]{{0,3}}\[[^\]\n]+\]:[ \t]*<?)"
                      rf"(?P<ref>{_INTRASITE}\S*?)(?=>|\s|$)"
                      rf"|(?P<attrpre>\b(?:href|src)\s*=\s*[\"'])(?P<attr>{_INTRASITE}[^\"']*)",
                      re.M)


def intrasite_links(text: str, link: Callable[[str], str]) -> str:
    """Pelican's ``{filename}``/``{static}`` link targets in Markdown links, link
    definitions and raw HTML attributes, resolved by ``link``."""

    def resolve(match: re.Match[str]) -> str:
        for pre, target in (("pre", "target"), ("refpre", "ref"), ("attrpre", "attr")):
            if match[target] is not None:
                return match[pre] + link(match[target])
        return match[0]

    return _MD_LINK.sub(resolve, text)


# -- the notebook ---------------------------------------------------------------------------
# Cells and outputs are made as plain nodes and the notebook is validated once, at the end:
# nbformat's new_* constructors validate each node against the schema (over 1 ms each, a
# second per build on a 40-post site).
def _node(**fields: Any) -> Any:
    return nbformat.from_dict(fields)


def _markdown_cell(source: str) -> Any:
    return _node(cell_type="markdown", metadata={}, source=source)


def _code_cell(source: str, outputs: list[Any] | None = None, execution_count: int | None = None,
               metadata: dict[str, Any] | None = None) -> Any:
    return _node(cell_type="code", metadata=metadata or {}, source=source,
                 outputs=outputs or [], execution_count=execution_count)


def build_notebook(text: str, fences: list[Fence], results: list[FenceResult], kinds: Kinds,
                   title: str = "", link: Callable[[str], str] | None = None,
                   refs: Callable[[str], str] | None = None, appendix: str = "") -> Any:
    """The notebook of one post; ``kinds``, the site's fence kinds by name, say which fences
    become code cells. It is not validated here (nbformat's validator takes 0.4 s to build,
    in every build that writes a notebook): the cells have nbformat 4.5's fixed shapes, and
    tests/test_notebooks.py validates every kind of cell this makes.

    ``link`` turns a Pelican link target in the prose (``{filename}other.md``,
    ``{static}/images/x.png``) into a URL that works from the notebook's folder. ``refs``
    gives the prose the page's text for its references (``@fig-x``, ``[@key]``,
    ``@post:slug``: ``execblog.markdown.xrefs.markdown``); ``appendix`` is a last Markdown cell (the
    References)."""
    by_fence = {id(f): r for f, r in zip(fences, results, strict=True)}
    cells: list[Any] = []
    if title:
        cells.append(_markdown_cell(f"# {title}"))
    if any(_SETUP_NAMES.search(f.code) for f in fences if gets_build_names(f, kinds)):
        cells.append(_code_cell(SETUP, metadata={"tags": ["setup"]}))
    count = 0
    for part in split_post(text, fences):
        if isinstance(part, str):
            part = refs(part) if refs else part
            cells.append(_markdown_cell(intrasite_links(part, link) if link else part))
            continue
        result = by_fence[id(part)]
        language = cell_language(part, kinds)
        if language is not None:
            ran = result.status not in (SKIPPED, NOT_RUN)
            count += ran
            cells.append(code_cell(part, result, count if ran else None, language))
        else:
            cells.append(markdown_cell(part, result))
    if appendix:
        cells.append(_markdown_cell(intrasite_links(appendix, link) if link else appendix))
    for index, cell in enumerate(cells):
        cell["id"] = f"cell-{index}"  # stable ids: nbformat's own are random
    nb = nbformat.from_dict({"nbformat": 4, "nbformat_minor": v4.nbformat_minor,
                             "cells": cells, "metadata": {}})
    nb.metadata.update({"kernelspec": dict(KERNELSPEC),
                        "language_info": {"name": KERNELSPEC["language"]}})
    if title:
        nb.metadata["title"] = title
    return nb


def dumps(nb: Any) -> bytes:
    """The notebook's bytes as nbformat writes them (sorted keys, one-space indent)."""
    return (nbformat.writes(nb, version=4) + "\n").encode("utf-8")


def shown_outputs(fence: Fence, result: FenceResult) -> list[Output]:
    """The outputs the page shows: all of them, or only errors under ``output=false``."""
    failed = result.status in FAILURES or result.status == SKIPPED
    if fence.options.output:
        return list(result.outputs)
    return [o for o in result.outputs if o.mime == ERROR] if failed else []


def code_cell(fence: Fence, result: FenceResult, count: int | None, language: str) -> Any:
    outputs = [o for out in shown_outputs(fence, result) for o in _outputs(out, fence)]
    outputs = _merge_streams(outputs)
    value = _value_index(outputs) if count is not None and _ends_with_value(fence) else None
    if value is not None:  # the trailing expression's value: Out[n], as Jupyter shows it
        shown = outputs[value]
        outputs[value] = _node(output_type="execute_result", data=shown["data"],
                               metadata=shown["metadata"], execution_count=count)
    metadata: dict[str, Any] = {}
    if not fence.options.echo or fence.options.fold:
        metadata["jupyter"] = {"source_hidden": True}
    source = cell_magic(language) + fence.code.strip("\n")
    return _code_cell(source, outputs=outputs, execution_count=count, metadata=metadata)


def _outputs(output: Output, fence: Fence) -> list[Any]:
    mime, data = output.mime, output.data
    if mime in TERMINAL and isinstance(data, str):
        data = terminal_text(data) + _truncated(output)
    if mime == STREAM:
        name = output.meta.get("name") if output.meta.get("name") in ("stdout", "stderr") \
            else "stdout"
        return [_node(output_type="stream", name=name, text=str(data))] if data else []
    if mime == ERROR:
        return [_error(output, str(data))]
    bundle = _bundle(output, fence)
    if not bundle:
        return []
    data_, meta = bundle
    return [_node(output_type="display_data", data=data_, metadata=meta)]


def _bundle(output: Output, fence: Fence) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(mime bundle, metadata) of one rich output, or None when it has no notebook form."""
    mime, data = output.mime, output.data
    meta: dict[str, Any] = {}
    if mime == "image/svg+xml":
        # a drawing whose inline SVG leans on the page's styles carries a self-contained one
        svg = output.meta.get("standalone") or data
        svg = svg.decode("utf-8") if isinstance(svg, bytes) else str(svg or "")
        bundle = {mime: svg}
    elif mime == "image/png" or (mime.startswith("image/") and isinstance(data, bytes)):
        payload = data if isinstance(data, bytes) else str(data).encode("ascii", "replace")
        encoded = base64.b64encode(payload).decode("ascii") if isinstance(data, bytes) \
            else payload.decode("ascii")
        bundle = {mime: encoded}
        size = {k: int(output.meta[k]) for k in ("width", "height") if output.meta.get(k)}
        if size:
            meta[mime] = size
    elif mime.endswith("json") or mime.endswith("+json"):
        return None  # nbformat wants JSON objects there; the engine never makes these
    elif isinstance(data, bytes):
        bundle = {mime: base64.b64encode(data).decode("ascii")}
    else:
        bundle = {mime: str(data)}
    if _captioned(output):
        alt = fence.options.alt or fence.options.caption
        if alt:
            bundle["text/plain"] = str(alt)
    return bundle, meta


def _captioned(output: Output) -> bool:
    """Whether the fence's ``alt``/``caption`` describes ``output``: a figure it drew
    (``figure`` in the metadata) or a drawing with a self-contained rendering."""
    return bool(output.meta.get("figure") or output.meta.get("standalone"))


def _error(output: Output, text: str) -> Any:
    lines = text.rstrip("\n").split("\n") if text.strip() else [""]
    ename = str(output.meta.get("ename") or "Error")
    last = lines[-1].strip()
    evalue = last[len(ename) + 1:].strip() if last.startswith(f"{ename}:") else (
        "" if last == ename else last)
    return _node(output_type="error", ename=ename, evalue=evalue, traceback=lines)


def _truncated(output: Output) -> str:
    size = output.meta.get("truncated")
    if not size:
        return ""
    unit = output.meta.get("truncated_unit", "bytes")
    return f"\n[output truncated: it had {int(size):,} {unit}]\n"


def _merge_streams(outputs: list[Any]) -> list[Any]:
    merged: list[Any] = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if (prev is not None and out["output_type"] == "stream" == prev["output_type"]
                and out["name"] == prev["name"]):
            prev["text"] += out["text"]
            continue
        merged.append(out)
    return merged


def _value_index(outputs: list[Any]) -> int | None:
    """Index of the last rich output followed only by figures (captured at the end)."""
    for index in range(len(outputs) - 1, -1, -1):
        out = outputs[index]
        if out["output_type"] != "display_data":
            return None
        if set(out["data"]) <= set(RICH):
            return index
        if not any(m.startswith("image/") for m in out["data"]):
            return None
    return None


def _ends_with_value(fence: Fence) -> bool:
    """Whether the code ends with an expression whose value Jupyter shows (Out[n])."""
    code = textwrap.dedent(fence.code)
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return bool(tree.body) and isinstance(tree.body[-1], ast.Expr) and \
        not code.rstrip().endswith(";")


# -- fences a Python kernel cannot run ---------------------------------------------------------
def markdown_cell(fence: Fence, result: FenceResult) -> Any:
    """The code in a fenced block, then its outputs as Markdown; images as attachments."""
    parts: list[str] = []
    attachments: dict[str, Any] = {}
    if fence.options.echo and fence.code.strip():
        parts.append(_block(fence.code.strip("\n"), fence.kind))
    for output in shown_outputs(fence, result):
        mime, data = output.mime, output.data
        if mime in TERMINAL and isinstance(data, str):
            text = (terminal_text(data) + _truncated(output)).rstrip("\n")
            if text.strip():
                parts.append(_block(text, "text"))
            continue
        bundle = _bundle(output, fence)
        if bundle is None:
            continue
        payload, _meta = bundle
        if mime.startswith("image/"):
            ext = {"image/svg+xml": "svg", "image/png": "png"}.get(mime, mime.split("/")[1])
            name = f"output-{len(attachments) + 1}.{ext}"
            body = payload[mime]
            if mime == "image/svg+xml":  # attachments are base64, whatever the type
                body = base64.b64encode(body.encode("utf-8")).decode("ascii")
            attachments[name] = {mime: body}
            alt = fence.options.alt or fence.options.caption or fence.kind
            parts.append(f"![{_bracket_safe(str(alt))}](attachment:{name})")
        elif mime in ("text/html", "text/markdown"):
            parts.append(str(payload[mime]).strip("\n"))
    cell = _markdown_cell("\n\n".join(parts) or f"*({fence.kind} fence)*")
    if attachments:
        cell["attachments"] = attachments
    return cell


def _block(text: str, lang: str) -> str:
    longest = max((len(m) for m in re.findall(r"`{3,}", text)), default=2)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{text}\n{ticks}"


def _bracket_safe(text: str) -> str:
    return text.replace("[", "(").replace("]", ")").replace("\n", " ")
