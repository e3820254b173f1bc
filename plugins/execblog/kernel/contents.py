"""Pelican's content objects, for plugins that read or rewrite them: which post is being
read (:func:`reading_path`, for Markdown extensions that locate messages or resolve paths),
every content object after generation (:func:`content_objects`, for plugins that rewrite
HTML at ``all_generators_finalized``: the fence engine, citations, cross-references), and
which of them this build renders into (:func:`restricted`: a preview writing some pages)."""

from __future__ import annotations

import contextlib
import contextvars
import os
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


_reading: contextvars.ContextVar[str | None] = contextvars.ContextVar("execblog_reading",
                                                                      default=None)


@contextlib.contextmanager
def reading(source_path: str) -> Iterator[None]:
    """While a post's Markdown is converted: :func:`reading_path` names it."""
    token = _reading.set(source_path)
    try:
        yield
    finally:
        _reading.reset(token)


def reading_path() -> str | None:
    """The post file whose Markdown is being converted (None outside a post's reading)."""
    return _reading.get()


_render_only: list[frozenset[str]] = []  # absolute source paths; empty: render every post


def render_only(sources: Iterable[str] | None) -> None:
    """Render fences into these posts only in the next builds (None: into every post)."""
    _render_only[:] = [frozenset(os.path.realpath(s) for s in sources)] if sources else []


class _Only:
    """A generator whose article and page lists hold only some content objects."""

    def __init__(self, generator: Any, keep: set[int]):
        self._generator, self._keep = generator, keep

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._generator, name)
        if name in CONTENT_LISTS and isinstance(value, list):
            return [obj for obj in value if id(obj) in self._keep]
        return value


def restricted(generators: list[Any]) -> list[Any]:
    """The generators as this build renders fences: only the selected posts in a preview's
    pages-only build, every post otherwise. Page-level plugins (cross-references) process
    the same posts, so they never judge a post whose fences were left out."""
    if not _render_only:
        return generators
    wanted = _render_only[0]
    found = {os.path.realpath(obj.source_path): obj for obj in content_objects(generators)
             if getattr(obj, "source_path", None) and obj.save_as}
    if not wanted <= found.keys():  # a new post, or one that is not written: render all
        return generators
    keep = {id(found[source]) for source in wanted}
    return [_Only(g, keep) for g in generators]
