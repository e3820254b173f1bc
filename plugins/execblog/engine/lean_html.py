"""Highlighted code with fewer elements and the same colours.

Pygments' ``HtmlFormatter`` writes a ``<span>`` per token, blanks included (``<span
class="w"> </span>``: a colour on spaces, which show none), and for tokens that look like
plain text anyway (names, punctuation). :class:`LeanHtmlFormatter` formats
:func:`lean_tokens` instead: those become plain text, and tokens of one type separated only
by blanks on a line become one (``<span class="k">not in</span>``). Both are judged by the
theme's styles (:data:`THEME_STYLES`, the light and dark styles of
``theme/make_pygments_css.py``): a token is plain when every style gives it the look of plain
text, and a blank keeps its span where a style draws on it (a background, a border, an
underline).

It is the formatter of the fence engine's highlighting and, through codehilite's
``pygments_formatter`` option, of plain Markdown code blocks wherever a blog uses Execblog's
theme (``execblog.standalone.defaults``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from typing import IO

from pygments.formatters import HtmlFormatter
from pygments.styles import get_style_by_name
from pygments.token import Text, _TokenType

#: The theme's light and dark Pygments styles (pygments.css is made from them).
THEME_STYLES = ("default", "github-dark")

Token = tuple[_TokenType, str]


@functools.cache
def draws_on_blanks(ttype: _TokenType, styles: tuple[str, ...] = THEME_STYLES) -> bool:
    """Whether any of ``styles`` paints something a blank shows: a background, a border
    or an underline."""
    for name in styles:
        look = _style_for(name, ttype)
        if look["bgcolor"] or look["border"] or look["underline"]:
            return True
    return False


@functools.cache
def looks_plain(ttype: _TokenType, styles: tuple[str, ...] = THEME_STYLES) -> bool:
    """Whether every one of ``styles`` shows ``ttype`` exactly as plain text."""
    return all(_style_for(name, ttype) == _style_for(name, Text) for name in styles)


def _style_for(name: str, ttype: _TokenType) -> dict:
    """Style ``name``'s look of ``ttype``, or of its nearest parent the style knows (a
    lexer's own token types, such as YAML's Literal.Scalar.Plain, are not in it)."""
    style = get_style_by_name(name)
    while not style.styles_token(ttype) and ttype.parent is not None:
        ttype = ttype.parent
    return style.style_for_token(ttype)


def lean_tokens(tokens: Iterable[Token]) -> Iterator[Token]:
    """``tokens`` with blank ones as plain text and same-type runs on a line joined."""
    held: Token | None = None  # the last token with text, not yet given out
    blank = ""  # the blanks after it
    for ttype, value in tokens:
        if looks_plain(ttype):
            ttype = Text
        if value.isspace() and not draws_on_blanks(ttype):
            if held is None:
                yield Text, value
            else:
                blank += value
            continue
        if held is not None:
            if ttype == held[0] and "\n" not in blank and not draws_on_blanks(ttype):
                held = (ttype, held[1] + blank + value)
                blank = ""
                continue
            yield held
            if blank:
                yield Text, blank
        held, blank = (ttype, value), ""
    if held is not None:
        yield held
    if blank:
        yield Text, blank


class LeanHtmlFormatter(HtmlFormatter):
    """``HtmlFormatter`` over :func:`lean_tokens`: the same text and colours, fewer spans."""

    name = "Lean HTML"
    aliases: list[str] = []

    def format_unencoded(self, tokensource: Iterable[Token], outfile: IO[str]) -> None:
        super().format_unencoded(lean_tokens(tokensource), outfile)
