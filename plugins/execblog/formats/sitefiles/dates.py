"""When content says it changed: the author's ``Modified:``, never a file's mtime.

With ``DEFAULT_DATE = "fs"`` Pelican fills ``modified`` of every post from its file's mtime
(a fresh clone would make every post look changed today), so only a ``modified`` that
differs from that mtime counts as the author's. The sitemap's ``lastmod``, the theme's
"Updated" line and its ``article:modified_time`` all read it from here.
"""

from __future__ import annotations

import datetime
import os
from typing import Any


def _is_file_mtime(content: Any, value: datetime.datetime) -> bool:
    """Whether value is the source file's mtime (what DEFAULT_DATE = "fs" puts there)."""
    try:
        mtime = datetime.datetime.fromtimestamp(os.stat(content.source_path).st_mtime)
    except (AttributeError, OSError, TypeError):
        return False
    return value.replace(tzinfo=None) == mtime


def authored_modified(content: Any) -> datetime.datetime | None:
    """The content's ``Modified:`` as its author wrote it, else None."""
    modified = getattr(content, "modified", None)
    if not isinstance(modified, datetime.datetime) or _is_file_mtime(content, modified):
        return None
    return modified


def updated(content: Any) -> datetime.datetime | None:
    """The authored ``Modified:`` when it is later than the content's ``Date:`` (what a
    reader is told as "Updated"), else None. A date that is only the file's mtime (a page
    without ``Date:``) does not count."""
    modified = authored_modified(content)
    date = getattr(content, "date", None)
    if (modified is None or not isinstance(date, datetime.datetime)
            or _is_file_mtime(content, date)):
        return modified
    try:
        return modified if modified > date else None
    except TypeError:  # one has a zone and the other not
        return modified if modified.replace(tzinfo=None) > date.replace(tzinfo=None) else None


def lastmod(content: Any) -> datetime.datetime | None:
    """When the content last changed, as it says itself: Modified, else Date."""
    return authored_modified(content) or getattr(content, "date", None)


def w3c_datetime(value: datetime.datetime | datetime.date) -> str:
    """The W3C datetime form sitemaps use: seconds, and the zone when known."""
    if isinstance(value, datetime.datetime):
        return value.isoformat(timespec="seconds")
    return value.isoformat()
