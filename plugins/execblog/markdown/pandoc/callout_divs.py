"""Quarto's callouts: ``::: {.callout-note}`` (tip, warning, important, caution).

They render as ``execblog.markdown.callouts`` renders GitHub's ``> [!NOTE]`` (its
:func:`~execblog.markdown.callouts.callout_box`, one markup and one style for every syntax). The
title is ``title="..."``, else a first heading in the div, else the kind's name. The div's
id stays (``#tip-x``: ``execblog.markdown.xrefs`` numbers it "Tip 1").
"""

from __future__ import annotations

import xml.etree.ElementTree as etree

from execblog.markdown.callouts import KINDS, bold_title, callout_box

from .attributes import Attributes
from .theorems import HEADINGS


def kind_of(attributes: Attributes) -> str | None:
    for css in attributes.classes:
        if css.startswith("callout-") and css[len("callout-"):] in KINDS:
            return css[len("callout-"):]
    return None


def render(parent: etree.Element, div: etree.Element, attributes: Attributes,
           kind: str) -> etree.Element:
    """Replace ``div`` (a child of ``parent``) with the callout; return the callout."""
    children = list(div)
    title = attributes.values.get("title", "")
    box = callout_box(parent, kind, title or kind.capitalize(), list(parent).index(div))
    parent.remove(div)
    heading = children[0] if children and children[0].tag in HEADINGS else None
    if heading is not None and not title:
        children.pop(0)
        if (heading.text or "").strip() or len(heading):  # an empty "##": the kind's name
            shown = box.find("p")
            shown.text = heading.text
            shown.extend(list(heading))
    if attributes.id:
        box.set("id", attributes.id)
    box.extend(children)
    bold_title(box.find("p"))
    return box
