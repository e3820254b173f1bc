"""Pandoc's attributes on code blocks that Python-Markdown cannot take.

```` ``` {.html style="font-size: 0.9em;"} ```` is common in Quarto documents; with
codehilite on, fenced_code hands every attribute to ``CodeHilite(src, lang=..., style=...,
**attributes)``, so ``style``, ``lang`` or ``src`` raise a TypeError and the whole page is
lost. Those attributes are renamed ``data-style``... in the openers fenced_code reads (the
same pattern, the same scan: code inside a block is never touched), just before it runs.
"""

from __future__ import annotations

import re

from markdown.extensions.fenced_code import FencedBlockPreprocessor
from markdown.preprocessors import Preprocessor

CLASHING = re.compile(r"(^|\s)(style|lang|src)=")


class CodeAttributes(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        text = "\n".join(lines)
        if "style=" not in text and "lang=" not in text and "src=" not in text:
            return lines
        pieces, index = [], 0
        while True:
            match = FencedBlockPreprocessor.FENCED_BLOCK_RE.search(text, index)
            if match is None:
                break
            attrs = match.group("attrs")
            if attrs and CLASHING.search(attrs):
                pieces += [text[index:match.start("attrs")], CLASHING.sub(r"\1data-\2=", attrs),
                           text[match.end("attrs"):match.end()]]
            else:
                pieces.append(text[index:match.end()])
            index = match.end()
        pieces.append(text[index:])
        return "".join(pieces).split("\n")
