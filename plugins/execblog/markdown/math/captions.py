"""TeX where math bloggers write it outside the Markdown's prose: captions, alt text, titles.

pelican-render-math finds TeX in the Markdown only. A fence's ``caption`` / ``fig-cap`` /
``tbl-cap``, a benchmark's title and the alt text of images come in later as HTML, with their
``$...$`` as written. Connected to ``all_generators_finalized`` just before the MathML pass
(``execblog.markdown.math``), after the fences, citations and cross-references have written their
HTML, this pass rewrites each article's and page's content:

- in the text of every ``<figcaption>`` and ``<caption>`` (not in code or links), TeX
  (``$..$``, ``$$..$$``, ``\\(..\\)``, ``\\[..\\]``, with pandoc's rules for ``$``: no space
  inside the dollars, none followed by a digit; ``\\$`` is a dollar) becomes render-math's
  ``<span class="math">\\(tex\\)</span>``, which the MathML pass then typesets as any other
  inline formula, on pages and in feeds (``MATH_RENDERER = "mathjax"``: MathJax does);
- where text is required, TeX becomes readable Unicode text (themekit's ``tex_to_text``,
  the one ``<meta name="description">`` uses: ``$X_k$`` -> ``Xₖ``, ``$\\sigma^2$`` -> ``σ²``,
  ``$\\log_2 n$`` -> ``log₂ n``): the ``alt``, ``aria-label`` and ``title`` attributes, an
  inline SVG's ``<title>`` and ``<desc>``, and the post's own title (so its heading,
  ``<title>``, cards and feed entries all read the same text).

Only the strings that hold TeX change; the rest of the HTML is left byte for byte.
BibTeX titles are typeset by ``execblog.markdown.citations`` itself (its reference list never goes
through this pass, so a ``$`` there is never mistaken for math).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from typing import Any

from execblog.kernel.contents import content_objects, forget_memoized_content

# pandoc's tex_math_dollars: "$" then no space, no space before the closing "$", which no
# digit follows; "\$" is a dollar sign, never a delimiter.
TEX = re.compile(
    r"\\\$"
    r"|\$\$(?P<display>[^$]+?)\$\$"
    r"|\$(?P<inline>[^\s$](?:[^$]*?[^\s\\$])?)\$(?!\d)"
    r"|\\\((?P<paren>.+?)\\\)"
    r"|\\\[(?P<bracket>.+?)\\\]", re.S)
_CAPTION = re.compile(r"<(figcaption|caption)\b[^<>]*>(.*?)</\1\s*>", re.S | re.I)
_TAG = re.compile(r"<[A-Za-z][^<>]*>")
_TEXT_ATTRIBUTE = re.compile(r'(\s(?:alt|aria-label|title)\s*=\s*")([^"]*)(")', re.I)
_SVG_TEXT = re.compile(r"(<(title|desc)\b[^<>]*>)([^<]*)(</\2\s*>)", re.I)
_HINT = re.compile(r"\$|\\\(|\\\[")
# A space before a Unicode sub- or superscript ("log ₂ n" from \log_2 n) goes.
_SCRIPT_SPACE = re.compile("[ \u00a0]+(?=[\u00b2\u00b3\u00b9\u02b2\u1d40\u1d4f\u1d62-\u1d6a"
                           "\u2070-\u209c\u2c7c])")


def tex_spans(text: str) -> Iterator[tuple[int, int, str | None]]:
    """(start, end, tex) of each formula in plain text; tex is None for an escaped ``\\$``."""
    for match in TEX.finditer(text):
        tex = next((g for g in match.group("display", "inline", "paren", "bracket")
                    if g is not None), None)
        if tex is not None and not tex.strip():
            continue
        yield match.start(), match.end(), tex


def has_tex(text: str) -> bool:
    """Whether ``text`` holds a formula or an escaped dollar (both are rewritten)."""
    return bool(_HINT.search(text)) and next(tex_spans(text), None) is not None


def plain_text(text: str) -> str:
    """``text`` with each formula as readable Unicode text (``$X_k$`` -> ``Xₖ``)."""
    from execblog.themekit.summaries import tex_to_text

    out, at = [], 0
    for start, end, tex in tex_spans(text):
        out.append(text[at:start])
        out.append("$" if tex is None else _SCRIPT_SPACE.sub("", tex_to_text(tex)))
        at = end
    out.append(text[at:])
    return "".join(out)


def typeset_text(text: str, css_class: str = "math") -> str:
    """Plain ``text`` as HTML (escaped), each formula as render-math's inline element."""
    out, at = [], 0
    for start, end, tex in tex_spans(text):
        out.append(html.escape(text[at:start], quote=False))
        if tex is None:
            out.append("$")
        else:
            inner = html.escape(f"\\({' '.join(tex.split())}\\)", quote=False)
            out.append(f'<span class="{css_class}">{inner}</span>')
        at = end
    out.append(html.escape(text[at:], quote=False))
    return "".join(out)


def _captions(page: str, css_class: str) -> str:
    from execblog.markdown.prose import Edit, apply, text_runs

    edits: list[Edit] = []
    for caption in _CAPTION.finditer(page):
        offset = caption.start(2)
        for run in text_runs(caption.group(2)):  # prose only: not code, links or math
            if has_tex(run.text):
                edits.append(Edit(offset + run.start, offset + run.end,
                                  typeset_text(run.text, css_class)))
    return apply(page, edits) if edits else page


def _attribute(match: re.Match[str]) -> str:
    value = html.unescape(match.group(2))
    if not has_tex(value):
        return match.group(0)
    return match.group(1) + html.escape(plain_text(value), quote=True) + match.group(3)


def _tag(match: re.Match[str]) -> str:
    return _TEXT_ATTRIBUTE.sub(_attribute, match.group(0))


def _svg_text(match: re.Match[str]) -> str:
    value = html.unescape(match.group(3))
    if not has_tex(value):
        return match.group(0)
    return match.group(1) + html.escape(plain_text(value), quote=False) + match.group(4)


def typeset_page(page: str, css_class: str = "math") -> str:
    """One page's HTML with the TeX of its captions marked for the MathML pass and the TeX
    of its text attributes (and SVG titles) as Unicode text."""
    if not _HINT.search(page):
        return page
    page = _captions(page, css_class)
    page = _TAG.sub(_tag, page)
    return _SVG_TEXT.sub(_svg_text, page)


def _plain_title(obj: Any) -> bool:
    title = getattr(obj, "title", None)
    if not isinstance(title, str) or not has_tex(title):
        return False
    obj.title = plain_text(title)
    metadata = getattr(obj, "metadata", None)
    if isinstance(metadata, dict) and "title" in metadata:
        metadata["title"] = obj.title
    return True


def typeset_objects(objects: Iterable[Any], css_class: str = "math") -> int:
    """Rewrite each content object's HTML and title; return how many changed."""
    changed = 0
    for obj in objects:
        content = getattr(obj, "_content", None)
        touched = _plain_title(obj)
        if isinstance(content, str):
            new = typeset_page(content, css_class)
            if new != content:
                obj._content = new
                touched = True
        changed += touched
    return changed


def finalized(generators: Any) -> None:
    """all_generators_finalized receiver (before the MathML pass, either renderer)."""

    generators = list(generators)
    settings = next((g.settings for g in generators if hasattr(g, "settings")), {})
    css_class = (settings.get("MATH_JAX") or {}).get("math_tag_class", "math")
    if typeset_objects(content_objects(generators), css_class):
        forget_memoized_content()


__all__ = ["TEX", "finalized", "has_tex", "plain_text", "tex_spans", "typeset_objects",
           "typeset_page", "typeset_text"]
