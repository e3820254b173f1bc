"""Execblog as one plugin: ``PLUGINS = [..., "execblog"]`` in any Pelican blog.

``register_whole`` (``execblog.register``) connects:

1. ``register``: ``defaults.apply`` at ``initialized``, first of Execblog's receivers, so
   the settings the parts need and the blog did not set have a value before any part reads
   them (a value the blog set is never changed) and Execblog's Markdown extensions
   (callouts) are on; then ``stylesheet``: in a theme other than Execblog's, the pages that
   show Execblog's outputs link one small stylesheet for them, written into the output.
2. Every part in ``PARTS``, in the order that our own site has always listed them (the
   fence engine before citations and cross-references, which read the HTML it writes;
   mathkit after them). A part that the blog also lists by name is connected once:
   Pelican's signals (blinker) keep one connection per receiver function.

``register`` alone is the plugin ``execblog.standalone``: ``expand_plugins`` spells
``"execblog"`` out as ``["execblog.standalone", *PARTS]``, for a build that leaves a part out.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

# The Pelican plugins that make up Execblog, in the order they connect.
PARTS: tuple[str, ...] = (
    "pelican.plugins.render_math",  # finds the TeX; mathkit typesets it
    "execblog.themekit",
    "execblog.formats.feeds",
    "execblog.engine",
    "execblog.markdown.citations",
    "execblog.markdown.xrefs",
    "execblog.markdown.math",
    "execblog.formats.sitefiles",  # sitemap.xml and robots.txt
    "execblog.formats.search",  # the Pagefind search index, once every page is written
)
WHOLE = "execblog"  # the name that stands for all of PARTS in PLUGINS


def register() -> None:
    """Pelican entry point of ``execblog.standalone``: the settings' defaults and the
    outputs' stylesheet, without the parts."""
    from pelican import signals

    from . import defaults, stylesheet

    signals.initialized.connect(defaults.apply)
    stylesheet.connect()


def register_whole() -> None:
    """``execblog.register``: ``register`` (the defaults, the stylesheet), then every part."""
    register()
    for name in PARTS:
        importlib.import_module(name).register()


def expand_plugins(plugins: Iterable[object] | None) -> list[object]:
    """A PLUGINS list with ``"execblog"`` spelt out as its parts, each name once, so a caller
    can leave one part out (``invoke bench`` builds without ``execblog.engine``)."""
    found: list[object] = []
    for plugin in plugins or ():
        for name in ((__name__, *PARTS) if plugin == WHOLE else (plugin,)):
            if name not in found:
                found.append(name)
    return found
