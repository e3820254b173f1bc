"""sitefiles: sitemap.xml and robots.txt, written once the site is built; drafts and hidden
content left out of publish builds; the blog's own files kept.

The sitemap lists the home page, every published post and every published page, each with
an absolute URL and a ``lastmod`` taken from the content itself (its ``Modified:``, else its
``Date:``; the home page takes the newest post's), never the build time: the same content
gives the same bytes. Translations (``Lang:``) are listed too, each post's versions naming
each other as ``<xhtml:link rel="alternate" hreflang=...>``. Drafts and hidden posts and
pages (``Status: draft`` / ``hidden``) are never in it. robots.txt allows everything and
names the sitemap.

``owned``: what the blog already has wins. Its own robots.txt (a static file written there,
e.g. with EXTRA_PATH_METADATA, or simply ``content/extra/robots.txt``), its own sitemap (a
sitemap plugin, or a file at SITEMAP_SAVE_AS) and its own 404 page (a page or static file at
404_SAVE_AS) are kept, with one line in the build log each; the theme's 404 template is then
not rendered (nor when the theme has none).

``unlisted`` (``WRITE_DRAFTS``, ``WRITE_HIDDEN``): whether drafts and hidden content are
written at all; publishconf.py sets both False, so a publish leaves them out.

URLs start with SITEURL when it is absolute (publishconf); in development, where SITEURL is
relative, with FEED_DOMAIN (``invoke serve``), the base the development feeds use. With
neither, no sitemap is written (its URLs must be absolute), and the build log says so.

Settings: ``SITEMAP_SAVE_AS`` (default ``"sitemap.xml"``) and ``ROBOTS_SAVE_AS`` (default
``"robots.txt"``); ``None`` turns either file off.
"""

from __future__ import annotations

import datetime
import shutil
import time
from pathlib import Path
from typing import Any, NamedTuple

from lxml import etree
from pelican import signals

from .dates import lastmod, w3c_datetime
from .owned import (
    blog_outputs,
    keep_or_drop_direct_template,
    plugin_named,
    restore_direct_templates,
    say,
    written_since,
)
from .unlisted import drop_unlisted

__all__ = ["SitemapEntry", "base_url", "lastmod", "robots_txt", "sitemap_entries",
           "sitemap_xml", "w3c_datetime"]

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"
# A robots.txt dropped in content/extra/ (STATIC_PATHS has "extra") is the site's, at the root.
EXTRA_ROBOTS = "extra/robots.txt"


class SitemapEntry(NamedTuple):
    loc: str
    lastmod: datetime.datetime | None
    alternates: tuple[tuple[str, str], ...] = ()  # (hreflang, absolute URL), itself included


class _Build:
    """What the current build's generators hold, for the finalized signal."""

    articles: list[Any] = []
    pages: list[Any] = []
    outputs: dict[str, str] = {}
    start_ns: int = 0


def base_url(settings: dict[str, Any]) -> str:
    """The absolute site root without a trailing slash ("" when none can be known)."""
    siteurl = (settings.get("SITEURL") or "").rstrip("/")
    if siteurl.startswith(("https://", "http://")):
        return siteurl
    domain = (settings.get("FEED_DOMAIN") or "").rstrip("/")
    return domain + siteurl if domain else siteurl


def _published(items: list[Any]) -> list[Any]:
    return [i for i in items if getattr(i, "status", "published") == "published"]


def _entry(base: str, item: Any) -> SitemapEntry:
    """An item's entry; with translations, every version (itself too) as an alternate."""
    versions = [item, *_published(list(getattr(item, "translations", None) or []))]
    alternates = ()
    if len(versions) > 1:
        alternates = tuple(sorted((v.lang, f"{base}/{v.url}") for v in versions))
    return SitemapEntry(f"{base}/{item.url}", lastmod(item), alternates)


def _with_translations(items: list[Any]) -> list[Any]:
    """Each item followed by its published translations (each once)."""
    seen: set[int] = set()
    ordered = []
    for item in items:
        for version in (item, *_published(list(getattr(item, "translations", None) or []))):
            if id(version) not in seen:
                seen.add(id(version))
                ordered.append(version)
    return ordered


def sitemap_entries(base: str, articles: list[Any], pages: list[Any]) -> list[SitemapEntry]:
    """Entries for the home page, then posts newest first, then pages, each followed by its
    translations: only published content (drafts and hidden posts and pages never)."""
    published = _published(articles)
    dates = [d for d in (lastmod(a) for a in published) if d is not None]
    entries = [SitemapEntry(base + "/", max(dates) if dates else None)]
    posts = sorted(published, key=lambda a: a.date, reverse=True)
    entries += [_entry(base, a) for a in _with_translations(posts)]
    listed = sorted(_published(pages), key=lambda p: p.url)
    entries += [_entry(base, p) for p in _with_translations(listed)]
    return entries


def sitemap_xml(entries: list[SitemapEntry]) -> bytes:
    urlset = etree.Element(f"{{{SITEMAP_NS}}}urlset",
                           nsmap={None: SITEMAP_NS, "xhtml": XHTML_NS})
    for entry in entries:
        url = etree.SubElement(urlset, f"{{{SITEMAP_NS}}}url")
        etree.SubElement(url, f"{{{SITEMAP_NS}}}loc").text = entry.loc
        if entry.lastmod is not None:
            etree.SubElement(url, f"{{{SITEMAP_NS}}}lastmod").text = w3c_datetime(entry.lastmod)
        for lang, href in entry.alternates:
            etree.SubElement(url, f"{{{XHTML_NS}}}link", rel="alternate", hreflang=lang,
                             href=href)
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
        if hasattr(generator, "articles"):
            articles += list(generator.articles or [])
        elif hasattr(generator, "pages"):
            pages += list(generator.pages or [])
    _Build.articles, _Build.pages = articles, pages
    _Build.outputs = blog_outputs(generators, generators[0].settings) if generators else {}
    _Build.start_ns = time.time_ns()
    keep_or_drop_direct_template(generators, "404", "404 page", "sitefiles")


def blogs_own(path: str, output: Path, what: str) -> str | None:
    """What of the blog's own is at path (its source, or "written by another plugin"), or
    None: then Execblog may write there."""
    if path in _Build.outputs:
        return _Build.outputs[path]
    if written_since(output / path, _Build.start_ns):
        return f"written by another plugin ({what})"
    return None


def _write_sitemap(settings: dict[str, Any], output: Path, base: str) -> None:
    sitemap_as = settings.get("SITEMAP_SAVE_AS", "sitemap.xml")
    if not sitemap_as:
        return
    own = plugin_named(settings, "sitemap") or blogs_own(sitemap_as, output, "sitemap")
    if own:
        say(f"sitefiles: the blog's own sitemap ({own}) is kept; Execblog's is not written")
        return
    if not base.startswith(("https://", "http://")):
        say(f"sitefiles: no {sitemap_as}: a sitemap needs absolute URLs, and neither SITEURL "
            "nor FEED_DOMAIN is one (an absolute SITEURL in publishconf.py makes it)")
        return
    path = output / sitemap_as
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(sitemap_xml(sitemap_entries(base, _Build.articles, _Build.pages)))


def _write_robots(settings: dict[str, Any], output: Path, base: str) -> None:
    robots_as = settings.get("ROBOTS_SAVE_AS", "robots.txt")
    if not robots_as:
        return
    path = output / robots_as
    own = blogs_own(robots_as, output, "robots.txt")
    if own:
        say(f"sitefiles: the blog's own robots.txt ({own}) is kept; Execblog's is not written")
        return
    extra = next((out for out, src in _Build.outputs.items() if src == EXTRA_ROBOTS), None)
    if extra and (output / extra).is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(output / extra, path)
        say(f"sitefiles: the blog's own robots.txt ({EXTRA_ROBOTS}) is written to {robots_as}; "
            "Execblog's is not")
        return
    sitemap_as = settings.get("SITEMAP_SAVE_AS", "sitemap.xml")
    sitemap_url = None
    if sitemap_as and base.startswith("http") and (output / sitemap_as).is_file():
        sitemap_url = f"{base}/{sitemap_as}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(robots_txt(sitemap_url), encoding="utf-8")


def _write(pelican: Any) -> None:
    settings = pelican.settings
    output = Path(pelican.output_path)
    base = base_url(settings)
    _write_sitemap(settings, output, base)
    _write_robots(settings, output, base)
    _Build.articles, _Build.pages, _Build.outputs = [], [], {}
    restore_direct_templates()


def register() -> None:
    signals.article_generator_finalized.connect(drop_unlisted)
    signals.page_generator_finalized.connect(drop_unlisted)
    signals.all_generators_finalized.connect(_collect)
    signals.finalized.connect(_write)
