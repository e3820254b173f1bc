"""Pelican's content objects after generation, for plugins that rewrite their HTML at
``all_generators_finalized`` (the fence engine, citations, cross-references)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

# Where Pelican's generators keep content objects (articles and pages, drafts, hidden...).
CONTENT_LISTS = ("articles", "translations", "drafts", "drafts_translations", "hidden_articles",
                 "pages", "hidden_pages", "hidden_translations", "draft_pages",
                 "draft_translations")


def content_objects(generators: Iterable[Any]) -> Iterator[Any]:
    """Every article and page the generators hold, each once."""
    seen: set[int] = set()
    for generator in generators:
        for name in CONTENT_LISTS:
            for obj in getattr(generator, name, None) or []:
                if id(obj) not in seen:
                    seen.add(id(obj))
                    yield obj


def forget_memoized_content() -> None:
    """Pelican memoizes content and summaries; drop what was computed before a rewrite."""
    from pelican.contents import Content

    for name in ("get_content", "get_summary"):
        memo = Content.__dict__.get(name)
        if memo is not None and hasattr(memo, "cache"):
            memo.cache.clear()


def source_text(obj: Any) -> str:
    """The Markdown source of a post or page ("" when it cannot be read): where plugins
    that work on the finished HTML find the line to name in a message."""
    try:
        with open(getattr(obj, "source_path", None) or "", encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return ""
