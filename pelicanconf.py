"""Local development settings.

Every path is anchored to this file, so `pelican OTHER_CONTENT -s /path/to/pelicanconf.py`
works from any directory; any value can be overridden with `pelican -e KEY=VALUE`.
"""

from pathlib import Path

import execblog

ROOT = Path(__file__).resolve().parent

AUTHOR = "The Execblog Team"
SITENAME = "Execblog"
SITESUBTITLE = "Math, algorithms and GPUs — with code that runs"
SITEURL = ""
RELATIVE_URLS = True
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
DEFAULT_DATE_FORMAT = "%d %b %Y"
DEFAULT_DATE = "fs"  # a post without Date: uses the file's modification time

PATH = str(ROOT / "content")
ARTICLE_PATHS = [""]  # any Markdown file outside pages/ is a post (content/posts/ by habit)
PAGE_PATHS = ["pages"]
USE_FOLDER_AS_CATEGORY = False
DEFAULT_CATEGORY = "notes"
STATIC_PATHS = ["images", "extra"]
THEME = execblog.THEME  # Execblog's theme (plugins/execblog/theme); any Pelican theme works
PLUGIN_PATHS = [str(ROOT / "plugins")]
# Every part of Execblog (fences, math, callouts, citations, cross-references, feeds,
# sitemap, search: execblog.standalone.PARTS), as in any Pelican blog.
PLUGINS = ["execblog"]

ARTICLE_URL = "posts/{slug}/"
ARTICLE_SAVE_AS = "posts/{slug}/index.html"
PAGE_URL = "{slug}/"
PAGE_SAVE_AS = "{slug}/index.html"
TAG_URL = "tags/{slug}/"
TAG_SAVE_AS = "tags/{slug}/index.html"
TAGS_URL = "tags/"
TAGS_SAVE_AS = "tags/index.html"
CATEGORY_URL = "categories/{slug}/"
CATEGORY_SAVE_AS = "categories/{slug}/index.html"
AUTHOR_URL = "authors/{slug}/"
AUTHOR_SAVE_AS = "authors/{slug}/index.html"
ARCHIVES_SAVE_AS = "archives/index.html"
CATEGORIES_URL = "categories/"
CATEGORIES_SAVE_AS = "categories/index.html"
AUTHORS_URL = "authors/"
AUTHORS_SAVE_AS = "authors/index.html"
ARCHIVES_URL = "archives/"
# "404" renders theme/templates/404.html to 404.html at the output root (GitHub Pages and
# most servers show it for any missing path).
# "search" renders the search page (theme/templates/search.html; execblog.formats.search indexes).
DIRECT_TEMPLATES = ["index", "tags", "categories", "authors", "archives", "404", "search"]
SEARCH_URL = "search/"
SEARCH_SAVE_AS = "search/index.html"
DEFAULT_PAGINATION = 10
# Drafts (Status: draft, written to drafts/) and hidden posts and pages (Status: hidden, at
# their usual URL): written here for preview; publishconf.py leaves them out of a publish.
# Either way they are never listed, in feeds, in the sitemap or in the search index.
WRITE_DRAFTS = True
WRITE_HIDDEN = True
# Summaries are whole first paragraphs: never cut inside math, a figure or a link.
SUMMARY_MAX_LENGTH = None
SUMMARY_MAX_PARAGRAPHS = 1

# Feeds: all posts, and one Atom + one RSS feed per tag, each kind at its own path.
# In development feed links point at `invoke serve`; publishconf derives them from SITEURL.
FEED_DOMAIN = "http://localhost:8000"
FEED_ALL_ATOM = "feeds/all.atom.xml"
FEED_ALL_RSS = "feeds/all.rss.xml"
TAG_FEED_ATOM = "feeds/tags/{slug}.atom.xml"
TAG_FEED_RSS = "feeds/tags/{slug}.rss.xml"
CATEGORY_FEED_ATOM = "feeds/categories/{slug}.atom.xml"
CATEGORY_FEED_RSS = None
AUTHOR_FEED_ATOM = "feeds/authors/{slug}.atom.xml"
AUTHOR_FEED_RSS = "feeds/authors/{slug}.rss.xml"
TRANSLATION_FEED_ATOM = None
RSS_FEED_SUMMARY_ONLY = False
FEED_MAX_ITEMS = 50

MARKDOWN = {
    "extension_configs": {
        # With Execblog's theme, code is formatted by execblog.engine.lean_html: the same
        # colours as Pygments' HTML, with fewer elements.
        "markdown.extensions.codehilite": {"css_class": "highlight", "guess_lang": False},
        "markdown.extensions.extra": {},
        "markdown.extensions.meta": {},
        "markdown.extensions.toc": {"permalink": "#", "toc_depth": "2-3"},
        "markdown.extensions.admonition": {},  # (GitHub's > [!NOTE] callouts: "execblog")
    },
    "output_format": "html5",
}

# Math: pelican-render-math finds the TeX; MATH_RENDERER says who typesets it. "mathml"
# (plugins/execblog/markdown/math): MathML made at build time, no script, a subset of the math font
# in theme/static/fonts. "mathjax": MathJax 2 in the browser, from MATHJAX_SOURCE (point it at
# a local copy to self-host, e.g. "/mathjax/MathJax.js?config=TeX-AMS_CHTML").
MATH_RENDERER = "mathml"  # "mathml" | "mathjax"
MATHJAX_SOURCE = "https://cdn.jsdelivr.net/npm/mathjax@2.7.9/MathJax.js?config=TeX-AMS_CHTML"
MATH_JAX = {"auto_insert": False, "process_summary": False, "message_style": None}

# The fence engine (plugins/execblog/engine); its settings: docs/content/settings.md.
FENCES_CACHE_PATH = str(ROOT / "fence-cache")
FENCES_REPORT = None  # None: <FENCES_CACHE_PATH>/report.json
FENCES_MODE = "run"  # run | frozen | rerun
FENCES_STRICT = False
FENCES_WORKERS = None  # None: one per core
FENCES_TIMEOUT = 60
FENCES_BACKEND = "auto"
FENCES_PLUGINS = []  # extra pluggy plugins, as importable module names

# Publishing (invoke publish; SITEURL in publishconf.py). DEPLOY_METHOD: "ghp-import" commits
# the site to DEPLOY_BRANCH of the git repository DEPLOY_REPOSITORY (this checkout) and pushes
# it to DEPLOY_REMOTE when DEPLOY_PUSH; "directory" replaces DEPLOY_DIRECTORY; "rsync" copies
# it to DEPLOY_RSYNC_TARGET ("me@host:/var/www/blog/").
DEPLOY_METHOD = "ghp-import"
DEPLOY_REPOSITORY = str(ROOT)
DEPLOY_BRANCH = "gh-pages"
DEPLOY_PUSH = False
DEPLOY_REMOTE = "origin"
DEPLOY_DIRECTORY = ""
DEPLOY_RSYNC_TARGET = ""

DELETE_OUTPUT_DIRECTORY = True
LOAD_CONTENT_CACHE = False

# Menus and footer (Pelican's own settings, shown by the theme): MENUITEMS are extra header
# links, LINKS a blogroll and SOCIAL the author's other places (rel="me"), in the footer;
# each a tuple of ("Name", "https://...") pairs. Pages are in the header; categories too,
# once posts use any besides DEFAULT_CATEGORY.
MENUITEMS = ()
LINKS = ()
SOCIAL = ()
DISPLAY_PAGES_ON_MENU = True
DISPLAY_CATEGORIES_ON_MENU = True

# Translations (Lang: fr, same slug) live beside their original: /posts/SLUG/fr/.
ARTICLE_LANG_URL = "posts/{slug}/{lang}/"
ARTICLE_LANG_SAVE_AS = "posts/{slug}/{lang}/index.html"
PAGE_LANG_URL = "{slug}/{lang}/"
PAGE_LANG_SAVE_AS = "{slug}/{lang}/index.html"
