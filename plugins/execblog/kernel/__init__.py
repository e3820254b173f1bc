"""The site kernel: what every part of Execblog shares, and nothing that runs fences.

Located diagnostics (``diagnostics``), site-wide errors, strict builds and the build record
(``site_errors``), Pelican's content objects after generation (``contents``), the build
machine's paths kept off pages (``paths``) and the code points XML forbids (``xmlsafe``).
Markdown extensions and output formats import this, never the engine.
"""
