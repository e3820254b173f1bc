"""Cross-post references: ``@post:slug`` links to another post, with its title as the text.

``See @post:power-iteration`` becomes ``See <a class="xref-post" href="{filename}/posts/
power-iteration.md">Power iteration in ten lines</a>``: the href is Pelican's own intrasite
link to the post's source, so Pelican writes the URL as it writes every ``{filename}`` link
(relative or under ``SITEURL``; absolute in feeds). A Pelican link written with no text,
``[]({filename}other.md)``, gets the linked post's title. Any article or page (drafts and
hidden ones too) is found by its slug; where translations share one, the one in the
post's language wins. An unknown slug stays as written and is a located warning (an error
in strict builds), with the nearest slug as a hint. Titles with TeX read as text
(``execblog.markdown.math.captions``), as they do everywhere.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable
from html import unescape
from typing import Any

from bs4 import BeautifulSoup, Comment

from .core import Problem, _skipped, put_back, set_aside

POST_PREFIX = "post"
# A slug as Pelican's slugify makes them (letters, digits, "-", "_"; "." inside), not after
# a word character, "@", "." or "-" (an address is no reference), and no trailing ".".
_REF = re.compile(rf"(?<![\w@.+-])@{POST_PREFIX}:(\w(?:[\w.-]*\w)?)")
_EMPTY_LINK = re.compile(r"""<a\b[^>]*\bhref=["']\{filename\}[^>]*>\s*</a>""")
NEEDS = re.compile(rf"@{POST_PREFIX}:|{_EMPTY_LINK.pattern}")
_PUBLISHED = "published"


def _title(obj: Any) -> str:
    from execblog.markdown.math.captions import plain_text

    return plain_text(str(getattr(obj, "title", "") or getattr(obj, "slug", "")))


class PostIndex:
    """Every article and page of the site, by slug and by source path."""

    def __init__(self, objects: Iterable[Any]):
        self.by_slug: dict[str, list[Any]] = {}
        self.by_path: dict[str, Any] = {}
        for obj in objects:
            relative = _relative(obj)
            if not relative:
                continue
            self.by_path[relative] = obj
            slug = getattr(obj, "slug", None)
            if slug:
                self.by_slug.setdefault(str(slug), []).append(obj)

    def find(self, slug: str, lang: str | None) -> Any | None:
        found = self.by_slug.get(slug) or []
        for wanted in (lambda o: getattr(o, "lang", None) == lang and _published(o),
                       _published, lambda o: getattr(o, "lang", None) == lang):
            match = next((o for o in found if wanted(o)), None)
            if match is not None:
                return match
        return found[0] if found else None

    def linked(self, post: Any, target: str) -> Any | None:
        """The content a ``{filename}`` target names, as Pelican finds it."""
        path = unescape(target).split("#", 1)[0].split("?", 1)[0]
        if path.startswith("/"):
            key = path[1:]
        else:
            relative = getattr(post, "get_relative_source_path", None)
            if relative is None:
                return None
            key = relative(os.path.join(getattr(post, "relative_dir", ""), path))
        return self.by_path.get(key or "")


def _relative(obj: Any) -> str | None:
    method = getattr(obj, "get_relative_source_path", None)
    try:
        return method() if method is not None else None
    except (TypeError, ValueError, KeyError):  # no settings, no source path
        return None


def _published(obj: Any) -> bool:
    return str(getattr(obj, "status", _PUBLISHED) or _PUBLISHED).lower() == _PUBLISHED


def _unknown(slug: str, index: PostIndex) -> str:
    close = difflib.get_close_matches(slug, list(index.by_slug), n=1, cutoff=0.6)
    hint = f"; did you mean @{POST_PREFIX}:{close[0]}?" if close else ""
    return f"unknown post @{POST_PREFIX}:{slug}: no post or page has that slug{hint}"


def link_posts(html: str, post: Any, index: PostIndex) -> tuple[str, list[Problem]]:
    """``html`` with its cross-post references linked, and the problems found."""
    if not NEEDS.search(html):
        return html, []
    text, kept = set_aside(html)
    soup = BeautifulSoup(text, "html.parser")
    problems: list[Problem] = []
    changed = False
    lang = getattr(post, "lang", None)
    for node in list(soup.find_all(string=_REF)):
        if isinstance(node, Comment) or _skipped(node):
            continue
        pieces: list[Any] = []
        pos = 0
        value = str(node)
        for match in _REF.finditer(value):
            target = index.find(match[1], lang)
            if target is None:
                problems.append(Problem(f"{POST_PREFIX}:{match[1]}", _unknown(match[1], index)))
                continue
            link = soup.new_tag("a", attrs={
                "class": "xref-post", "href": "{filename}/" + _relative(target)})
            link.string = _title(target)
            pieces += [value[pos:match.start()], link]
            pos = match.end()
        if pieces:
            pieces.append(value[pos:])
            node.replace_with(*[p for p in pieces if not isinstance(p, str) or p])
            changed = True
    for anchor in soup.find_all("a", href=re.compile(r"^\{filename\}")):
        if anchor.get_text().strip() or anchor.find(True):
            continue
        target = index.linked(post, str(anchor["href"])[len("{filename}"):])
        if target is not None:
            anchor.string = _title(target)
            changed = True
    if not changed:
        return html, problems
    return put_back(str(soup), kept), problems


__all__ = ["NEEDS", "POST_PREFIX", "PostIndex", "link_posts"]
