"""Settings of the documentation site, built by Execblog itself (`invoke docs`).

Standalone: every path is anchored to this file, so `pelican -s /path/to/docs/pelicanconf.py`
works from any directory. Every Markdown file in content/ is a page at `/<slug>/`; index.md
is the home page. The pages' examples are
exec fences, so building the docs (strictly: tools/docs.py) tests them.
"""

import sys
from pathlib import Path

import execblog

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent

# The plugin that the plugin-contract page demonstrates: a module next to the docs, named in
# FENCES_PLUGINS as a blog's own unpackaged plugin would be (the fork server inherits sys.path).
if str(DOCS / "plugins") not in sys.path:
    sys.path.insert(0, str(DOCS / "plugins"))

AUTHOR = "The Execblog Team"
SITENAME = "Execblog documentation"
SITESUBTITLE = "Pelican posts whose code runs when the site is built"
SITEURL = ""
RELATIVE_URLS = True
TIMEZONE = "UTC"
DEFAULT_LANG = "en"

PATH = str(DOCS / "content")
OUTPUT_PATH = str(DOCS / "output")
# Pages, not dated posts: every Markdown file in content/ is a page at a stable URL.
ARTICLE_PATHS = []
PAGE_PATHS = [""]
SLUGIFY_SOURCE = "basename"  # content/settings.md is /settings/, whatever its title
PAGE_URL = "{slug}/"
PAGE_SAVE_AS = "{slug}/index.html"
STATIC_PATHS = []

THEME = execblog.THEME
PLUGINS = ["execblog"]  # everything: fences, math, citations, cross-references, feeds, search

# index.md is the home page (Save_as: index.html), so Pelican's own post list is not made.
DIRECT_TEMPLATES = ["tags", "archives", "404", "search"]
TAGS_URL = "tags/"
TAGS_SAVE_AS = "tags/index.html"
ARCHIVES_URL = "archives/"
ARCHIVES_SAVE_AS = "archives/index.html"
SEARCH_URL = "search/"
SEARCH_SAVE_AS = "search/index.html"
AUTHOR_SAVE_AS = ""
CATEGORY_SAVE_AS = ""
TAG_SAVE_AS = ""
DISPLAY_PAGES_ON_MENU = False

FEED_DOMAIN = "http://localhost:8000"
FEED_ALL_ATOM = None
FEED_ALL_RSS = None
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None

MARKDOWN = {
    "extension_configs": {
        "markdown.extensions.codehilite": {"css_class": "highlight", "guess_lang": False},
        "markdown.extensions.extra": {},
        "markdown.extensions.meta": {},
        "markdown.extensions.toc": {"permalink": "#", "toc_depth": "2-3"},
        "markdown.extensions.admonition": {},
    },
    "output_format": "html5",
}
MATH_RENDERER = "mathml"
MATH_JAX = {"auto_insert": False, "process_summary": False, "message_style": None}

FENCES_CACHE_PATH = str(DOCS / "fence-cache")
FENCES_STRICT = True  # a failing example fails the docs build
FENCES_TIMEOUT = 60
FENCES_BACKEND = "auto"
FENCES_PLUGINS = ["shout_plugin"]

DELETE_OUTPUT_DIRECTORY = True
LOAD_CONTENT_CACHE = False
