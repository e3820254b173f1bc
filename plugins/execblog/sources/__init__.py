"""What other tools write, read as posts: Pelican readers for notebooks (``notebook``,
``cells``, ``myst``) and Quarto documents (``quarto``), whose posts go through the same fence
engine, cache, figures, cross-references, citations and feeds as Markdown; and
markdown-exec's fence openers (``mdexec``), which the engine's collector reads."""

from __future__ import annotations

from typing import Any


def reader_classes() -> dict[str, type[Any]]:
    """Pelican reader classes by file extension (without the dot), for ``readers_init``."""
    from .notebook import JupytextMarkdownReader, NotebookReader

    found: dict[str, type[Any]] = {}
    # Markdown posts that are jupytext notebooks; every other one is read as before
    found.update(dict.fromkeys(JupytextMarkdownReader.file_extensions, JupytextMarkdownReader))
    found.update(dict.fromkeys(NotebookReader.file_extensions, NotebookReader))
    from .quarto import QuartoReader

    found.update(dict.fromkeys(QuartoReader.file_extensions, QuartoReader))
    return found
