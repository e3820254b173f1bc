"""Output renderers: one mime type -> HTML. Captured text is always escaped."""

from __future__ import annotations

from html import escape

from ..hookspecs import hookimpl
from ..model import ERROR, STREAM, Output, RenderContext

# How the truncation notice names what was cut, by the mime type it had.
_WHAT = {ERROR: "the error", "text/plain": "the value", "text/html": "the HTML",
         "image/svg+xml": "the SVG", "text/markdown": "the Markdown"}


def _pre(css: str, text: str) -> str:
    return f'<pre class="{css}">{escape(text)}</pre>'


def truncated_notice(output: Output) -> str:
    """The visible note under an output that was cut (streams: by capture, others: bounds)."""
    size = output.meta.get("truncated")
    if not size:
        return ""
    mime = output.meta.get("truncated_from") or output.mime
    what = output.meta.get("name") if mime == STREAM else _WHAT.get(mime, mime)
    unit = output.meta.get("truncated_unit", "bytes")
    return (f'<p class="fence-truncated">Output truncated: {escape(str(what or "output"))} '
            f"had {int(size):,} {escape(str(unit))}.</p>")


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
        return _pre(f"fence-stream fence-{name}", str(data)) + truncated_notice(output)
    if mime == ERROR:
        where = context.fence.public_location(context.result.line)
        return (
            '<div class="fence-error" role="alert">'
            f'<p class="fence-error-where">{escape(where)}</p>'
            f'{_pre("fence-traceback", str(data))}{truncated_notice(output)}</div>'
        )
    if mime == "text/plain":
        return _pre("fence-text", str(data)) + truncated_notice(output)
    if mime == "text/html" and isinstance(data, str):  # other data: escaped repr (render.py)
        return f'<div class="fence-html">{data}</div>'
    if mime == "text/markdown":
        return f'<div class="fence-markdown">{context.markdown(str(data))}</div>'
    if mime == "image/svg+xml":
        if output.meta.get("figure"):
            return _figure(output, context, "svg")
        if isinstance(data, str):
            return f'<div class="fence-html">{data}</div>'
    if mime == "image/png":
        return _figure(output, context, "png")
    return None
