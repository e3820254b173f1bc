"""Render: fence results -> HTML through the output-renderer hooks; figures -> files.

Payloads are written under ``<output>/fences/`` with content-hashed names and linked as
``{static}/fences/<name>``, which Pelican rewrites per context: relative on pages in
development, absolute in feeds.
"""

from __future__ import annotations

import re
from dataclasses import replace
from html import escape
from pathlib import Path
from typing import Any

import markdown
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound
from xmlsafe import strip_illegal

from .cache import atomic_write, sha256
from .model import (
    ERROR,
    FAILURES,
    SKIPPED,
    STREAM,
    Fence,
    FenceKind,
    FenceResult,
    Output,
    RenderContext,
)

OUTPUT_DIR = "fences"
TERMINAL = frozenset({STREAM, ERROR, "text/plain"})  # text a program wrote, maybe for a tty
# ECMA-48 escapes: strings (OSC: titles, hyperlinks; DCS, PM, APC), CSI (colours, cursor
# moves), then any other escape (charset selection...). The visible text between them stays.
ESCAPES = re.compile(
    r"\x1b[\]PX^_][^\x07\x1b\n]*(?:\x07|\x1b\\)?"  # unterminated: to the end of the line
    r"|\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b[ -/]*[0-~]?"
)


def terminal_text(text: str) -> str:
    """What a terminal would show: escape sequences removed, and on each line the text
    after a carriage return written over the line from column 0 (progress bars end as
    their last state). ``\\r\\n`` is a plain newline."""
    lines = []
    for line in ESCAPES.sub("", text).replace("\r\n", "\n").split("\n"):
        shown = ""
        for part in line.split("\r"):
            shown = part + shown[len(part):]
        lines.append(shown)
    return "\n".join(lines)


def xml_safe(html: str) -> str:
    """Drop the characters that XML (and so feeds) cannot hold."""
    return strip_illegal(html)


class _Linked:
    """Stands in Pelican's ``static_content`` so ``{static}/fences/x`` resolves."""

    def __init__(self, url: str):
        self.url = url


class Renderer:
    def __init__(self, pm: Any, kinds: dict[str, FenceKind], output_path: str,
                 context: dict[str, Any], settings: dict[str, Any] | None = None):
        self.pm = pm
        self.settings = settings or {}
        self.kinds = kinds
        self.output = Path(output_path)
        self.context = context
        self._formatter = HtmlFormatter(cssclass="highlight")
        self._md = markdown.Markdown(extensions=["extra"], output_format="html")

    def link(self, payload: bytes, ext: str) -> str:
        """Write ``payload`` as ``fences/<hash>.ext`` (unless already there, whole) and
        return its ``{static}`` link."""
        name = f"{sha256(payload)[:20]}.{ext}"
        rel = f"{OUTPUT_DIR}/{name}"
        target = self.output / rel
        try:  # a file left by an earlier build may be damaged: size first, then bytes
            whole = target.stat().st_size == len(payload) and target.read_bytes() == payload
        except OSError:
            whole = False
        if not whole:
            atomic_write(target, payload)
        self.context.setdefault("static_content", {})[rel] = _Linked(rel)
        return "{static}/" + rel

    def markdown(self, text: str) -> str:
        self._md.reset()
        return self._md.convert(text)

    def fence_html(self, fence: Fence, result: FenceResult) -> str:
        options = fence.options
        kind = self.kinds.get(fence.kind)
        parts = []
        if options.get("echo") and fence.code.strip():
            source = self._source(fence, kind)
            if options.get("fold"):
                source = f'<details class="fence-fold"><summary>Code</summary>{source}</details>'
            parts.append(source)
        failed = result.status in FAILURES or result.status == SKIPPED
        if options.get("output") or failed:
            ctx = RenderContext(fence=fence, result=result, link=self.link,
                                markdown=self.markdown)
            shown = [o for o in result.outputs if options.get("output") or o.mime == ERROR]
            html = "".join(self._output(o, ctx) for o in shown)
            if html:
                parts.append(f'<div class="fence-outputs">{html}</div>')
                parts.append(_backend_label(result.backend))
        anchor = f' id="{escape(options["id"])}"' if options.get("id") else ""
        status = f" fence-{result.status}" if failed else ""
        return xml_safe(
            f'<div class="fence fence-{escape(fence.kind)}{status}"{anchor}>{"".join(parts)}</div>'
        )

    def _source(self, fence: Fence, kind: FenceKind | None) -> str:
        try:
            lexer = get_lexer_by_name(kind.language if kind else fence.kind)
        except ClassNotFound:
            lexer = get_lexer_by_name("text")
        return f'<div class="fence-source">{highlight(fence.code, lexer, self._formatter)}</div>'

    def _output(self, output: Output, ctx: RenderContext) -> str:
        if output.mime in TERMINAL and isinstance(output.data, str):
            output = replace(output, data=terminal_text(output.data))
        html = self.pm.hook.fences_render_output(output=output, context=ctx,
                                                 settings=self.settings)
        if html is None:
            return f'<pre class="fence-text">{escape(repr(output.data)[:2000])}</pre>'
        return html


def _backend_label(backend: dict[str, Any] | None) -> str:
    if not backend:
        return ""
    versions = ", ".join(f"{k} {v}" for k, v in sorted((backend.get("versions") or {}).items()))
    title = f"{backend.get('device', '')}; {versions}".strip("; ")
    return (
        f'<span class="fence-backend" data-backend="{escape(str(backend.get("name")))}" '
        f'title="{escape(title)}">{escape(str(backend.get("label")))}</span>'
    )
