"""Filters for Pelican features the theme shows: the "Updated" date, whether the blog uses
categories, a translation's language by name, and list pages' URLs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from execblog.formats.sitefiles.dates import updated

__all__ = ["categories_in_use", "directory_url", "language_name", "updated"]

# Languages named in themselves (the way a reader looks for theirs); others show their code.
AUTONYMS = {
    "ar": "العربية", "ca": "Català", "cs": "Čeština", "da": "Dansk", "de": "Deutsch",
    "el": "Ελληνικά", "en": "English", "eo": "Esperanto", "es": "Español", "fa": "فارسی",
    "fi": "Suomi", "fr": "Français", "he": "עברית", "hi": "हिन्दी", "hu": "Magyar",
    "id": "Bahasa Indonesia", "it": "Italiano", "ja": "日本語", "ko": "한국어",
    "nl": "Nederlands", "no": "Norsk", "pl": "Polski", "pt": "Português", "ro": "Română",
    "ru": "Русский", "sv": "Svenska", "tr": "Türkçe", "uk": "Українська", "vi": "Tiếng Việt",
    "zh": "中文",
}


def language_name(code: str | None) -> str:
    """"fr" -> "Français"; "pt-BR" -> "Português (BR)"; an unknown code as it is."""
    code = (code or "").strip()
    base, _, region = code.replace("_", "-").partition("-")
    name = AUTONYMS.get(base.lower())
    if name is None:
        return code
    return f"{name} ({region.upper()})" if region else name


def categories_in_use(categories: Iterable[Any] | None, default: str | None) -> bool:
    """Whether the blog sorts its posts into categories: more than one, or one that is not
    DEFAULT_CATEGORY (everything in the default category is no categorisation at all).
    ``categories`` is Pelican's context list of (category, posts)."""
    names = [entry[0] if isinstance(entry, tuple) else entry for entry in categories or ()]
    if len(names) > 1:
        return True
    return bool(names) and names[0] != (default or "")


def directory_url(url: str | None) -> str:
    """A page's URL as the site links it: "tags/x/index.html" -> "tags/x/" (Pelican's
    default PAGINATION_PATTERNS name a list's first page by its file)."""
    url = url or ""
    if url == "index.html" or url.endswith("/index.html"):
        return url[: -len("index.html")]
    return url
