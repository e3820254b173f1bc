"""themekit: Jinja filters the site's theme needs (reading stats, table of contents).

The filters run at template time on the final HTML, because the fence engine changes
article content late in the build.
"""

from __future__ import annotations

from pelican import signals

from .filters import FILTERS


def _add_filters(pelican: object) -> None:
    """Add our filters to JINJA_FILTERS; generators read that setting when they start."""
    settings = pelican.settings  # type: ignore[attr-defined]
    filters = dict(settings.get("JINJA_FILTERS") or {})
    for name, func in FILTERS.items():
        filters.setdefault(name, func)
    settings["JINJA_FILTERS"] = filters


def register() -> None:
    signals.initialized.connect(_add_filters)
