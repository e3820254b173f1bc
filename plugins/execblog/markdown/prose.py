"""The prose text of an HTML string, and edits to it (citations, captions' math).

Pure logic, no Pelican: :func:`text_runs` yields the runs of prose text of an HTML string
with their offsets (never text inside code, pre, math, links, scripts or SVG, nor in
citations already made), and :func:`apply` replaces spans of the string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
         "param", "source", "track", "wbr"}
_SKIP_TAGS = {"a", "code", "pre", "kbd", "samp", "var", "script", "style", "textarea",
              "math", "svg", "template", "title", "head", "button", "select"}
_SKIP_CLASSES = {"math", "citation", "citations", "references", "highlight", "codehilite"}


@dataclass
class Run:
    """A run of text between tags: ``html[start:end]`` is its source, ``text`` its value."""

    start: int
    end: int
    text: str


@dataclass
class _Event:
    start: int
    text: str | None = None  # data events only
    skip: bool = False


class _Scanner(HTMLParser):
    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        # HTMLParser counts lines by "\n" alone (str.splitlines would also split at \x0c...)
        self.lines = [0] + [m.end() for m in re.finditer("\n", html)]
        self.events: list[_Event] = []
        self.stack: list[tuple[str, bool]] = []

    def _at(self) -> int:
        line, col = self.getpos()
        return self.lines[line - 1] + col

    def _skipping(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag, attrs):  # noqa: ANN001 - HTMLParser's signature
        self.events.append(_Event(self._at()))
        if tag in _VOID:
            return
        classes = set(" ".join(v or "" for k, v in attrs if k == "class").split())
        skip = self._skipping() or tag in _SKIP_TAGS or bool(classes & _SKIP_CLASSES)
        self.stack.append((tag, skip))

    def handle_startendtag(self, tag, attrs):  # noqa: ANN001
        self.events.append(_Event(self._at()))

    def handle_endtag(self, tag):  # noqa: ANN001
        self.events.append(_Event(self._at()))
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                break

    def handle_data(self, data):  # noqa: ANN001
        self.events.append(_Event(self._at(), data, self._skipping()))

    def _mark(self, *_args) -> None:  # noqa: ANN002
        self.events.append(_Event(self._at()))

    handle_comment = handle_decl = handle_pi = unknown_decl = _mark


def text_runs(html: str) -> list[Run]:
    """The prose text runs of ``html`` (each checked against its source)."""
    scanner = _Scanner(html)
    scanner.feed(html)
    scanner.close()
    events = scanner.events
    runs: list[Run] = []
    for index, event in enumerate(events):
        if event.text is None or event.skip:
            continue
        end = events[index + 1].start if index + 1 < len(events) else len(html)
        if unescape(html[event.start:end]) != event.text:
            continue  # never edit what we could not place exactly
        if runs and runs[-1].end == event.start:
            last = runs[-1]
            runs[-1] = Run(last.start, end, last.text + event.text)
        else:
            runs.append(Run(event.start, end, event.text))
    return runs


@dataclass
class Edit:
    """Replace ``html[start:end]`` with ``html``."""

    start: int
    end: int
    html: str = field(default="")


def apply(html: str, edits: list[Edit]) -> str:
    out, at = [], 0
    for edit in sorted(edits, key=lambda e: e.start):
        out.append(html[at:edit.start])
        out.append(edit.html)
        at = edit.end
    out.append(html[at:])
    return "".join(out)
