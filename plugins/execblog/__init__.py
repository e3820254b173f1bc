"""Execblog: a Pelican blog whose Markdown posts run their own code at build time.

One installed package; each subpackage is a Pelican plugin or a library they share:

* ``fences``: the fence engine (collect, cache, execute in worker processes, render, report)
  and its hook contract (``execblog.fences.hookspecs``); built-in kinds, backends and
  executors in ``fences.builtin``, language kinds in ``langkit``.
* ``diagrams``, ``benchtables``, ``notebooks``: libraries the engine's plugins use.
* ``callouts``, ``citations``, ``xrefs``, ``mathkit``: Markdown and page extensions.
* ``feedkit``, ``sitefiles``, ``searchkit``, ``themekit``, ``xmlsafe``: what readers get
  (feeds, sitemap and robots.txt, search, the theme's filters).
* ``standalone``: all of the above as one plugin, in any Pelican blog and any theme.
* ``sitetasks``: the ``invoke`` tasks every blog has (build, publish, preview, new...).

In any Pelican blog, ``PLUGINS = [..., "execblog"]`` turns every part on (``register``
below); ``THEME = execblog.THEME`` chooses Execblog's own theme. Importing this module is
cheap: it imports neither the engine nor NumPy nor matplotlib.
"""

from __future__ import annotations

import os

# The absolute path of Execblog's theme (package data), for ``THEME`` in a settings file:
# Pelican resolves THEME before any plugin loads, and takes a path or one of its own names.
THEME: str = os.path.join(os.path.dirname(os.path.abspath(__file__)), "theme")

__all__ = ["THEME", "register"]


def register() -> None:
    """Pelican entry point for ``PLUGINS = ["execblog"]``: every part of Execblog, with
    defaults for the settings a blog lacks and a stylesheet for the outputs in its theme."""
    from .standalone import register_whole

    register_whole()
