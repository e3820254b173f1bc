"""What readers get besides pages: each format is written from the built site.

``feeds`` (RSS/Atom per tag, with the page's figures and math), ``notebooks`` (the ``.ipynb``
of each post, stored outputs, tracebacks), ``sitefiles`` (sitemap.xml, robots.txt, 404) and
``search`` (the Pagefind index, where it is installed).
"""
