"""Production settings: absolute URLs, feeds, strict fences, no drafts or hidden content.
Used by `invoke publish`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pelicanconf import *  # noqa: E402,F403

# Where readers find the site: required by `invoke publish` (the sitemap, feeds and absolute
# links are made from it), e.g. "https://you.github.io/execblog". Empty here: the example
# site has no address of its own, so a publish of it names one (--set SITEURL=https://...).
SITEURL = ""
del FEED_DOMAIN  # noqa: F821 - Pelican then uses SITEURL, also when overridden with -e
RELATIVE_URLS = False
FENCES_STRICT = True
# Drafts and hidden posts and pages are not published: no page, notebook or figure of theirs
# is written (True publishes them, still unlisted: off lists, feeds, sitemap and search).
WRITE_DRAFTS = False
WRITE_HIDDEN = False
DELETE_OUTPUT_DIRECTORY = True
