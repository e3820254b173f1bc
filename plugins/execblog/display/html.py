"""Output renderers: one mime type -> HTML. Captured text is always escaped.

Figures (matplotlib's, and displayed PNG/JPEG images) are ``<figure class="fence-figure">``
with the fence's caption, each image a link to its file (``a.fig-full``: a tap on a phone
opens it full size). An SVG or PNG figure with a dark rendering
(``execblog.engine.darkfigs``, unless ``FENCES_DARK_FIGURES = False``) holds two,
``a.fig-light`` and ``a.fig-dark``, and the theme's CSS shows the one of the current theme.
Sub-figures (``meta["subfigure"]``, set by the renderer when a fence has several) are
``<figure class="fence-subfigure">`` with "(a)", "(b)"... and the renderer puts the caption
once under them all. ``text/latex`` that is one formula becomes display math in
pelican-render-math's markup (``<div class="math">$$...$$</div>``), so the page's MathJax
and the feeds' MathML treat it as the post's own math.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from execblog.engine.figures import IMAGES, dark_rendering, figure_file
from execblog.engine.hookspecs import hookimpl
from execblog.engine.model import ERROR, FEED_DROP, STREAM, Output, RenderContext, feed_role

# HTML values (tables) scroll sideways when wide: a named, keyboard-reachable region, as the
# text outputs are (render.REGION).
HTML_REGION = ' tabindex="0" role="region" aria-label="Output"'

# How the truncation notice names what was cut, by the mime type it had.
_WHAT = {ERROR: "the error", "text/plain": "the value", "text/html": "the HTML",
         "image/svg+xml": "the SVG", "text/markdown": "the Markdown",
         "text/latex": "the LaTeX"}
# Images written to files and shown as figures, by mime type: the file's extension.
# One formula: $$...$$, \[...\], \begin{env}...\end{env}, $...$ or \(...\).
_FORMULA = re.compile(
    r"\$\$(?P<d1>(?:(?!\$\$).)+)\$\$"
    r"|\\\[(?P<d2>(?:(?!\\\]).)+)\\\]"
    r"|(?P<env>\\begin\{(?P<name>[^}]+)\}.+\\end\{(?P=name)\})"
    r"|\$(?P<i1>[^$]+)\$"
    r"|\\\((?P<i2>(?:(?!\\\)).)+)\\\)", re.S)
_DISPLAYSTYLE = re.compile(r"^\s*\\displaystyle\b\s*")




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


def _figure(output: Output, context: RenderContext, settings: dict[str, Any]) -> str:
    options = context.fence.options
    payload, ext = figure_file(output) or (b"", "")
    src = context.link(payload, ext)
    size = "".join(f' {k}="{int(output.meta[k])}"' for k in ("width", "height")
                   if output.meta.get(k))
    alt = options.alt or options.caption or output.meta.get("alt") or ""
    caption = options.caption
    letter = output.meta.get("subfigure")
    if letter:  # one of several: "(a)" under it, the fence's caption under them all
        alt = f"{alt} ({letter})" if alt else ""
        caption = output.meta.get("subcaption") or (f"({letter})" if caption else "")
    dark = _dark_link(src, payload, ext, context, settings)
    if dark:
        shown = (_full_size(src, alt, size, "fig-light")
                 + _full_size(dark, alt, size, "fig-dark", feed_role(FEED_DROP)))
    else:
        shown = _full_size(src, alt, size)
    figcaption = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    css = "fence-subfigure" if letter else "fence-figure"
    zoom = "" if letter else ' tabindex="0"'  # on a phone a tap zooms it (main.css)
    return f'<figure class="{css}"{zoom}>{shown}{figcaption}</figure>'


def _full_size(src: str, alt: str, size: str, variant: str = "", role: str = "") -> str:
    """The image, as a link to its file: on a phone a tap opens it full size. With a dark
    variant there are two, ``fig-light`` and ``fig-dark``; the theme's CSS shows one, and
    the other (lazy) is never fetched. Feeds drop the dark one (its ``role``)."""
    css = f"fig-full {variant}".strip()
    name = "" if alt else ' aria-label="Figure, full size"'
    img = f'<img src="{src}" alt="{escape(alt)}"{size} loading="lazy" decoding="async">'
    return f'<a class="{css}" href="{src}"{name}{role}>{img}</a>'


def _dark_link(src: str, payload: bytes, ext: str, context: RenderContext,
               settings: dict[str, Any]) -> str | None:
    """The dark rendering's link (made once, from the light bytes), or None: figures that
    keep their own look, JPEGs, ``FENCES_DARK_FIGURES = False``, or a context without
    derived files (a renderer called outside the engine)."""
    variant = getattr(context, "variant", None)
    wanted = dark_rendering(payload, ext, settings)
    if variant is None or wanted is None:
        return None
    return variant(src, *wanted)






def latex_html(text: str, context: RenderContext) -> str:
    """LaTeX as the post's math: one formula is display math (a leading ``\\displaystyle``,
    as ``IPython.display.Math`` writes it, is dropped); text with math in it goes through
    the site's Markdown, which marks its ``$...$`` as math."""
    source = text.strip()
    match = _FORMULA.fullmatch(source)
    if match is None:
        return f'<div class="fence-latex">{context.markdown(source)}</div>'
    if match["env"]:
        math = source
    else:
        tex = next(match[g] for g in ("d1", "d2", "i1", "i2") if match[g] is not None)
        math = f"$${_DISPLAYSTYLE.sub('', tex).strip()}$$"
    return f'<div class="fence-latex"><div class="math">{escape(math, quote=False)}</div></div>'


@hookimpl(trylast=True)
def fences_render_output(output: Output, context: RenderContext,
                         settings: dict[str, Any]) -> str | None:
    settings = settings or {}
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
        return f'<div class="fence-html"{HTML_REGION}>{data}</div>'
    if mime == "text/markdown":
        return f'<div class="fence-markdown">{context.markdown(str(data))}</div>'
    if mime == "text/latex":
        return latex_html(str(data), context)
    if mime == "image/svg+xml":
        if output.meta.get("figure"):
            return _figure(output, context, settings)
        if isinstance(data, str):
            return f'<div class="fence-html"{HTML_REGION}>{data}</div>'
    if mime in IMAGES:
        return _figure(output, context, settings)
    return None
