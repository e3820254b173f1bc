"""Execblog: a Pelican blog whose Markdown posts run their own code at build time.

One installed package. Its folders follow a fence's way through a build, host first, then
worker, then what readers get:

* ``kernel``: what every part shares (located diagnostics, strict builds, content access,
  paths kept off pages, XML-safe text); it runs no fence.
* ``sources``: posts from notebooks, MyST and Quarto documents, read as Markdown.
* ``engine``: the hook contract (``execblog.engine.hookspecs``), options, collect, cache,
  render and report; it names no kind or backend, and of the executors only the default
  one, whose fork server it starts before the plugins load.
* ``executors`` (``local/``, Dask), ``backends`` (NumPy, CuPy, PyTorch, JAX), ``kinds``
  (Python, diagrams, compiled languages) and ``display`` (values, figures, HTML renderers):
  plugins of the engine, each registered like a third-party one (``pelican_fences`` entry
  points).
* ``markdown``: what authors write besides fences (callouts, Quarto syntax, citations,
  cross-references, math). ``formats``: feeds, notebooks, sitemap, search.
* ``diagrams``, ``benchtables``: libraries with their own kinds and hooks.
* ``standalone`` (every part as one plugin, in any theme), ``themekit`` (the theme's
  filters), ``sitetasks`` (``invoke`` tasks: build, publish, preview, new) and ``cli``
  (``execblog init``).

In any Pelican blog, ``PLUGINS = [..., "execblog"]`` turns every part on (``register``
below); ``THEME = execblog.THEME`` chooses Execblog's own theme. Importing this module is
cheap: it imports neither the engine nor NumPy nor matplotlib. Names of parts before they
moved (``execblog.fences``...) still import, with a warning (``execblog.renamed``).
"""

from __future__ import annotations

import os

from execblog import renamed

renamed.install()

# The absolute path of Execblog's theme (package data), for ``THEME`` in a settings file:
# Pelican resolves THEME before any plugin loads, and takes a path or one of its own names.
THEME: str = os.path.join(os.path.dirname(os.path.abspath(__file__)), "theme")

__all__ = ["THEME", "register"]


def register() -> None:
    """Pelican entry point for ``PLUGINS = ["execblog"]``: every part of Execblog, with
    defaults for the settings a blog lacks and a stylesheet for the outputs in its theme."""
    from execblog.standalone import register_whole

    register_whole()
