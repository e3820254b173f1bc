"""Fences no kind runs, as Python-Markdown's ``fenced_code`` should read them.

``fenced_code`` reads fewer openers than CommonMark: with one it cannot read (Quarto's
```` ```{{python}} ````, ```` ```python title="x.py" ````, markdown-exec's
```` ```tree icons="none" ````) the fence lines stay prose and the next fences pair up
wrongly. :func:`plain_fence` gives it lines it reads instead: Quarto's "show, don't run"
fence as written, Pandoc's ```` ```{=html} ```` raw block as HTML, any other opener as a
plain code block of its language (a ``title`` kept over it), with a warning for what is
dropped. :func:`literate_fence` turns markdown-exec's ```` ```md exec="1" ```` into Markdown
of the post, its source shown where ``source`` asks.

Both work on top-level fences (a fence in a blockquote or list item is never read by
``fenced_code``); ``stash`` stores HTML in the Markdown converter's stash and returns its
placeholder, ``warn(message)`` reports at the opener's line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import escape

from markdown.extensions.attr_list import get_attrs_and_remainder
from markdown.extensions.fenced_code import FencedBlockPreprocessor

from execblog.sources import mdexec

# Quarto's ```{{python}}: the fence is shown as written, with one pair of braces less.
VERBATIM = re.compile(r"^\{(?P<inner>\{[A-Za-z][^{}]*\})\}\s*$")
# Pandoc's raw blocks: ```{=html} goes into the page as it is; other formats are dropped.
RAW = re.compile(r"^\{=(?P<format>[\w-]+)\}\s*$")

Stash = Callable[[str], str]


def readable(opener: str) -> bool:
    """Whether Python-Markdown's ``fenced_code`` reads this opener line (its own pattern;
    an attribute list must be whole)."""
    fence = re.match(r"[`~]+", opener)
    if fence is None:
        return False
    match = FencedBlockPreprocessor.FENCED_BLOCK_RE.match(f"{opener}\n\n{fence[0]}")
    if match is None:
        return False
    return not (match["attrs"] and get_attrs_and_remainder(match["attrs"])[1])


def _longest_run(lines: list[str], char: str) -> int:
    """The longest run of ``char`` that starts a line."""
    return max((len(m[0]) for m in (re.match(rf"\s*{re.escape(char)}+", t) for t in lines)
                if m), default=0)


def _given(words: list[str]) -> dict[str, str]:
    return dict(w.partition("=")[::2] for w in words[1:])


def _title(title: str | None, stash: Stash) -> list[str]:
    return ["", stash(f'<p class="fence-title">{escape(title)}</p>'), ""] if title else []


def plain_fence(fence: str, info: str, lines: list[str], stash: Stash,
                warn: Callable[[str], None]) -> list[str]:
    """The lines ``fenced_code`` is given for a closed top-level fence no kind runs:
    ``lines`` (opener to closer) as they are when it reads them."""
    info = info.strip()
    raw = RAW.match(info)
    if raw:  # Pandoc's raw block: HTML as it is, other formats not in an HTML page
        shown = "\n".join(lines[1:-1]) if raw["format"] == "html" else ""
        return ["", stash(shown), ""] if shown else []
    if readable(lines[0]):
        return lines
    verbatim = VERBATIM.match(info)
    if verbatim:  # Quarto's ```{{python}}: the fence as written, never run
        longer = fence[0] * max(len(fence) + 1, _longest_run(lines, fence[0]) + 1)
        return [longer + "markdown", fence + verbatim["inner"], *lines[1:], longer]
    words = mdexec.words(info)
    language = re.sub(r"[^\w#.+-]", "", words[0].lstrip("{.")) if words else ""
    given = _given(words)
    title = given.pop("title", "")
    runs = mdexec.is_opener(words) and mdexec.truthy(given.pop("exec", "1"))
    if runs or words[:1] in (["tree"], ["pyodide"]):  # markdown-exec runs these anyway
        hint = mdexec.OTHER_LANGUAGES.get(words[0], "no installed kind runs it: show it as code")
        warn(f"markdown-exec fence ```{info} is not run here (shown as a ```{language} code "
             f"block): {hint}")
    elif given and not mdexec.is_opener(words):
        warn(f"the code block opener ```{info} is not one Python-Markdown reads: shown as a "
             f"```{language} code block; ignored: {' '.join(words[1:])}")
    return [*_title(title, stash), fence + language, *lines[1:]]


def literate_fence(fence: str, info: str, lines: list[str], stash: Stash
                   ) -> tuple[list[str], list[str]] | None:
    """markdown-exec's ```` ```md exec="1" ````: its body is Markdown of the post (its
    fences run), shown as ``source`` asks: above or below it, in a block, or in two
    labelled panes. The lines that go before the body and those that replace its closing
    line; None for another fence."""
    words = mdexec.words(info)
    if not mdexec.is_opener(words) or words[0] not in ("md", "markdown"):
        return None
    given = _given(words)
    if not mdexec.truthy(given.get("exec", "1")):
        return None
    source = [*_title(given.get("title"), stash), fence + "md", *lines[1:-1], fence, ""]
    place = given.get("source", "")
    if place in ("above", "console"):
        return ["", *source], [""]
    if place == "below":
        return [""], ["", *source]
    if place in ("block", "material-block"):
        return (["", *source, stash('<div class="fence-result-block">'), ""],
                ["", stash("</div>"), ""])
    if place in ("tabbed-left", "tabbed-right"):
        titles = mdexec.tab_titles(given.get("tabs", ""))
        tab = mdexec.tab_start
        end = ["", stash(mdexec.TABS_END), ""]
        if place == "tabbed-left":
            return (["", stash(tab(titles[0], True)), "", *source,
                     stash(tab(titles[1], False)), ""], end)
        return (["", stash(tab(titles[1], True)), ""],
                ["", stash(tab(titles[0], False)), "", *source, *end])
    return [""], [""]
