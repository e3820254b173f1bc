"""themekit: Jinja filters the site's theme needs (reading stats, table of contents, card
summaries, description text) and the one setting its head needs, CANONICAL_SITEURL.

The filters run at template time on the final HTML, because the fence engine changes
article content late in the build.
"""

from __future__ import annotations

from pelican import signals

from .filters import FILTERS
from .summaries import AUTHORED


def canonical_siteurl(siteurl: str | None) -> str:
    """SITEURL when it is absolute (publishconf), else "" so that links are root-relative
    (development: RELATIVE_URLS rewrites SITEURL per page, which a canonical URL must not
    follow)."""
    siteurl = (siteurl or "").rstrip("/")
    return siteurl if siteurl.startswith(("https://", "http://")) else ""


def _add_filters(pelican: object) -> None:
    """Add our filters to JINJA_FILTERS; generators read that setting when they start."""
    settings = pelican.settings  # type: ignore[attr-defined]
    filters = dict(settings.get("JINJA_FILTERS") or {})
    for name, func in FILTERS.items():
        filters.setdefault(name, func)
    settings["JINJA_FILTERS"] = filters
    settings["CANONICAL_SITEURL"] = canonical_siteurl(settings.get("SITEURL"))


def _mark_authored_summary(content: object) -> None:
    """Remember whether the author wrote a Summary: before any plugin stores one."""
    metadata = getattr(content, "metadata", None) or {}
    setattr(content, AUTHORED, "summary" in metadata)


def register() -> None:
    signals.initialized.connect(_add_filters)
    signals.content_object_init.connect(_mark_authored_summary)
