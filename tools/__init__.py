"""This repository's own tooling (benchmarks, audit, GPU check, docs build): not installed.

Run from the checkout (``tasks.py`` puts it and ``plugins/`` on the path): ``perf`` is the
``invoke bench`` harness (with ``gallery``, sphinx-gallery folders as posts, and
``inprocess_exec``, the in-process reference), ``preview_bench`` is ``invoke bench --preview``,
``audit`` is ``invoke audit`` (Lighthouse), ``gpucheck`` prepares ``invoke gpucheck``
(.ci/gpucheck/), ``docs`` builds the documentation site (``invoke docs``), and ``nodetools``
installs the npm tools the audit and the browser tests use.
"""
