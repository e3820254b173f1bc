"""Whether this build gets a Pagefind index: only when the site has a search page that is
ours to serve.

No index is built, with one line in the build log saying why, when the blog has its own
search (another search plugin in PLUGINS, or its own page or file at the search page's
path), or when there is no search page at all ("search" is not in DIRECT_TEMPLATES, or the
theme has no search.html: Pelican's own themes have none). Where the search page would be
Execblog's own but the blog's search wins, that page is left out of the build too: without
an index it would find nothing.
"""

from __future__ import annotations

from typing import Any

from execblog.formats.sitefiles.owned import (
    drop_direct_template,
    is_ours,
    keep_or_drop_direct_template,
    plugin_named,
    say,
    theme_template,
)

SEARCH_TEMPLATE = "search"


def why_not_index(generators: list[Any]) -> str | None:
    """None when the search page is rendered and Execblog's to index; else the reason,
    already logged (the search page is then dropped where it would be ours)."""
    if not generators:
        return "no generators"
    settings = generators[0].settings
    plugin = plugin_named(settings, "search")
    if plugin:
        if is_ours(theme_template(generators, SEARCH_TEMPLATE)):
            drop_direct_template(generators, SEARCH_TEMPLATE)
        reason = f"the blog's own search ({plugin}) is kept; no Pagefind index is built"
        say(f"searchkit: {reason}")
        return reason
    dropped = keep_or_drop_direct_template(generators, SEARCH_TEMPLATE, "search page",
                                           "searchkit", "; no Pagefind index is built")
    if dropped:
        return dropped
    if SEARCH_TEMPLATE not in (settings.get("DIRECT_TEMPLATES") or ()):
        reason = ('the site has no search page ("search" is not in DIRECT_TEMPLATES); '
                  "no Pagefind index is built")
        say(f"searchkit: {reason}")
        return reason
    return None
