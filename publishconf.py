"""Production settings: absolute URLs, feeds, strict fences. Used by `invoke publish`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pelicanconf import *  # noqa: E402,F403

SITEURL = "https://example.github.io/execblog"
del FEED_DOMAIN  # noqa: F821 - Pelican then uses SITEURL, also when overridden with -e
RELATIVE_URLS = False
FENCES_STRICT = True
DELETE_OUTPUT_DIRECTORY = True
