"""Pandoc's fenced-div fences: ``::: {#id .class key=value}`` openers and ``:::`` closers.

The attribute list is read by Python-Markdown's own attr_list scanner (the ``{...}`` syntax
it shares with Pandoc); ``::: Warning`` (a bare word) is the class ``Warning``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown.extensions.attr_list import get_attrs_and_remainder

# An opener: three or more colons, then attributes (braced, or one word), then optional
# colons. A closer: colons only. Pandoc allows up to three spaces before either.
OPENER = re.compile(r"^ {0,3}(?P<colons>:{3,})[ \t]*(?:\{(?P<attrs>[^{}]*)\}"
                    r"|(?P<word>[^\s{}:][^\s{}]*))[ \t]*:*[ \t]*$")
CLOSER = re.compile(r"^ {0,3}:{3,}[ \t]*$")
# Either, anywhere in a line's indentation (inside list items): used to set them apart.
ANY_FENCE = re.compile(r"^\s*:{3,}(?:[ \t]*(?:\{[^{}]*\}|[^\s{}:][^\s{}]*))?[ \t]*:*[ \t]*$")


@dataclass
class Attributes:
    """A div's attributes: its id, its classes and its other ``key=value`` pairs."""

    id: str = ""
    classes: list[str] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return name in self.classes


def parse_opener(line: str) -> Attributes | None:
    """The attributes of a div opener line, or None when the line opens no div."""
    match = OPENER.match(line)
    if match is None:
        return None
    if match["word"] is not None:
        return Attributes(classes=[match["word"]])
    found = Attributes()
    pairs, _rest = get_attrs_and_remainder(match["attrs"])
    for key, value in pairs:
        if key == "id":
            found.id = value or ""
        elif key == ".":
            found.classes.append(value or "")
        else:
            found.values[key] = "" if value is None else value
    return found


def is_closer(line: str) -> bool:
    return CLOSER.match(line) is not None
