"""feedkit: make Pelican's Atom/RSS entries self-contained for feed readers.

Connected to ``feed_generated`` (items are added, the file is not yet written), it rewrites
each entry's content and summary: TeX from pelican-render-math becomes MathML, scripts and
event handlers go, heading permalinks ("#") go, benchmark tables get inline right alignment
for their numeric cells, every link and image URL is made absolute against the entry's link,
and XML-illegal characters are stripped from every text field of the feed and its items.

Connected to ``article_generator_finalized`` (before any feed is written), it replaces a
``modified`` that Pelican took from the file's mtime (``DEFAULT_DATE = "fs"``) with the
post's ``Date`` or the file's last git commit date, so ``updated`` in feeds is honest (see
``dates``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pelican import signals

from .dates import fix_article_dates
from .headings import permalink_class
from .rewrite import EntryRewriter
from .xmlchars import clean_fields

_HTML_FIELDS = ("content", "description")
_state: dict[str, EntryRewriter] = {}


def _start(pelican: Any) -> None:
    """One rewriter (and so one math cache) per Pelican run, also under autoreload."""
    math_class = (pelican.settings.get("MATH_JAX") or {}).get("math_tag_class", "math")
    _state["rewriter"] = EntryRewriter(math_class, permalink_class(pelican.settings))


def _base_for(link: str) -> str:
    """The URL that entry URLs resolve against, or "" to leave them alone.

    With SITEURL set, entry links are absolute. Dev builds (RELATIVE_URLS, SITEURL "")
    give links like "posts/x/" and Pelican writes intra-site URLs relative to the site
    root ("images/x.png"), indistinguishable from page-relative ones: keep them as is.
    """
    return link if urlsplit(link).scheme or link.startswith("/") else ""


def rewrite_feed(context: Any, feed: Any) -> None:
    """feed_generated receiver."""
    rewriter = _state.get("rewriter") or _state.setdefault("rewriter", EntryRewriter())
    clean_fields(feed.feed)
    for item in feed.items:
        clean_fields(item)
        base = _base_for(item.get("link") or "")
        for field in _HTML_FIELDS:
            if item.get(field):
                item[field] = rewriter(str(item[field]), base)


def register() -> None:
    signals.initialized.connect(_start)
    signals.article_generator_finalized.connect(fix_article_dates)
    signals.feed_generated.connect(rewrite_feed)
