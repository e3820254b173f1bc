"""xrefs: Quarto-style cross-references and numbering (figures, tables, equations, sections).

Connected to ``all_generators_finalized`` after the fence engine and citations (PLUGINS
order), it rewrites each article's and page's ``_content`` (see ``core``): pages and feeds are
written later from that content, and feedkit makes the ``#label`` links absolute in feeds.
An unknown reference stays as written and is a located warning (an error in strict builds,
which then fail through the site error record of ``execblog.kernel.site_errors``).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from pelican import signals

from execblog.kernel.contents import (
    content_objects,
    forget_memoized_content,
    restricted,
    source_text,
)
from execblog.kernel.diagnostics import emit, shown_path
from execblog.kernel.site_errors import fail_at_end

from .core import Problem, label_line, process, reference_lines
from .posts import PostIndex, link_posts

log = logging.getLogger(__name__)
_XREF_LINK = re.compile(r'<a class="xref" href="[^"]*">(.*?)</a>', re.S)


def _settings(generators: Any) -> dict[str, Any]:
    return next((g.settings for g in generators if hasattr(g, "settings")), {})


def finalized(generators: Any) -> None:
    """all_generators_finalized receiver: number and link every post's cross-references."""

    generators = list(generators)
    strict = bool(_settings(generators).get("FENCES_STRICT"))
    changed = []
    posts = PostIndex(content_objects(generators))  # @post:slug may name any of them
    # a preview's pages-only build renders some posts only: the others are left as they are
    for obj in content_objects(restricted(generators)):
        html = getattr(obj, "_content", None)
        if not isinstance(html, str):
            continue
        result = process(html)
        result.html, across = link_posts(result.html, obj, posts)
        result.problems += across
        if result.html != html:
            obj._content = result.html
            changed.append(obj)
        if result.problems:
            _report(obj, result.problems, strict)
    if changed:
        forget_memoized_content()
        for obj in changed:
            _plain_summary(obj)
        forget_memoized_content()


def _report(obj: Any, problems: list[Problem], strict: bool) -> None:
    source_path = getattr(obj, "source_path", None) or ""
    source = source_text(obj)
    seen: dict[str, int] = {}
    for problem in problems:
        if problem.reference:
            lines = reference_lines(source, problem.label)
            index = seen.get(problem.label, 0)
            seen[problem.label] = index + 1
            line = lines[min(index, len(lines) - 1)] if lines else None
            severity = "error" if strict else "warning"
        else:
            line = label_line(source, problem.label)
            severity = "warning"
        text = emit(shown_path(source_path) if source_path else "?", line, severity,
                    problem.message)
        if severity == "error":
            fail_at_end(text, log)


def _plain_summary(obj: Any) -> None:
    """A summary (the first paragraph, shown on index pages) keeps a reference's text, not
    its ``#label`` link, which would point into the index page."""
    if "summary" in getattr(obj, "metadata", {}) or not hasattr(obj, "get_summary"):
        return
    summary = obj.get_summary(obj.get_siteurl())
    if 'class="xref"' not in summary:
        return
    plain = _XREF_LINK.sub(r'<span class="xref">\1</span>', summary)
    obj.metadata["summary"] = plain
    obj._summary = plain


def register() -> None:
    """Pelican entry point."""
    signals.all_generators_finalized.connect(finalized)


__all__ = ["finalized", "register"]
