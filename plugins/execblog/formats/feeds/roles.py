"""Outputs in feeds, by the role their HTML declares (``data-feed``, see
:data:`execblog.engine.model.FEED_ROLES`), never by the classes of the package that made it.

- ``drop``: page only (a parameter grid's controls, a figure's dark rendering, a diagram's
  inline SVG themed by the page's CSS): removed.
- ``feed-only``: hidden on the page, shown in feeds (a diagram's standalone image with fixed
  colours): un-hidden and loaded eagerly.
- ``static``: interactive on the page; feeds keep it without its ``data-*`` state.

The ``data-feed`` attributes themselves are removed: feed readers never see them.
"""

from __future__ import annotations

from execblog.engine.model import FEED_ATTRIBUTE, FEED_DROP, FEED_ONLY, FEED_STATIC

from .markup import HtmlElement, elements


def apply_feed_roles(root: HtmlElement) -> None:
    """Act on every ``data-feed`` role below root, and remove the attribute."""
    for element in elements(root):
        role = element.attrib.pop(FEED_ATTRIBUTE, None)
        if role == FEED_DROP:
            element.drop_tree()
        elif role == FEED_ONLY:
            element.attrib.pop("hidden", None)
            if element.get("loading") == "lazy":
                del element.attrib["loading"]
        elif role == FEED_STATIC:
            for name in [n for n in element.attrib if n.startswith("data-")]:
                del element.attrib[name]
