"""themekit: Jinja filters the site's theme needs (reading stats, table of contents, card
summaries, description text), the one setting its head needs, CANONICAL_SITEURL, and the
list pages' ``*_URL``/``*_SAVE_AS`` its menu links (``LIST_PAGES``) where the blog set none.

The filters run at template time on the final HTML, because the fence engine changes
article content late in the build.
"""

from __future__ import annotations

from pelican import signals

from .filters import FILTERS
from .pelican_features import directory_url
from .summaries import AUTHORED

# The direct templates whose pages the theme links by ``{NAME}_URL`` (menu, breadcrumbs).
LIST_PAGES = ("archives", "tags", "categories", "authors", "search")


def canonical_siteurl(siteurl: str | None) -> str:
    """SITEURL when it is absolute (publishconf), else "" so that links are root-relative
    (development: RELATIVE_URLS rewrites SITEURL per page, which a canonical URL must not
    follow)."""
    siteurl = (siteurl or "").rstrip("/")
    return siteurl if siteurl.startswith(("https://", "http://")) else ""


def list_page_urls(settings: dict) -> None:
    """Give each of ``LIST_PAGES`` that the blog builds (in DIRECT_TEMPLATES) a URL when the
    blog set none: the file Pelican writes it to (its ``*_SAVE_AS``, by default
    "archives.html"; "tags/index.html" is linked as "tags/"). Pelican has no default
    ``ARCHIVES_URL`` (its own themes hard-code "archives.html"), so a blog with Pelican's
    settings would link "/" for "Archives"."""
    built = set(settings.get("DIRECT_TEMPLATES") or ())
    for name in (n for n in LIST_PAGES if n in built):
        save_as = settings.setdefault(f"{name.upper()}_SAVE_AS", f"{name}.html")
        settings.setdefault(f"{name.upper()}_URL", directory_url(save_as))


def _add_filters(pelican: object) -> None:
    """Add our filters to JINJA_FILTERS; generators read that setting when they start."""
    settings = pelican.settings  # type: ignore[attr-defined]
    filters = dict(settings.get("JINJA_FILTERS") or {})
    for name, func in FILTERS.items():
        filters.setdefault(name, func)
    settings["JINJA_FILTERS"] = filters
    settings["CANONICAL_SITEURL"] = canonical_siteurl(settings.get("SITEURL"))
    list_page_urls(settings)


def _mark_authored_summary(content: object) -> None:
    """Remember whether the author wrote a Summary: before any plugin stores one."""
    metadata = getattr(content, "metadata", None) or {}
    setattr(content, AUTHORED, "summary" in metadata)


def register() -> None:
    signals.initialized.connect(_add_filters)
    signals.content_object_init.connect(_mark_authored_summary)
