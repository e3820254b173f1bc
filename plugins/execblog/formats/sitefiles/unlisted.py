"""Drafts and hidden content: written for preview in development, left out of a publish.

A post or page with ``Status: draft`` or ``Status: hidden`` is unlisted: Pelican leaves it
off the home page, lists, tags and feeds, but still writes its page (``drafts/SLUG.html``
for a draft, its usual URL for a hidden one). ``WRITE_DRAFTS`` and ``WRITE_HIDDEN`` (default
True, Pelican's own behaviour; publishconf.py sets both False) say whether it is written at
all. When one is False, the generators drop that content once they have read it (at
``article_generator_finalized`` / ``page_generator_finalized``, before anything is
rendered or written): no page, no figure or notebook of its fences, nothing for another
plugin to find. (A hidden page saved as the site's 404 page is the exception: it is written
all the same.) Its fences still run (their results are reported) and a published page that
links to it keeps the link, which then leads nowhere.

Whether written or not, unlisted content is never in the sitemap (sitefiles lists
published content only) nor in the search index (searchkit indexes no unlisted page).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from typing import Any

# status -> (setting, the generators' lists that hold content of that status: articles, then
# pages; the two generators each have their own hidden_translations)
UNLISTED: dict[str, tuple[str, tuple[str, ...]]] = {
    "draft": ("WRITE_DRAFTS", ("drafts", "drafts_translations", "draft_pages",
                               "draft_translations")),
    "hidden": ("WRITE_HIDDEN", ("hidden_articles", "hidden_translations", "hidden_pages")),
}
UNLISTED_LISTS = tuple(name for _, names in UNLISTED.values() for name in names)


def writes(settings: dict[str, Any], status: str) -> bool:
    """Whether content of this status ("draft" or "hidden") is written to the output."""
    return bool(settings.get(UNLISTED[status][0], True))


def unlisted_objects(generators: Iterable[Any]) -> list[Any]:
    """The draft and hidden posts and pages (translations too) the generators still hold."""
    found: dict[int, Any] = {}
    for generator in generators:
        for name in UNLISTED_LISTS:
            for obj in getattr(generator, name, None) or []:
                found.setdefault(id(obj), obj)
    return list(found.values())


def save_as_paths(objects: Iterable[Any]) -> set[str]:
    """The output paths (``posts/x/index.html``, "/"-separated) the objects are written to."""
    paths = set()
    for obj in objects:
        save_as = str(getattr(obj, "save_as", "") or "").replace("\\", "/")
        if save_as:
            paths.add(posixpath.normpath(save_as).lstrip("/"))
    return paths


def error_page_path(settings: dict[str, Any]) -> str:
    """Where the site's 404 page goes ("404.html" unless 404_SAVE_AS says otherwise)."""
    return posixpath.normpath(str(settings.get("404_SAVE_AS") or "404.html")).lstrip("/")


def _kept(items: list[Any], status: str, settings: dict[str, Any]) -> list[Any]:
    """What is written whatever WRITE_HIDDEN says: a hidden page saved as the site's 404
    page (Pelican's own recipe for one: ``Status: hidden``, ``Save_as: 404.html``)."""
    if status != "hidden":
        return []
    error_page = error_page_path(settings)
    return [item for item in items if save_as_paths([item]) == {error_page}]


def drop_unlisted(generator: Any) -> None:
    """Empty the generator's lists of the statuses whose WRITE_* setting is False (but for
    a hidden 404 page)."""
    dropped: dict[str, int] = {}
    for status, (_, names) in UNLISTED.items():
        if writes(generator.settings, status):
            continue
        for name in names:
            held = getattr(generator, name, None)
            if not held:
                continue
            kept = _kept(held, status, generator.settings)
            if len(kept) == len(held):
                continue
            dropped[status] = dropped.get(status, 0) + len(held) - len(kept)
            setattr(generator, name, kept)
            if name in generator.context:
                generator.context[name] = kept
    kind = "post(s)" if hasattr(generator, "drafts") else "page(s)"
    for status, count in dropped.items():  # a line in the build log, like Pelican's "Done:"
        print(f"sitefiles: left out {count} {status} {kind} ({UNLISTED[status][0]} is False)",
              flush=True)
