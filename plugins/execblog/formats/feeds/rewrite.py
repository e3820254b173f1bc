"""The per-entry HTML pipeline: math, sanitising, the roles outputs declare for feeds,
heading permalinks, table alignment, then URLs, then XML-safe text."""

from __future__ import annotations

from collections.abc import Mapping

from .headings import DEFAULT_CLASS, strip_permalinks
from .markup import inner_html, parse_fragment
from .mathml import MathConverter, convert_math
from .roles import apply_feed_roles
from .sanitize import remove_scripts
from .tables import align_cells
from .urls import absolutize
from .xmlchars import strip_illegal


class EntryRewriter:
    """Rewrite entry HTML for feeds; results are memoised because one article is in
    many feeds (all, each tag, category, author) within a build."""

    def __init__(self, math_class: str = "math", permalink_class: str = DEFAULT_CLASS) -> None:
        self.math = MathConverter()
        self.math_class = math_class
        self.permalink_class = permalink_class
        self._cache: dict[tuple[str, str, frozenset[tuple[str, str]]], str] = {}

    def __call__(self, markup: str, base: str, links: Mapping[str, str] | None = None) -> str:
        """The entry HTML for feeds: relative URLs resolved against ``base`` (none when it is
        ""), except ``links``: intra-site URLs Pelican wrote relative to the site root, and
        their absolute URLs."""
        links = links or {}
        key = (markup, base, frozenset(links.items()))
        if key not in self._cache:
            self._cache[key] = self._rewrite(markup, base, links)
        return self._cache[key]

    def _rewrite(self, markup: str, base: str, links: Mapping[str, str]) -> str:
        root = parse_fragment(strip_illegal(markup))
        # Math first: latex2mathml output may carry markup of its own (\href, \text{<..>}).
        convert_math(root, self.math, self.math_class)
        remove_scripts(root)
        apply_feed_roles(root)
        strip_permalinks(root, self.permalink_class)
        align_cells(root)
        if base or links:
            absolutize(root, base, links)
        return strip_illegal(inner_html(root))
