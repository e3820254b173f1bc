"""Quarto's theorem-like divs and proofs, as math bloggers write them.

    ::: {#thm-line}
    ## Line
    The equation of any straight line ...
    :::

becomes ``<div id="thm-line" class="theorem thm">`` whose first paragraph starts with
``<span class="theorem-title"><strong><span class="theorem-kind">Theorem</span> (Line)
</strong></span>``; ``execblog.markdown.xrefs`` numbers it per kind ("Theorem 1") and links
``@thm-line``. The name comes from a first heading or ``name="..."``. ``::: {.proof}`` (and
``.remark``, ``.solution``, or an id ``#prf-...``) is unnumbered, its title in italics, and
ends with "∎".
"""

from __future__ import annotations

import xml.etree.ElementTree as etree

from .attributes import Attributes

# Quarto's prefixes and printed names (numbered, each kind counted by itself).
KINDS = {"thm": "Theorem", "lem": "Lemma", "cor": "Corollary", "prp": "Proposition",
         "cnj": "Conjecture", "def": "Definition", "exm": "Example", "exr": "Exercise",
         "sol": "Solution", "rem": "Remark", "alg": "Algorithm"}
# Unnumbered: by class, or an id with Pandoc-style prefix ``prf-``.
UNNUMBERED = {"proof": "Proof", "remark": "Remark", "solution": "Solution"}
END_MARK = "\u220e"
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


def kind_of(attributes: Attributes) -> tuple[str, bool] | None:
    """(printed name, numbered) of a theorem-like div, or None."""
    prefix = attributes.id.split("-", 1)[0] if "-" in attributes.id else ""
    if prefix in KINDS:
        return KINDS[prefix], True
    if prefix == "prf":
        return "Proof", False
    for css in attributes.classes:
        if css in UNNUMBERED:
            return UNNUMBERED[css], False
    return None


def _take_name(div: etree.Element, attributes: Attributes) -> etree.Element | None:
    """The name as an element holding its (rendered) inline content, taken out of ``div``."""
    children = list(div)
    if children and children[0].tag in HEADINGS:
        heading = children[0]
        div.remove(heading)
        holder = etree.Element("span")
        holder.text = heading.text
        holder.extend(list(heading))
        return holder
    if attributes.values.get("name"):
        holder = etree.Element("span")
        holder.text = attributes.values["name"]
        return holder
    return None


def render(div: etree.Element, attributes: Attributes, name: str, numbered: bool) -> None:
    """Give the div its class and a title at the start of its first paragraph."""
    prefix = attributes.id.split("-", 1)[0] if numbered else "proof"
    div.set("class", " ".join(dict.fromkeys(
        ["theorem" if numbered else "proof", prefix, *attributes.classes])))
    label = _take_name(div, attributes)
    title = etree.Element("span", {"class": "theorem-title" if numbered else "proof-title"})
    # "**Theorem 1 (Name)**" (xrefs adds the number to the kind); "*Proof (Name)*."
    emphasis = etree.SubElement(title, "strong" if numbered else "em")
    kind = etree.SubElement(emphasis, "span", {"class": "theorem-kind"}) if numbered \
        else emphasis
    kind.text = name
    if label is not None:
        named = etree.SubElement(emphasis, "span", {"class": "theorem-name"})
        named.text = f" ({label.text or ''}"
        named.extend(list(label))
        if len(named):
            named[-1].tail = (named[-1].tail or "") + ")"
        else:
            named.text += ")"
    title.tail = " " if numbered else ". "
    children = list(div)
    first = children[0] if children else None
    if first is not None and first.tag == "p":
        title.tail += first.text or ""
        first.text = None
        first.insert(0, title)
    else:
        paragraph = etree.Element("p")
        paragraph.append(title)
        div.insert(0, paragraph)
    if not numbered:
        _end_mark(div)


def _end_mark(div: etree.Element) -> None:
    children = list(div)
    last = children[-1] if children else None
    mark = etree.Element("span", {"class": "proof-end", "aria-hidden": "true"})
    mark.text = END_MARK
    if last is not None and last.tag == "p":
        if len(last):
            last[-1].tail = (last[-1].tail or "").rstrip() + " "
        else:
            last.text = (last.text or "").rstrip() + " "
        last.append(mark)
    else:
        paragraph = etree.SubElement(div, "p", {"class": "proof-end-line"})
        paragraph.append(mark)
