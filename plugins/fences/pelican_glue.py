"""Pelican signal wiring: one engine per Pelican object."""

from __future__ import annotations

from typing import Any

from pelican import signals
from pelican.readers import MarkdownReader

from .collect import FenceReader
from .engine import Engine

_current: list[Engine] = []


def _initialized(pelican: Any) -> None:
    engine = Engine(pelican.settings, pelican.output_path)
    _current[:] = [engine]
    markdown = pelican.settings.setdefault("MARKDOWN", {})
    markdown.setdefault("extensions", []).append(engine.extension())


def _readers_init(readers: Any) -> None:
    for ext in MarkdownReader.file_extensions:
        readers.reader_classes[ext] = FenceReader


def _finished(generators: Any) -> None:
    if _current:
        _current[0].finish(generators)


def _finalized(pelican: Any) -> None:
    if _current:
        _current[0].close()


def connect() -> None:
    from . import site_errors

    # site_errors first at `initialized` (it may refuse the settings before the engine starts
    # work) and last at `finalized` (its strict exit comes after the engine has closed).
    signals.initialized.connect(site_errors.initialized)
    signals.initialized.connect(_initialized)
    signals.readers_init.connect(_readers_init)
    signals.all_generators_finalized.connect(_finished)
    signals.all_generators_finalized.connect(site_errors.all_generators_finalized)
    signals.finalized.connect(_finalized)
    signals.finalized.connect(site_errors.finalized)
