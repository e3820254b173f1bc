"""Markdown and page extensions: what authors write besides fences.

``callouts`` (``> [!NOTE]``), ``pandoc`` (Quarto's fenced divs, spans and shortcodes),
``citations`` (BibTeX and CSL), ``xrefs`` (numbered figures, tables, equations and
theorems, across posts) and ``math`` (TeX to MathML at build time). Each is a
Python-Markdown extension or a Pelican plugin that imports the kernel, not the engine.
"""
