"""Diagram fences through the whole pipeline: page, feed, cache, errors, raw SVG."""

from __future__ import annotations

import re

import feedparser
from bs4 import BeautifulSoup
from lxml import etree

DIAGRAM = """
    Title: Diagrams
    Date: 2026-06-01
    Tags: memory

    How a pointer looks.

    ```diagram caption="Stack and heap"
    {
      "direction": "right",
      "items": [
        {"id": "stack", "type": "cells", "label": "stack", "orient": "vertical",
         "cells": ["ret addr", "n = 3", {"id": "p", "text": "p"}]},
        {"id": "node", "type": "box", "text": "a < b & c"},
        {"id": "note", "type": "text", "text": "heap"}
      ],
      "arrows": [{"from": "stack.p", "to": "node", "label": "points to"}]
    }
    ```

    {raw}
    """.replace("{raw}", '<figure class="diagram"><svg xmlns="http://www.w3.org/2000/svg" '
                'viewBox="0 0 10 10"><rect id="pasted" width="10" height="10"/></svg>'
                "<figcaption>Pasted</figcaption></figure>")

BROKEN = """
    Title: Broken
    Date: 2026-06-02

    ```diagram
    {"items": [{"type": "circle"}]}
    ```

    ```diagram
    {"items": [
      {"type": "box", "text": "x",}
    ]}
    ```

    ```diagram
    {"items": [{"id": "a", "type": "box", "text": "A"}], "arrows": [{"from": "a", "to": "ghost"}]}
    ```
    """

SITE = "https://blog.example.org"


def test_diagram_inline_in_page_image_in_feed_and_deterministic(site):
    first = site({"posts/diagrams.md": DIAGRAM}, conf="publishconf.py",
                 settings={"SITEURL": SITE})
    assert first.returncode == 0, first.log
    page = first.post("diagrams")
    figure = page.select_one("figure.diagram")
    svg = figure.find("svg")
    assert svg["role"] == "img" and svg["aria-label"] == "Stack and heap"
    assert figure.figcaption.text == "Stack and heap"
    assert "a &lt; b &amp; c" in str(svg)
    etree.fromstring(str(svg).encode())  # well-formed XML
    assert len(svg.find_all("path")) > 5  # hand-drawn strokes
    feed_img = figure.select_one("img.diagram-feed")
    assert feed_img.has_attr("hidden")
    standalone = first.output / feed_img["src"].replace(SITE + "/", "")
    assert b"<svg" in standalone.read_bytes()

    raw = page.select("figure.diagram")[1]
    assert raw.select_one("rect#pasted") is not None and raw.figcaption.text == "Pasted"

    feed = feedparser.parse(first.read("feeds/tags/memory.atom.xml"),
                            sanitize_html=False, resolve_relative_uris=False)
    assert not feed.bozo
    content = BeautifulSoup(feed.entries[0].content[0].value, "html.parser")
    img = content.select_one("figure.diagram img.diagram-feed")
    assert img["src"].startswith(SITE + "/fences/") and not img.has_attr("hidden")
    assert content.select_one("figure.diagram svg[role=img]") is None  # swapped for the image
    assert content.select_one(".diagram-scroll") is None

    html1 = first.read("posts/diagrams/index.html")
    again = site(conf="publishconf.py", settings={"SITEURL": SITE, "FENCES_MODE": "rerun"})
    assert again.statuses() == ["ran"]
    assert again.read("posts/diagrams/index.html") == html1  # same input, same bytes


def test_diagram_errors_are_located(site):
    build = site({"posts/broken.md": BROKEN})
    assert build.returncode == 0
    log = re.sub(r"\s+", " ", build.log)
    assert ("posts/broken.md:5: error: diagram: items[0].type: unknown type 'circle' "
            "(allowed: box, cells, text, group)") in log
    assert re.search(r"posts/broken\.md:10: error: diagram: invalid JSON.*column \d+", log)
    assert re.search(r"posts/broken\.md:\d+: error: diagram: arrows\[0\]\.to: .*ghost", log)
    assert build.statuses() == ["failed", "failed", "failed"]
    errors = build.post("broken").select("div.fence-error")
    assert len(errors) == 3

    strict = site(settings={"FENCES_STRICT": True})
    assert strict.returncode != 0
