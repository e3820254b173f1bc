"""Hand-drawn SVG diagrams from a small JSON schema (a library; the fence kind wraps it).

    render_diagram(source, caption="Stack and heap")                  # inline, themed by CSS
    render_diagram(source, caption="Stack and heap", standalone=True) # fixed colours, for <img>

The pipeline is one module per step: ``jsonloc`` (parse, remember positions) -> ``schema``
(validate, build the model) -> ``layout`` (measure and place) -> ``route`` (arrows) ->
``svg`` (rough strokes, text, document). Any problem raises :class:`DiagramError`.
"""

from __future__ import annotations

from .errors import DiagramError
from .layout import anchors, frames, layout, obstacles
from .route import route_all
from .schema import parse
from .svg import document

__all__ = ["RENDERER_VERSION", "DiagramError", "render_diagram"]

#: Bump when the output for a given source changes; part of the fence cache key.
RENDERER_VERSION = "3"


def render_diagram(source: str, *, caption: str | None = None, standalone: bool = False) -> str:
    """Render diagram JSON to an ``<svg>`` element; same input, same bytes.

    ``standalone=False`` (pages): strokes and text use ``currentColor`` and the CSS classes
    styled by ``diagrams.css``, so the drawing follows the page's light/dark theme.
    ``standalone=True`` (feeds, a separate ``.svg`` file): fixed dark-on-white colours.
    Raises :class:`DiagramError` with the line/column in ``source`` and the key path.
    """
    diagram = parse(source)
    nodes = layout(diagram)
    targets = anchors(nodes)
    pairs = [(targets[a.source], targets[a.target]) for a in diagram.arrows]
    routes = route_all(pairs, obstacles(nodes, diagram.font), frames(nodes))
    return document(
        diagram,
        nodes,
        list(zip(diagram.arrows, routes, strict=True)),
        caption=caption,
        standalone=standalone,
    )
