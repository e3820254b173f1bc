"""Execblog: a Pelican blog whose Markdown posts run their own code at build time.

One installed package; each subpackage is a Pelican plugin or a library they share:

* ``fences``: the fence engine (collect, cache, execute in worker processes, render, report)
  and its hook contract (``execblog.fences.hookspecs``); built-in kinds, backends and
  executors in ``fences.builtin``, language kinds in ``langkit``.
* ``diagrams``, ``benchtables``, ``notebooks``: libraries the engine's plugins use.
* ``callouts``, ``citations``, ``xrefs``, ``mathkit``: Markdown and page extensions.
* ``feedkit``, ``sitefiles``, ``searchkit``, ``themekit``, ``xmlsafe``: what readers get
  (feeds, sitemap and robots.txt, search, the theme's filters).
* ``sitetasks``: the ``invoke`` tasks (build, publish, preview, bench, audit).
"""
