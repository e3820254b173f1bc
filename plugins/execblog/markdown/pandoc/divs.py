"""Pandoc's fenced divs: the block processor that makes ``<div>`` elements of them.

``::: {#id .class key=value}`` ... ``:::`` becomes a ``<div>`` holding the Markdown between
the fences; more colons (or none: only the order counts, as in Pandoc) nest divs. A
preprocessor first sets every fence line apart with blank lines, once the code blocks are
stashed (below fenced_code's priority), so each fence is a block of its own wherever it was
written. What a div becomes (a callout, a figure, a theorem, a layout grid) is decided by
the tree processors of this package, once its inline Markdown is rendered: the block
processor records each div with its attributes on the Markdown instance (:func:`made`).
"""

from __future__ import annotations

import xml.etree.ElementTree as etree

from markdown import Markdown
from markdown.blockprocessors import BlockProcessor
from markdown.preprocessors import Preprocessor

from .attributes import ANY_FENCE, Attributes, is_closer, parse_opener

STATE = "pandoc_divs"  # attribute of the Markdown instance: [(element, attributes)]


def made(md: Markdown) -> list[tuple[etree.Element, Attributes]]:
    """The divs made in this conversion, outer ones before the divs they hold."""
    if not hasattr(md, STATE):
        setattr(md, STATE, [])
    return getattr(md, STATE)


class SetApart(Preprocessor):
    """A blank line before and after every ``:::`` line outside code, at the top level: in
    a list item (indented) the div's lines stay one block, which the item parses whole."""

    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        for index, line in enumerate(lines):
            if not ANY_FENCE.match(line) or line.startswith("    "):
                out.append(line)
                continue
            if out and out[-1].strip():
                out.append("")
            out.append(line)
            if index + 1 < len(lines) and lines[index + 1].strip():
                out.append("")
        return out


class FencedDivProcessor(BlockProcessor):
    """A block that is a div opener takes the blocks up to its closer as its content."""

    def test(self, parent: etree.Element, block: str) -> bool:
        return parse_opener(block.split("\n", 1)[0]) is not None

    def run(self, parent: etree.Element, blocks: list[str]) -> None:
        first, _, rest = blocks.pop(0).partition("\n")
        if rest.strip():
            blocks.insert(0, rest)
        attributes = parse_opener(first)
        inner: list[str] = []
        depth = 1
        while blocks and depth:
            lines = blocks.pop(0).split("\n")
            for index, line in enumerate(lines):
                if is_closer(line):
                    depth -= 1
                elif parse_opener(line) is not None:
                    depth += 1
                if depth == 0:
                    inner.append("\n".join(lines[:index]))
                    after = "\n".join(lines[index + 1:])
                    if after.strip():
                        blocks.insert(0, after)
                    break
            else:
                inner.append("\n".join(lines))
        # (an unclosed div runs to the end of its container; the source check says so)
        div = etree.SubElement(parent, "div")
        if attributes.id:
            div.set("id", attributes.id)
        if attributes.classes:
            div.set("class", " ".join(attributes.classes))
        made(self.parser.md).append((div, attributes))
        self.parser.parseChunk(div, "\n\n".join(b for b in inner if b.strip()))


def stray_closer(block: str) -> bool:
    return all(is_closer(line) for line in block.split("\n") if line.strip())


class StrayCloserProcessor(BlockProcessor):
    """A closer without its div (the source check warned): dropped, never shown as text."""

    def test(self, parent: etree.Element, block: str) -> bool:
        return bool(block.strip()) and stray_closer(block)

    def run(self, parent: etree.Element, blocks: list[str]) -> None:
        blocks.pop(0)
