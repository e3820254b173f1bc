"""Kinds: what a fence's language means, one module per kind.

``python_kind`` (sessions with ``xp``, figures and rich values; ``magics`` and
``ipython_shim`` for IPython's syntax in notebooks), ``stored`` (a notebook's saved
outputs, shown without running), ``diagram_kind`` (hand-drawn diagrams from JSON) and
``languages/`` (bash, C, C++, Rust and CUDA, compiled once and cached). Each
declares its options, how it appears in a notebook, and how it runs.
"""
