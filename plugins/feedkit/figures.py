"""Figures in feeds: a diagram drawn inline for the page is shown by its standalone image.

The engine renders a diagram fence as ``<figure class="diagram">`` holding the inline SVG
(themed by the page's CSS) and a hidden ``<img class="diagram-feed">`` pointing at a
standalone SVG with fixed colours. Feed readers have no page CSS, so feeds get the image.
"""

from __future__ import annotations

from bs4 import BeautifulSoup


def prefer_feed_images(soup: BeautifulSoup) -> None:
    for figure in soup.select("figure.diagram"):
        image = figure.select_one("img.diagram-feed")
        if image is None:
            continue  # raw SVG pasted by the author: keep it inline
        for svg in figure.find_all("svg", recursive=False):
            svg.decompose()
        del image["hidden"]
        if image.get("loading") == "lazy":
            del image["loading"]
