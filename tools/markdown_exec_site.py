"""The bench's real markdown-exec reference: its fences in a Pelican build.

A Python-Markdown extension (``MARKDOWN`` extension ``tools.markdown_exec_site``) for
``invoke bench`` only: it enables ``pymdownx.superfences`` with markdown-exec's
``validator`` and ``formatter`` for ``python`` fences, the way markdown-exec's usage docs
enable it outside MkDocs. Fences are ``python exec="true"`` (``html="true"`` where a figure
prints its SVG), one ``session`` per post. Needs the ``bench`` extra (``markdown-exec``).
"""

from __future__ import annotations

from typing import Any

from markdown import Extension, Markdown


class MarkdownExecFences(Extension):
    """``pymdownx.superfences`` with markdown-exec's python fences."""

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's name)
        from markdown_exec import formatter, validator
        from pymdownx.superfences import SuperFencesCodeExtension

        fences = [{"name": "python", "class": "python", "validator": validator,
                   "format": formatter}]
        md.registerExtensions([SuperFencesCodeExtension(custom_fences=fences)], {})


def makeExtension(**kwargs: Any) -> MarkdownExecFences:  # noqa: N802 (Python-Markdown's hook)
    return MarkdownExecFences(**kwargs)
