"""Numbered blocks besides figures, tables and equations: Quarto's theorem-like divs
(``thm-``, ``lem-``...: "Theorem 1", each kind counted by itself) and callouts with a label
(``nte-``, ``tip-``, ``wrn-``, ``imp-``, ``cau-``: "Note 1"), as ``execblog.markdown.pandoc`` makes
them. Sub-figures of a figure are lettered here too (:func:`letter_subfigures`)."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, NavigableString, Tag

from execblog.kernel.numbering import subfigure_letter

THEOREMS = {"thm": "Theorem", "lem": "Lemma", "cor": "Corollary", "prp": "Proposition",
            "cnj": "Conjecture", "def": "Definition", "exm": "Example", "exr": "Exercise",
            "sol": "Solution", "rem": "Remark", "alg": "Algorithm"}
CALLOUTS = {"nte": "Note", "tip": "Tip", "wrn": "Warning", "imp": "Important",
            "cau": "Caution"}
KINDS = {**THEOREMS, **CALLOUTS}
_LETTERED = re.compile(r"^\s*\(([a-z]+)\)")


def _classes(tag: Tag) -> list[str]:
    value = tag.get("class") or []
    return value.split() if isinstance(value, str) else list(value)


def number_block(element: Tag, prefix: str, count: int) -> bool:
    """Write number ``count`` into a theorem's or callout's title; False when ``element``
    is not such a block (the label is then not numbered)."""
    name = KINDS[prefix]
    if prefix in THEOREMS:
        kind = element.select_one(".theorem-title .theorem-kind")
        if "theorem" not in _classes(element) or kind is None:
            return False
        kind.string = f"{kind.get_text()} {count}"
        return True
    title = element.find("p", class_="admonition-title")
    if "admonition" not in _classes(element) or title is None:
        return False
    holder = title.find("strong") or title
    text = holder.get_text().strip()
    if text == name:
        holder.string = f"{name} {count}"
    else:
        holder.insert(0, f"{name} {count}: ")
    return True


def letter_subfigures(soup: BeautifulSoup, subfigures: list[Tag]) -> list[str]:
    """Caption each sub-figure "(a) ...", "(b) ..." (a caption already lettered stays):
    return the letters."""
    letters = []
    for index, figure in enumerate(subfigures):
        letter = subfigure_letter(index)
        letters.append(letter)
        caption = next(iter(figure.find_all("figcaption", recursive=False)), None)
        if caption is None:
            caption = soup.new_tag("figcaption")
            figure.append(caption)
        if not _LETTERED.match(caption.get_text()):
            if caption.get_text().strip():
                caption.insert(0, NavigableString(" "))
            caption.insert(0, NavigableString(f"({letter})"))
    return letters

