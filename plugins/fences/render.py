"""Render: fence results -> HTML through the output-renderer hooks; figures -> files.

Payloads are written under ``<output>/fences/`` with content-hashed names and linked as
``{static}/fences/<name>``, which Pelican rewrites per context: relative on pages in
development, absolute in feeds.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path
from typing import Any

import markdown
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from .cache import atomic_write, sha256
from .model import ERROR, FAILURES, SKIPPED, Fence, FenceKind, FenceResult, RenderContext

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
OUTPUT_DIR = "fences"


def xml_safe(html: str) -> str:
    """Drop terminal colour codes and characters that XML (and so feeds) cannot hold."""
    return NOT_XML.sub("", ANSI.sub("", html))


class _Linked:
    """Stands in Pelican's ``static_content`` so ``{static}/fences/x`` resolves."""

    def __init__(self, url: str):
        self.url = url


class Renderer:
    def __init__(self, pm: Any, kinds: dict[str, FenceKind], output_path: str,
                 context: dict[str, Any]):
        self.pm = pm
        self.kinds = kinds
        self.output = Path(output_path)
        self.context = context
        self._formatter = HtmlFormatter(cssclass="highlight")
        self._md = markdown.Markdown(extensions=["extra"], output_format="html")

    def link(self, payload: bytes, ext: str) -> str:
        name = f"{sha256(payload)[:20]}.{ext}"
        rel = f"{OUTPUT_DIR}/{name}"
        target = self.output / rel
        if not target.exists():
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

    def _output(self, output: Any, ctx: RenderContext) -> str:
        html = self.pm.hook.fences_render_output(output=output, context=ctx)
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
