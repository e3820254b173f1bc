"""The ``diagram`` fence kind: JSON in, hand-drawn SVG out (see plugins/execblog/diagrams).

Pages get the SVG inline, drawn in ``currentColor`` so it follows light and dark mode;
feeds get an ``<img>`` of a standalone SVG with fixed colours (feedkit swaps them).
"""

from __future__ import annotations

from html import escape
from typing import Any

from execblog.engine.hookspecs import hookimpl
from execblog.engine.model import (
    FEED_DROP,
    FEED_ONLY,
    Fence,
    FenceError,
    FenceKind,
    Output,
    RenderContext,
    feed_role,
)

MIME = "image/svg+xml"


def run_diagram(fence: Fence, session: Any) -> None:
    from execblog.diagrams import DiagramError, render_diagram

    caption = fence.options.alt or fence.options.caption or None
    try:
        inline = render_diagram(fence.code, caption=caption)
        standalone = render_diagram(fence.code, caption=caption, standalone=True)
    except DiagramError as exc:
        line = fence.code_line + exc.line - 1 if exc.line else fence.line
        raise FenceError(f"diagram: {exc}", line) from None
    session.emit(Output(MIME, inline, {"diagram": True, "standalone": standalone}))


@hookimpl
def fences_kinds() -> list[FenceKind]:
    from execblog.diagrams import RENDERER_VERSION

    return [FenceKind(name="diagram", language="diagram", run=run_diagram,
                      shares_session=False, uses_backend=False, defaults=(("echo", False),),
                      version=f"1+renderer{RENDERER_VERSION}")]


@hookimpl
def fences_render_output(output: Output, context: RenderContext) -> str | None:
    if output.mime != MIME or not output.meta.get("diagram"):
        return None
    options = context.fence.options
    alt = escape(options.alt or options.caption or "diagram")
    src = context.link(str(output.meta["standalone"]).encode(), "svg")
    caption = options.caption
    figcaption = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return (
        # a scroll box: the SVG keeps its text >= 12 px (svg.py's min-width) on a phone
        f'<figure class="diagram"><div class="diagram-scroll" tabindex="0" role="region" '
        f'aria-label="Diagram"{feed_role(FEED_DROP)}>{output.data}</div>'
        f'<img class="diagram-feed" src="{src}" alt="{alt}" loading="lazy" hidden'
        f'{feed_role(FEED_ONLY)}>'
        f"{figcaption}</figure>"
    )
