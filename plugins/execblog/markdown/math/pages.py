"""Replace the TeX of one post's HTML with MathML, and number its ``\\label``/``\\tag`` equations.

pelican-render-math leaves ``<span class="math">\\(tex\\)</span>`` and ``<div class="math">$$tex
$$</div>`` (text only, HTML-escaped). Each is found with a regular expression and only its
inside is replaced, so the rest of the post stays byte for byte (xrefs and the fence engine
have already written it). The wrapper stays: templates look for ``class="math"`` to link
the math stylesheet, and feedkit leaves a wrapper that already holds MathML alone.
Punctuation written against inline math (``$x$.``, ``($x$)``) goes with it into a
``<span class="math-nowrap">``, so a full stop never starts the next line.

Numbering: a display equation with ``\\tag{T}`` shows "(T)"; one with only ``\\label{x}`` gets
the next number after the post's ``{#eq-x}`` equations (xrefs). Either is laid out as xrefs
lays out its equations: ``<div class="xref-equation" id="x">`` holding the ``div.math`` and
``<span class="eq-number">(T)</span>``. ``\\eqref{x}`` is "(T)", ``\\ref{x}`` "T": a formula
that is only a reference becomes a link, ``<a class="xref" href="#x">``; inside a larger
formula the number is an ``mtext``. References may also name xrefs' ``eq-`` labels.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from .converter import REF_ATTRIBUTE, Converted, MathConverter, split_delimiters
from .font import glyph_text

_XREF_EQUATION = re.compile(r'<div class="xref-equation" id="(eq-[^"]+)">')
_EQ_NUMBER = re.compile(r'<span class="eq-number">\(([^<]*)\)</span>')
_REF_MTEXT = re.compile(rf'<mtext {REF_ATTRIBUTE}="(eqref|ref):([^"]*)">[^<]*</mtext>')
_ONLY_REF = re.compile(r"^\s*\\(eqref|ref)\s*\{([^{}]*)\}\s*$")
# Punctuation written against inline math (no space between): kept on the math's line.
NOWRAP = "math-nowrap"  # math.css: white-space: nowrap
_TRAILING = re.compile(r"[.,;:!?)\]}\u2019\u201d\u2026'\"]+")
_LEADING = re.compile(r"[(\[{\u2018\u201c'\"]+\Z")


def math_pattern(css_class: str = "math") -> re.Pattern[str]:
    """render-math's elements: a span or div with exactly that class, holding text only."""
    return re.compile(rf'<(span|div) class="{re.escape(css_class)}">([^<]*)</\1>')


@dataclass
class Problem:
    message: str
    needle: str  # what to look for in the source file to locate it
    error: bool  # an error in strict builds (a warning otherwise)


@dataclass
class PageResult:
    html: str
    chars: set[str] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)
    numbers: dict[str, str] = field(default_factory=dict)  # label -> number, "(3)"
    math: int = 0  # formulas converted (fallbacks included)


@dataclass
class _Item:
    start: int
    end: int
    tag: str
    tex: str
    display: bool
    result: Converted
    number: str | None = None


def xref_numbers(text: str) -> dict[str, str]:
    """xrefs' numbered equations: ``{eq-label: "(N)"}`` (div and number are in order)."""
    labels = _XREF_EQUATION.findall(text)
    numbers = _EQ_NUMBER.findall(text)
    return {label: f"({n})" for label, n in zip(labels, numbers, strict=False)}


def _auto_start(numbers: dict[str, str]) -> int:
    values = [int(v.strip("()")) for v in numbers.values() if v.strip("()").isdigit()]
    return max(values, default=0)


def convert_page(text: str, converter: MathConverter, css_class: str = "math",
                 numbers: dict[str, str] | None = None, links: bool = True) -> PageResult:
    """Convert every render-math element of ``text``.

    ``numbers`` are labels known beforehand (a summary uses its post's); ``links=False``
    writes references as ``<span class="xref">`` (a summary is shown on other pages).
    """
    result = PageResult(text)
    known = dict(xref_numbers(text)) if numbers is None else dict(numbers)
    counter = _auto_start(known)
    items: list[_Item] = []
    for match in math_pattern(css_class).finditer(text):
        parsed = split_delimiters(html.unescape(match.group(2)))
        if parsed is None:
            continue
        tex, display = parsed
        display = display or match.group(1) == "div"
        item = _Item(match.start(), match.end(), match.group(1), tex, display,
                     converter.convert(tex, display))
        items.append(item)
        info = item.result
        if not info.ok:
            result.problems.append(Problem(
                f"cannot convert this formula to MathML ({info.error}); it is shown as TeX",
                tex, True))
            continue
        if display and (info.tag or info.label):
            if info.tag:
                item.number = info.tag
            else:
                counter += 1
                item.number = f"({counter})"
            if info.label:
                if info.label in known and numbers is None:
                    result.problems.append(Problem(
                        f"duplicate equation label '{info.label}': references go to its "
                        "first use", rf"\label{{{info.label}}}", False))
                else:
                    known.setdefault(info.label, item.number)
        elif info.label and not display:
            result.problems.append(Problem(
                f"\\label{{{info.label}}} in inline math is ignored: label a display "
                "equation", rf"\label{{{info.label}}}", False))
    result.numbers = known
    out, pos = [], 0
    for item in items:
        shown = _render(item, known, css_class, links, result)
        start, end = item.start, item.end
        if item.tag == "span" and shown.startswith(f'<span class="{css_class}"'):
            lead = _LEADING.search(text, pos, start)
            start = lead.start() if lead else start
            trail = _TRAILING.match(text, end)
            end = trail.end() if trail else end
            if (start, end) != (item.start, item.end):  # never a line break between them
                shown = (f'<span class="{NOWRAP}">{text[start:item.start]}{shown}'
                         f"{text[item.end:end]}</span>")
        out.append(text[pos:start])
        out.append(shown)
        pos = end
        result.math += 1
    out.append(text[pos:])
    result.html = "".join(out)
    return result


def _ref_text(kind: str, number: str) -> str:
    return number if kind == "eqref" else number.strip("()")


def _unknown(kind: str, label: str) -> Problem:
    return Problem(f"unknown equation label in \\{kind}{{{label}}}: no \\label or {{#{label}}} "
                   "in this post", rf"\{kind}{{{label}}}", True)


def _render(item: _Item, known: dict[str, str], css_class: str, links: bool,
            result: PageResult) -> str:
    info = item.result
    only = _ONLY_REF.match(item.tex)
    if info.ok and only and not item.display:
        kind, label = only.group(1), only.group(2).strip()
        if label in known:
            shown = html.escape(_ref_text(kind, known[label]))
            if links:
                return f'<a class="xref" href="#{html.escape(label)}">{shown}</a>'
            return f'<span class="xref">{shown}</span>'
        result.problems.append(_unknown(kind, label))
    reported = bool(info.ok and _ONLY_REF.match(item.tex) and not item.display)
    markup = info.markup
    if info.ok:
        def resolve(match: re.Match[str]) -> str:
            kind, label = match.group(1), html.unescape(match.group(2))
            if label not in known:
                if not reported:
                    result.problems.append(_unknown(kind, label))
                return f"<mtext>{'(?)' if kind == 'eqref' else '?'}</mtext>"
            shown = html.escape(_ref_text(kind, known[label]))
            if links:
                return f'<mrow href="#{html.escape(label)}"><mtext>{shown}</mtext></mrow>'
            return f"<mtext>{shown}</mtext>"

        markup = _REF_MTEXT.sub(resolve, markup)
        result.chars |= glyph_text(markup)
    # display math scrolls sideways on a phone (math.css): keyboard-reachable, as code is
    focus = ' tabindex="0"' if item.tag == "div" else ""
    element = f'<{item.tag} class="{css_class}"{focus}>{markup}</{item.tag}>'
    if item.number is None:
        return element
    label = f' id="{html.escape(info.label)}"' if info.label and links else ""
    number = f'<span class="eq-number">{html.escape(item.number)}</span>'
    return f'<div class="xref-equation"{label}>{element}{number}</div>'
