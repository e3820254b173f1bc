"""A citeproc-py output formatter that escapes every piece of text exactly once.

citeproc-py's own HTML formatter escapes the style's terms but not the reference's fields,
so a title with ``&`` or ``<`` comes out as raw HTML. Here formatting marks are private-use
characters while citeproc works; :func:`to_html` escapes the whole string and only then
turns the marks into tags.
"""

from __future__ import annotations

from html import escape

from .texmath import restore_html, restore_text

_TAGS = {
    "i": ("\ue000", "\ue001"),
    "b": ("\ue002", "\ue003"),
    "u": ("\ue004", "\ue005"),
    "sup": ("\ue006", "\ue007"),
    "sub": ("\ue008", "\ue009"),
    "small-caps": ("\ue00a", "\ue00b"),
    "light": ("\ue00c", "\ue00d"),
}
_HTML = {
    "i": ("<i>", "</i>"),
    "b": ("<b>", "</b>"),
    "u": ("<u>", "</u>"),
    "sup": ("<sup>", "</sup>"),
    "sub": ("<sub>", "</sub>"),
    "small-caps": ('<span style="font-variant:small-caps">', "</span>"),
    "light": ('<span style="font-weight:lighter">', "</span>"),
}


def preformat(text: object) -> str:
    return str(text)


class _Mark(str):
    name = ""

    def __new__(cls, text: object):
        start, end = _TAGS[cls.name]
        return super().__new__(cls, f"{start}{text}{end}")


class Italic(_Mark):
    name = "i"


class Oblique(Italic):
    pass


class Bold(_Mark):
    name = "b"


class Light(_Mark):
    name = "light"


class Underline(_Mark):
    name = "u"


class Superscript(_Mark):
    name = "sup"


class Subscript(_Mark):
    name = "sub"


class SmallCaps(_Mark):
    name = "small-caps"


def to_html(text: object, math_class: str = "math") -> str:
    """citeproc's output (made with this module as its formatter) as escaped HTML, its
    formulas as render-math's elements of class ``math_class`` (see ``texmath``)."""
    html = escape(str(text), quote=False)
    for name, (start, end) in _TAGS.items():
        html = html.replace(start, _HTML[name][0]).replace(end, _HTML[name][1])
    return restore_html(html, math_class)


def to_text(text: object) -> str:
    """citeproc's output as plain text (the marks dropped, formulas as ``$tex$``)."""
    plain = str(text)
    for start, end in _TAGS.values():
        plain = plain.replace(start, "").replace(end, "")
    return restore_text(plain)
