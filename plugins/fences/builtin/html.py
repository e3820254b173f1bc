"""Output renderers: one mime type -> HTML. Captured text is always escaped."""

from __future__ import annotations

from html import escape

from ..hookspecs import hookimpl
from ..model import ERROR, STREAM, Output, RenderContext


def _pre(css: str, text: str) -> str:
    return f'<pre class="{css}">{escape(text)}</pre>'


def _figure(output: Output, context: RenderContext, ext: str) -> str:
    options = context.fence.options
    src = context.link(output.data if isinstance(output.data, bytes) else output.data.encode(),
                       ext)
    size = ""
    if output.meta.get("width") and output.meta.get("height"):
        size = f' width="{int(output.meta["width"])}" height="{int(output.meta["height"])}"'
    alt = options.get("alt") or options.get("caption") or ""
    caption = options.get("caption")
    img = f'<img src="{src}" alt="{escape(alt)}"{size} loading="lazy" decoding="async">'
    figcaption = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return f'<figure class="fence-figure">{img}{figcaption}</figure>'


@hookimpl(trylast=True)
def fences_render_output(output: Output, context: RenderContext) -> str | None:
    mime, data = output.mime, output.data
    if mime == STREAM:
        name = output.meta.get("name", "stdout")
        html = _pre(f"fence-stream fence-{name}", str(data))
        if output.meta.get("truncated"):
            html += (f'<p class="fence-truncated">Output truncated: {name} had '
                     f'{output.meta["truncated"]:,} bytes.</p>')
        return html
    if mime == ERROR:
        where = context.fence.location(context.result.line)
        return (
            '<div class="fence-error" role="alert">'
            f'<p class="fence-error-where">{escape(where)}</p>'
            f'{_pre("fence-traceback", str(data))}</div>'
        )
    if mime == "text/plain":
        return _pre("fence-text", str(data))
    if mime == "text/html":
        return f'<div class="fence-html">{data}</div>'
    if mime == "text/markdown":
        return f'<div class="fence-markdown">{context.markdown(str(data))}</div>'
    if mime == "image/svg+xml":
        if output.meta.get("figure"):
            return _figure(output, context, "svg")
        return f'<div class="fence-html">{data}</div>'
    if mime == "image/png":
        return _figure(output, context, "png")
    return None
