"""Pelican signal wiring: one engine per Pelican object.

A long-lived preview that is about to write only some pages (``execblog.sitetasks.preview``) calls
:func:`render_only` with their source files: the engine then renders fences into those
posts only (every fence still runs or comes from the cache, and every failure is still
reported); a full build renders everything.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from pelican import signals
from pelican.readers import MarkdownReader

from execblog.kernel.contents import CONTENT_LISTS, content_objects

from .collect import FenceReader
from .pipeline import Engine

_current: list[Engine] = []
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


def _initialized(pelican: Any) -> None:
    engine = Engine(pelican.settings, pelican.output_path)
    _current[:] = [engine]
    markdown = pelican.settings.setdefault("MARKDOWN", {})
    markdown.setdefault("extensions", []).append(engine.extension())


def _readers_init(readers: Any) -> None:
    from execblog.sources import reader_classes

    for ext in MarkdownReader.file_extensions:
        readers.reader_classes[ext] = FenceReader
    readers.reader_classes.update(reader_classes())


def _finished(generators: Any) -> None:
    if _current:
        _current[0].finish(restricted(list(generators)))


def _finalized(pelican: Any) -> None:
    if _current:
        _current[0].close()


def connect() -> None:
    from execblog.kernel import site_errors

    # site_errors first at `initialized` (it may refuse the settings before the engine starts
    # work) and last at `finalized` (its strict exit comes after the engine has closed).
    signals.initialized.connect(site_errors.initialized)
    signals.initialized.connect(_initialized)
    signals.readers_init.connect(_readers_init)
    signals.all_generators_finalized.connect(_finished)
    signals.all_generators_finalized.connect(site_errors.all_generators_finalized)
    signals.finalized.connect(_finalized)
    signals.finalized.connect(site_errors.finalized)
