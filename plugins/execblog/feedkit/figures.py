"""Figures in feeds: a diagram drawn inline for the page is shown by its standalone image.

The engine renders a diagram fence as ``<figure class="diagram">`` holding the inline SVG
(themed by the page's CSS) and a hidden ``<img class="diagram-feed">`` pointing at a
standalone SVG with fixed colours. Feed readers have no page CSS, so feeds get the image.

A matplotlib figure with a dark rendering holds two linked images, ``a.fig-light`` and
``a.fig-dark``, one shown by the page's CSS; feeds keep the light one only (a reader without
the page's CSS would show both).
"""

from __future__ import annotations

from .markup import HtmlElement


def _has_class(element: HtmlElement, name: str) -> bool:
    return name in (element.get("class") or "").split()


def prefer_feed_images(root: HtmlElement) -> None:
    for figure in list(root.iter("figure")):
        if _has_class(figure, "fence-figure") or _has_class(figure, "fence-subfigure"):
            _light_only(figure)
        if not _has_class(figure, "diagram"):
            continue
        image = next((i for i in figure.iter("img") if _has_class(i, "diagram-feed")), None)
        if image is None:
            continue  # raw SVG pasted by the author: keep it inline
        for box in figure.findall("div"):  # the page's scroll box around the inline SVG
            if _has_class(box, "diagram-scroll"):
                box.drop_tree()
        for svg in figure.findall("svg"):
            svg.drop_tree()
        image.attrib.pop("hidden", None)
        if image.get("loading") == "lazy":
            del image.attrib["loading"]


def _light_only(figure: HtmlElement) -> None:
    """Drop a fence figure's dark rendering (the subfigures' too)."""
    for link in [a for a in figure.iter("a") if _has_class(a, "fig-dark")]:
        link.drop_tree()
