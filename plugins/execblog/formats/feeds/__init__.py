"""feedkit: make Pelican's Atom/RSS entries self-contained for feed readers.

Connected to ``feed_generated`` (items are added, the file is not yet written), it rewrites
each entry's content and summary: TeX from pelican-render-math becomes MathML, scripts and
event handlers go, outputs follow the role their HTML declares (``data-feed``: see
``roles``), heading permalinks ("#") go, a table cell's alignment is spelt both as a style
and as an attribute (``tables``), every link and image URL is made absolute, and XML-illegal
characters are stripped from every text field of the feed and its items.

Absolute in every build: URLs start with the site's absolute root (``urls.site_root``:
SITEURL when it is absolute, as in publishconf; else FEED_DOMAIN, as in pelicanconf). Where
SITEURL is not absolute (development), Pelican writes entry links, the feed's link and its
intra-site URLs (``{static}``, ``{filename}``, the fences' figures) relative to the site root
and ids as ``tag:None,...``: each entry's link becomes absolute and its id
``tag:HOST,DATE:/path``, its content is the post's content with the intra-site URLs resolved
against the root, and a summary's intra-site URLs are mapped likewise. Other relative URLs
(the author's ``images/x.png``, ``#sec``) resolve against the entry's absolute link. With
neither an absolute SITEURL nor FEED_DOMAIN, one warning says so and URLs stay as written.

Connected to ``article_generator_finalized`` (before any feed is written), it replaces a
``modified`` that Pelican took from the file's mtime (``DEFAULT_DATE = "fs"``) with the
post's ``Date`` or the file's last git commit date, so ``updated`` in feeds is honest (see
``dates``).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from feedgenerator import get_tag_uri
from feedgenerator.django.utils.encoding import iri_to_uri
from pelican import signals

from .dates import fix_article_dates
from .headings import permalink_class
from .rewrite import EntryRewriter
from .urls import site_absolute, site_links, site_root
from .xmlchars import clean_fields

log = logging.getLogger(__name__)

_HTML_FIELDS = ("content", "description")
_SUMMARY_SOURCE = "_feedkit_summary_source"  # a post's Summary: before Pelican resolved it
_state: dict[str, Any] = {}


def _start(pelican: Any) -> None:
    """One rewriter (and so one math cache) per Pelican run, also under autoreload."""
    math_class = (pelican.settings.get("MATH_JAX") or {}).get("math_tag_class", "math")
    _state["rewriter"] = EntryRewriter(math_class, permalink_class(pelican.settings))
    _state["warned"] = False


def _keep_summary_source(content: Any) -> None:
    """content_object_init receiver: keep a ``Summary:`` as read (``{static}`` links not
    yet resolved), so feeds can resolve its intra-site links against the absolute root."""
    summary = getattr(content, "metadata", {}).get("summary")
    if isinstance(summary, str) and "{" in summary:
        setattr(content, _SUMMARY_SOURCE, summary)


def _base_for(link: str) -> str:
    """The URL that entry URLs resolve against, or "" to leave them alone.

    With an absolute site root, entry links are absolute. Without one (neither SITEURL nor
    FEED_DOMAIN absolute), Pelican writes links like "posts/x/" and intra-site URLs
    relative to the site root ("images/x.png"), indistinguishable from page-relative ones:
    keep them as is.
    """
    return link if urlsplit(link).scheme or link.startswith("/") else ""


def _warn_once(context: Any) -> None:
    if _state.get("warned"):
        return
    _state["warned"] = True
    log.warning(
        "feedkit: warning: neither FEED_DOMAIN (%r) nor SITEURL (%r) is an absolute http(s) "
        "URL: feed links, images and entry ids are left relative as Pelican wrote them (set "
        "FEED_DOMAIN, e.g. \"http://localhost:8000\", or an absolute SITEURL)",
        context.get("FEED_DOMAIN"), context.get("SITEURL"))


def _posts_by_link(context: Any, siteurl: str) -> dict[str, Any]:
    """The feeds' posts (and their translations) by their link as Pelican wrote it,
    relative to the site: "posts/x/"."""
    posts: dict[str, Any] = {}
    for article in context.get("articles") or ():
        for post in (article, *getattr(article, "translations", ())):
            url = getattr(post, "url", None)
            if isinstance(url, str):
                posts.setdefault(_site_path(iri_to_uri(url), siteurl), post)
    return posts


def _site_path(link: str, siteurl: str) -> str:
    link = link.split("?", 1)[0]  # FEED_APPEND_REF's "?ref=feed"
    siteurl = siteurl.rstrip("/")
    if siteurl and (link == siteurl or link.startswith(siteurl + "/")):
        link = link[len(siteurl):]
    return link.lstrip("/")


def _absolute_fields(context: Any, feed: Any, root: str) -> None:
    """The feed's own link, id and URL made absolute under root."""
    siteurl = str(context.get("SITEURL") or "")
    for key in ("link", "feed_url"):
        value = feed.feed.get(key)
        if value and not urlsplit(value).scheme:
            absolute = site_absolute(value, root, siteurl)
            if feed.feed.get("id") == value:
                feed.feed["id"] = absolute
            feed.feed[key] = absolute


def _absolute_entry(item: dict[str, Any], post: Any, root: str, siteurl: str
                    ) -> dict[str, dict[str, str]]:
    """Make an entry's link and id absolute, and its content's intra-site URLs absolute
    under root; return, per HTML field still to map, the intra-site links written relative
    to the site root ({as written: absolute})."""
    link = item.get("link") or ""
    absolute = site_absolute(link, root, siteurl)
    if absolute == link:
        return {}  # Pelican wrote absolute URLs (an absolute SITEURL)
    item["link"] = absolute
    uid = item.get("unique_id")
    if uid is None or uid.startswith("tag:None,") or uid == get_tag_uri(
            link, item.get("pubdate")):
        item["unique_id"] = get_tag_uri(absolute, getattr(post, "date", None)
                                        or item.get("pubdate"))
    if post is None:
        return {}
    written = post.get_content(siteurl)
    resolved = post.get_content(root)
    links = site_links(written, resolved)
    source = getattr(post, _SUMMARY_SOURCE, None)
    if source is not None:
        try:
            links.update(site_links(post._update_content(source, siteurl),
                                    post._update_content(source, root)))
        except Exception:  # noqa: BLE001 - Pelican's internals moved: content links remain
            pass
    mapped = {}
    for field in _HTML_FIELDS:
        if item.get(field) == written:
            item[field] = resolved  # exact: the post's content resolved against the root
        elif item.get(field):
            mapped[field] = links  # a summary: cut from the content, or the Summary: field
    return mapped


def rewrite_feed(context: Any, feed: Any) -> None:
    """feed_generated receiver."""
    rewriter = _state.get("rewriter") or _state.setdefault("rewriter", EntryRewriter())
    clean_fields(feed.feed)
    root = site_root(context)
    siteurl = str(context.get("SITEURL") or "")
    if root:
        _absolute_fields(context, feed, root)
        posts = _posts_by_link(context, siteurl)
    else:
        _warn_once(context)
        posts = {}
    for item in feed.items:
        clean_fields(item)
        links: dict[str, dict[str, str]] = {}
        if root:
            post = posts.get(_site_path(item.get("link") or "", siteurl))
            links = _absolute_entry(item, post, root, siteurl)
        base = _base_for(item.get("link") or "")
        for field in _HTML_FIELDS:
            if item.get(field):
                item[field] = rewriter(str(item[field]), base, links.get(field))


def register() -> None:
    signals.initialized.connect(_start)
    signals.content_object_init.connect(_keep_summary_source)
    signals.article_generator_finalized.connect(fix_article_dates)
    signals.feed_generated.connect(rewrite_feed)
