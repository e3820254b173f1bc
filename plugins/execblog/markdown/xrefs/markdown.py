"""A post's references in its Markdown, as its page shows them: for the notebook download.

The page's references are resolved in its HTML; the notebook holds the post's Markdown.
:class:`MarkdownReferences` rewrites a Markdown text the way the page reads: ``@fig-x``,
``-@eq-x``, ``[Fig. @fig-a; @fig-b]`` become the page's text ("Figure 1", "1", "Fig. 1,
Fig. 2"), ``@post:slug`` and ``[]({filename}other.md)`` a Markdown link with the other post's
title (a ``{filename}`` target, which the notebook's own link pass resolves), and citations
their page text (``execblog.markdown.citations.markdown``), with the References as a last section.
Numbers are the page's: they are counted in the post's HTML, fences' output included.
References in code, math and links are left alone, as on the page; an unknown one stays as
written (the page's build reports it, once).
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

from execblog.markdown.citations.markdown import MarkdownCitations, mask

from .core import NEEDS as LABELS_NEEDED
from .core import Target, process, scan_references, shown_text
from .posts import _REF as POST_REF
from .posts import PostIndex, _relative, _title

log = logging.getLogger(__name__)
_EMPTY_LINK = re.compile(r"\[\]\(\s*(\{filename\}[^)\s]+)\s*\)")


class MarkdownReferences:
    """Callable on a Markdown text of one post (a Pelican content object whose HTML holds
    the fences' output, before the page's references are made)."""

    def __init__(self, post: Any, settings: dict[str, Any]):
        self.post = post
        self.settings = settings
        self.targets: dict[str, Target] = {}
        self._index: PostIndex | None = None
        self.citations: MarkdownCitations | None = None
        self._read = False  # the page's labels and citations: read at the first reference

    def _read_page(self) -> None:
        if self._read:
            return
        self._read = True
        html = getattr(self.post, "_content", None)
        if not isinstance(html, str):
            return
        try:
            if LABELS_NEEDED.search(html):
                self.targets = process(html).targets
            self.citations = MarkdownCitations(self.post, self.settings)
        except Exception:  # a bug here must cost neither the notebook nor the page
            log.debug("notebook references of %s not resolved", self.post, exc_info=True)

    @property
    def index(self) -> PostIndex:
        if self._index is None:
            context = getattr(self.post, "_context", None) or {}
            self._index = PostIndex((context.get("generated_content") or {}).values())
        return self._index

    def _post_link(self, target: Any) -> str:
        return f"[{_title(target)}]({{filename}}/{_relative(target)})"

    def __call__(self, text: str) -> str:
        """``text`` with each reference as the page shows it."""
        if "@" not in text and "[](" not in text:
            return text
        self._read_page()
        masked = mask(text)
        edits: list[tuple[int, int, str]] = []
        for start, end, refs in scan_references(masked):
            if all(ref.label in self.targets for ref in refs):
                shown = ", ".join(shown_text(self.targets[ref.label], ref) + ref.suffix
                                  for ref in refs)
                edits.append((start, end, shown))
        lang = getattr(self.post, "lang", None)
        for match in POST_REF.finditer(masked):
            target = self.index.find(match[1], lang)
            if target is not None:
                edits.append((match.start(), match.end(), self._post_link(target)))
        for match in _EMPTY_LINK.finditer(text):
            target = self.index.linked(self.post, match[1][len("{filename}"):])
            if target is not None:
                edits.append((match.start(), match.end(), f"[{_title(target)}]({match[1]})"))
        out, at = [], 0
        for start, end, shown in sorted(edits):
            if start >= at:  # (never two edits of one place)
                out += [text[at:start], shown]
                at = end
        text = "".join(out) + text[at:]
        return self.citations(text) if self.citations is not None else text

    @property
    def appendix(self) -> str:
        """Markdown for a last cell: the References ("" when nothing is cited)."""
        return self.citations.references() if self._read and self.citations else ""

    def key_for(self, source: str) -> str:
        """A digest of what resolving ``source`` gives (for the notebook cache's key)."""
        try:
            resolved = self(source) + "\0" + self.appendix
        except Exception:  # (building the notebook reports it, as a warning)
            return ""
        return hashlib.sha256(resolved.encode("utf-8", "replace")).hexdigest()


__all__ = ["MarkdownReferences"]
