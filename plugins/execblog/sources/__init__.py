"""Post sources besides Markdown: each module holds one Pelican reader whose posts go through
the same fence engine, cache, figures, cross-references, citations and feeds as Markdown."""

from __future__ import annotations

from typing import Any


def reader_classes() -> dict[str, type[Any]]:
    """Pelican reader classes by file extension (without the dot), for ``readers_init``."""
    found: dict[str, type[Any]] = {}
    return found
