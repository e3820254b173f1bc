"""sitefiles: sitemap.xml and robots.txt, written once the site is built; drafts and hidden
content left out of publish builds.

The sitemap lists the home page, every published post and every published page, each with
an absolute URL and a ``lastmod`` taken from the content itself (its ``Modified:``, else its
``Date:``; the home page takes the newest post's), never the build time: the same content
gives the same bytes. Drafts and hidden posts and pages (``Status: draft`` / ``hidden``) are
never in it. robots.txt allows everything and names the sitemap.

``unlisted`` (``WRITE_DRAFTS``, ``WRITE_HIDDEN``): whether drafts and hidden content are
written at all; publishconf.py sets both False, so a publish leaves them out.

URLs start with SITEURL when it is absolute (publishconf); in development, where SITEURL is
relative, with FEED_DOMAIN (``invoke serve``), the base the development feeds use.

Settings: ``SITEMAP_SAVE_AS`` (default ``"sitemap.xml"``) and ``ROBOTS_SAVE_AS`` (default
``"robots.txt"``); ``None`` turns either file off.
"""

from __future__ import annotations

import datetime
import logging
import os
from pathlib import Path
from typing import Any

from lxml import etree
from pelican import signals

from .unlisted import drop_unlisted

log = logging.getLogger(__name__)

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
_collected: list[Any] = []  # (articles, pages) of the current build, set per run


def base_url(settings: dict[str, Any]) -> str:
    """The absolute site root without a trailing slash ("" when none can be known)."""
    siteurl = (settings.get("SITEURL") or "").rstrip("/")
    if siteurl.startswith(("https://", "http://")):
        return siteurl
    domain = (settings.get("FEED_DOMAIN") or "").rstrip("/")
    return domain + siteurl if domain else siteurl


def _is_file_mtime(content: Any, value: datetime.datetime) -> bool:
    """Whether value is the source file's mtime (what DEFAULT_DATE = "fs" puts in
    ``modified``): a fresh clone would make every page look changed today."""
    try:
        mtime = datetime.datetime.fromtimestamp(os.stat(content.source_path).st_mtime)
    except (AttributeError, OSError, TypeError):
        return False
    return value.replace(tzinfo=None) == mtime


def lastmod(content: Any) -> datetime.datetime | None:
    """When the content last changed, as it says itself: Modified, else Date (a
    ``modified`` that is only the file's mtime does not count)."""
    modified = getattr(content, "modified", None)
    if modified is not None and _is_file_mtime(content, modified):
        modified = None
    return modified or getattr(content, "date", None)


def w3c_datetime(value: datetime.datetime | datetime.date) -> str:
    """The W3C datetime form sitemaps use: seconds, and the zone when known."""
    if isinstance(value, datetime.datetime):
        return value.isoformat(timespec="seconds")
    return value.isoformat()


def sitemap_entries(
    base: str, articles: list[Any], pages: list[Any]
) -> list[tuple[str, datetime.datetime | None]]:
    """(absolute URL, lastmod) for the home page, then posts newest first, then pages: only
    published content (drafts and hidden posts and pages are never listed)."""
    published = [a for a in articles if getattr(a, "status", "published") == "published"]
    dates = [d for d in (lastmod(a) for a in published) if d is not None]
    entries = [(base + "/", max(dates) if dates else None)]
    posts = sorted(published, key=lambda a: a.date, reverse=True)
    entries += [(f"{base}/{a.url}", lastmod(a)) for a in posts]
    entries += [
        (f"{base}/{p.url}", lastmod(p))
        for p in sorted(pages, key=lambda p: p.url)
        if getattr(p, "status", "published") == "published"
    ]
    return entries


def sitemap_xml(entries: list[tuple[str, datetime.datetime | None]]) -> bytes:
    urlset = etree.Element(f"{{{SITEMAP_NS}}}urlset", nsmap={None: SITEMAP_NS})
    for loc, modified in entries:
        url = etree.SubElement(urlset, f"{{{SITEMAP_NS}}}url")
        etree.SubElement(url, f"{{{SITEMAP_NS}}}loc").text = loc
        if modified is not None:
            etree.SubElement(url, f"{{{SITEMAP_NS}}}lastmod").text = w3c_datetime(modified)
    return etree.tostring(urlset, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def robots_txt(sitemap_url: str | None) -> str:
    lines = ["User-agent: *", "Allow: /"]
    if sitemap_url:
        lines += ["", f"Sitemap: {sitemap_url}"]
    return "\n".join(lines) + "\n"


def _collect(generators: list[Any]) -> None:
    articles: list[Any] = []
    pages: list[Any] = []
    for generator in generators:
        articles += list(getattr(generator, "articles", []) or [])
        pages += list(getattr(generator, "pages", []) or [])
    _collected[:] = [articles, pages]


def _write(pelican: Any) -> None:
    settings = pelican.settings
    output = Path(pelican.output_path)
    base = base_url(settings)
    articles, pages = _collected or ([], [])
    sitemap_as = settings.get("SITEMAP_SAVE_AS", "sitemap.xml")
    robots_as = settings.get("ROBOTS_SAVE_AS", "robots.txt")
    sitemap_url = None
    if sitemap_as:
        path = output / sitemap_as
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(sitemap_xml(sitemap_entries(base, articles, pages)))
        sitemap_url = f"{base}/{sitemap_as}" if base.startswith("http") else None
        log.info("sitefiles: wrote %s", path)
    if robots_as:
        path = output / robots_as
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(robots_txt(sitemap_url), encoding="utf-8")
    _collected.clear()


def register() -> None:
    signals.article_generator_finalized.connect(drop_unlisted)
    signals.page_generator_finalized.connect(drop_unlisted)
    signals.all_generators_finalized.connect(_collect)
    signals.finalized.connect(_write)
