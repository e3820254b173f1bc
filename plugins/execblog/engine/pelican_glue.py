"""Pelican signal wiring: one engine per Pelican object.

A long-lived preview that is about to write only some pages (``execblog.sitetasks.preview``)
calls :func:`execblog.kernel.contents.render_only` with their source files: the engine then
renders fences into those posts only (every fence still runs or comes from the cache, and
every failure is still reported); a full build renders everything.
"""

from __future__ import annotations

from typing import Any

from pelican import signals
from pelican.readers import MarkdownReader

from execblog.kernel import site_errors
from execblog.kernel.contents import restricted

from .collect import FenceReader
from .pipeline import Engine

_current: list[Engine] = []
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
    # site_errors first at `initialized` (it may refuse the settings before the engine starts
    # work) and last at `finalized` (its strict exit comes after the engine has closed).
    signals.initialized.connect(site_errors.initialized)
    signals.initialized.connect(_initialized)
    signals.readers_init.connect(_readers_init)
    signals.all_generators_finalized.connect(_finished)
    signals.all_generators_finalized.connect(site_errors.all_generators_finalized)
    signals.finalized.connect(_finalized)
    signals.finalized.connect(site_errors.finalized)
