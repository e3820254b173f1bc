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
    signals.initialized.connect(_initialized)
    signals.readers_init.connect(_readers_init)
    signals.all_generators_finalized.connect(_finished)
    signals.finalized.connect(_finalized)
